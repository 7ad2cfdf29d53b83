import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { rmSync } from "node:fs";
import { createServer } from "node:net";

/** A port nobody listens on now, on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once("error", reject).listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Running throwaway servers (a benchmark's or a test's own Neo4j or Chroma) and their homes. */
const throwaways = new Map<ChildProcess, string>();
let reaperInstalled = false;

/** A throwaway server must not outlive the process that started it, whatever way that process ends. */
function installReaper(): void {
  if (reaperInstalled) return;
  reaperInstalled = true;
  const reap = () => {
    for (const [child, home] of throwaways) {
      child.kill("SIGKILL");
      rmSync(home, { recursive: true, force: true });
    }
  };
  process.once("exit", reap);
  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143], ["SIGHUP", 129]] as const) {
    process.once(signal, () => {
      reap();
      process.exit(code);
    });
  }
}

/** Kills `child` and deletes `home` if this process ends before `untrackThrowaway`. */
export function trackThrowaway(child: ChildProcess, home: string): void {
  installReaper();
  throwaways.set(child, home);
}

export function untrackThrowaway(child: ChildProcess): void {
  throwaways.delete(child);
}

/**
 * Stops a throwaway server: `signal` (its clean and quick shutdown), SIGKILL if it has not exited `graceMs`
 * later; then forgets it and deletes its home. Does only the forgetting and deleting once it has exited.
 */
export async function stopThrowaway(
  child: ChildProcess,
  home: string,
  { signal = "SIGTERM", graceMs = 60_000 }: { signal?: NodeJS.Signals; graceMs?: number } = {},
): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = once(child, "exit");
    child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  }
  untrackThrowaway(child);
  rmSync(home, { recursive: true, force: true });
}
