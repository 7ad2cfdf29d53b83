import { type ChildProcess, spawn, type SpawnOptions } from "node:child_process";
import { once } from "node:events";
import { closeSync, openSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { tailOfFile } from "./process.ts";

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

/** A throwaway server's process, from {@link launchThrowaway}. */
export interface ThrowawayProcess {
  /** The server's process: a new one after {@link ThrowawayProcess.restart}. */
  readonly pid: number;
  /** SIGKILLs the server: no clean shutdown, its data left as a crash leaves it. */
  kill(): void;
  /** Starts the server again, same command and home (stopping it first if it runs); resolves once it answers. */
  restart(): Promise<void>;
  /** Stops the server (if it still runs) and deletes its home. */
  stop(): Promise<void>;
}

/** How {@link launchThrowaway} runs a server. */
export interface ThrowawayLaunch {
  /** How a failed start names it: `a throwaway MariaDB on port 40123`. */
  what: string;
  command: string;
  args: string[];
  /** Its environment, working folder and user. */
  options?: Pick<SpawnOptions, "env" | "cwd" | "uid" | "gid">;
  /** The server's folder, deleted when it stops or when this process ends. */
  home: string;
  /** Where its output is appended; the last lines explain a failed start. */
  logFile: string;
  /** Whether it serves yet. */
  answers: () => Promise<boolean>;
  /** 120 s. */
  timeoutMs?: number;
  /** Its clean and quick shutdown: SIGTERM. */
  signal?: NodeJS.Signals;
}

const running = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

/**
 * Starts a throwaway server and resolves once it answers. A start that fails (the server exits, or does not
 * answer in time) stops it, deletes its home and throws with the last lines of its log.
 *
 * @example
 * ```ts
 * const server = await launchThrowaway({ what: "a throwaway X", command, args, home, logFile, answers });
 * try { ... server.kill(); await server.restart(); ... } finally { await server.stop(); }
 * ```
 */
export async function launchThrowaway(launch: ThrowawayLaunch): Promise<ThrowawayProcess> {
  let child: ChildProcess | undefined;
  let stopped: Promise<void> | undefined;
  const stop = () =>
    stopped ??= child
      ? stopThrowaway(child, launch.home, { signal: launch.signal })
      : Promise.resolve(rmSync(launch.home, { recursive: true, force: true }));

  async function start(): Promise<void> {
    const log = openSync(launch.logFile, "a");
    let started: ChildProcess;
    try {
      started = spawn(launch.command, launch.args, { ...launch.options, stdio: ["ignore", log, log] });
    } finally {
      closeSync(log);
    }
    // A command that cannot run shows as no pid; any later error (a kill that fails) is moot.
    started.on("error", () => {});
    if (child) untrackThrowaway(child);
    if (started.pid === undefined) {
      child = undefined;
      await stop();
      throw new Error(`${launch.what} did not start: ${launch.command} could not be run`);
    }
    child = started;
    trackThrowaway(started, launch.home);
    const deadline = Date.now() + (launch.timeoutMs ?? 120_000);
    while (!(await launch.answers())) {
      if (!running(started) || Date.now() > deadline) {
        const tail = tailOfFile(launch.logFile, 20);
        await stop();
        throw new Error(`${launch.what} did not start:\n${tail}`);
      }
      await sleep(250);
    }
  }

  await start();
  return {
    get pid() {
      return child!.pid!;
    },
    kill() {
      child!.kill("SIGKILL");
    },
    async restart() {
      if (stopped) throw new Error(`${launch.what} was stopped`);
      if (running(child!)) {
        const exited = once(child!, "exit");
        child!.kill(launch.signal ?? "SIGTERM");
        await exited;
      }
      await start();
    },
    stop,
  };
}
