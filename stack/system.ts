import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

export const hasCommand = (tool: string) => spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0;

/** Installs Debian packages when we are root on a Debian-like system; false when we cannot. */
export function aptInstall(packages: string[], purpose: string): boolean {
  if (process.getuid?.() !== 0 || !existsSync("/usr/bin/apt-get")) return false;
  console.log(
    `${purpose}: installing the Debian package${packages.length > 1 ? "s" : ""} ${packages.join(", ")} (once)…`,
  );
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
  execFileSync("apt-get", ["install", "-y", "-qq", ...packages], { stdio: "inherit", env });
  return true;
}
