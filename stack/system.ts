import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const hasCommand = (tool: string) => spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0;

/**
 * A command's path: in the first of `dirs` that has it (Debian puts servers in /usr/sbin, which is not on
 * every user's PATH), else on the PATH; undefined when there is none.
 */
export function commandPath(name: string, dirs = ["/usr/sbin", "/usr/bin"]): string | undefined {
  for (const dir of dirs) if (existsSync(join(dir, name))) return join(dir, name);
  const onPath = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).stdout.trim();
  return onPath || undefined;
}

/**
 * Installs Debian packages when we are root on a Debian-like system; false when we cannot. The packages'
 * scripts may not start their services (a system-wide Prometheus on :9090, a cluster on :5432): the
 * stack starts what it needs itself, on loopback and its own ports, so a `policy-rc.d` refuses them.
 */
export function aptInstall(packages: string[], purpose: string): boolean {
  if (process.getuid?.() !== 0 || !existsSync("/usr/bin/apt-get")) return false;
  console.log(
    `${purpose}: installing the Debian package${packages.length > 1 ? "s" : ""} ${packages.join(", ")} (once)…`,
  );
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const policy = "/usr/sbin/policy-rc.d";
  const ours = !existsSync(policy);
  if (ours) {
    writeFileSync(policy, "#!/bin/sh\n# ingest-graph: no service starts while it installs packages\nexit 101\n");
    chmodSync(policy, 0o755);
  }
  try {
    execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
    execFileSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...packages], {
      stdio: "inherit",
      env,
    });
  } finally {
    if (ours) rmSync(policy, { force: true });
  }
  return true;
}

/**
 * Prometheus' `promtool` (Debian's `prometheus` package), installed when missing, to check the metrics
 * exposition; the package's server is never started. Undefined when it cannot be had.
 */
export function promtool(): string | undefined {
  if (!hasCommand("promtool")) aptInstall(["prometheus"], "promtool");
  return hasCommand("promtool") ? "promtool" : undefined;
}

/** Debian's Chromium, where the browser tests and the UI bench find it. */
export const chromiumPath = "/usr/bin/chromium";

/**
 * Debian's `chromium`, installed when missing (never a browser download of Playwright's), for the UI's
 * browser tests and bench; undefined when it cannot be had.
 */
export function chromium(): string | undefined {
  if (!existsSync(chromiumPath)) aptInstall(["chromium"], "browser tests");
  return existsSync(chromiumPath) ? chromiumPath : undefined;
}
