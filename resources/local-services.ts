import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { stateDir } from "./settings.ts";

/**
 * Which servers of the local stack run: `ingest stack up` writes a pid file for each server it starts
 * (`<state>/run/<name>.pid`). Read here, beside the settings, so code outside `stack/` (the tracer
 * finding the stack's Jaeger, say) need not load the stack.
 */

/** The pid file of a server `stack up` started. */
export const pidFile = (name: string): string => join(stateDir, "run", `${name}.pid`);

/** Whether a process of this pid runs (one of another user's counts). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The pid of a server `stack up` started and that is still running, if any. */
export function runningPid(name: string): number | undefined {
  const file = pidFile(name);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, "utf8").split("\n")[0]);
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
}
