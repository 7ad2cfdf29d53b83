import { spawnSync } from "node:child_process";

/** Runs Maven quietly; its output is shown only when it fails. */
export function runMaven(args: string[]): void {
  const result = spawnSync("mvn", ["-q", "-B", ...args], { encoding: "utf8" });
  if (result.error) throw new Error(`could not run Maven: ${result.error.message}`);
  if (result.status !== 0) {
    throw new Error(
      `mvn ${args.join(" ")} failed (exit ${result.status}):\n${
        `${result.stdout}\n${result.stderr}`.trim().split("\n").slice(-40).join("\n")
      }`,
    );
  }
}
