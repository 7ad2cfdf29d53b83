import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { packageRoot, projectDir, stateDir } from "../resources/settings.ts";
import { isAlive, pidFile, runningPid } from "../resources/local-services.ts";

export { isAlive, pidFile, runningPid };

/** A server process `stack up` started and `stack down` may stop: its pid file is the proof it is ours. */
export interface ServerProcess {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Run as this user (Postgres refuses to run as root). */
  uid?: number;
  gid?: number;
  /** The signal that shuts the server down quickly and cleanly. */
  stopSignal?: NodeJS.Signals;
}

export const logFile = (name: string) => join(stateDir, "logs", `${name}.log`);

export function startDetached(server: ServerProcess): number {
  const running = runningPid(server.name);
  if (running) {
    throw new Error(`${server.name} is already running as pid ${running} (started by ingest), but does not answer`);
  }
  const log = logFile(server.name);
  mkdirSync(dirname(log), { recursive: true });
  mkdirSync(dirname(pidFile(server.name)), { recursive: true });
  const fd = openSync(log, "a");
  try {
    const child = spawn(server.command, server.args, {
      cwd: server.cwd,
      env: server.env ?? process.env,
      uid: server.uid,
      gid: server.gid,
      detached: true,
      stdio: ["ignore", fd, fd],
    });
    if (child.pid === undefined) throw new Error(`could not start ${server.name}: ${server.command} did not spawn`);
    child.unref();
    writeFileSync(pidFile(server.name), `${child.pid}\n${server.stopSignal ?? "SIGTERM"}\n`);
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/** Stops a server this stack started; returns false when there was none. */
export async function stopServer(name: string, timeoutMs = 60_000): Promise<boolean> {
  const file = pidFile(name);
  if (!existsSync(file)) return false;
  const [pidText, signal] = readFileSync(file, "utf8").split("\n");
  const pid = Number(pidText);
  if (isAlive(pid)) {
    process.kill(pid, (signal || "SIGTERM") as NodeJS.Signals);
    const deadline = Date.now() + timeoutMs;
    while (isAlive(pid) && Date.now() < deadline) await sleep(100);
    if (isAlive(pid)) process.kill(pid, "SIGKILL");
  }
  rmSync(file, { force: true });
  return true;
}

/**
 * What a server will print from now on: a server is ours only if its own banner appears after we
 * started it (another process may already answer on the port).
 */
export function printsFromNow(name: string): (text: string) => boolean {
  const file = logFile(name);
  const start = existsSync(file) ? statSync(file).size : 0;
  return (text) => existsSync(file) && readFileSync(file).subarray(start).includes(text);
}

export function tailOfLog(name: string, lines = 30): string {
  return tailOfFile(logFile(name), lines);
}

/** The last lines of a log file, or `(no log)`. */
export function tailOfFile(file: string, lines = 30): string {
  if (!existsSync(file)) return "(no log)";
  return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
}

/**
 * Polls `ready` until it answers true. Fails early, with the tail of the server's log, when the
 * process died or the time ran out, so a broken start is explained rather than waited on.
 */
export async function waitUntilReady(
  name: string,
  pid: number,
  ready: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await ready().catch(() => false)) return;
    if (!isAlive(pid)) {
      throw new Error(`${name} exited during start-up. Last lines of ${logFile(name)}:\n${tailOfLog(name)}`);
    }
    await sleep(250);
  }
  throw new Error(
    `${name} was not ready after ${timeoutMs / 1000}s. Last lines of ${logFile(name)}:\n${tailOfLog(name)}`,
  );
}

/**
 * The Node binary to run Node-based servers (Chroma's CLI) with: the one running us, or under Deno
 * the Node 24 the project installed.
 */
export function nodeBinary(): string {
  if (!("Deno" in globalThis)) return process.execPath;
  const bundled = installedNode();
  if (bundled) return bundled;
  throw new Error("no Node.js binary to run the Chroma server with: add the npm package `node` and run `npm install`");
}

/**
 * The Node of the npm package `node` installed for this project or for this package: the first
 * `node_modules/node/bin/node` in the folders above either.
 */
export function installedNode(): string | undefined {
  for (const start of [projectDir, packageRoot]) {
    for (let dir = start;; dir = dirname(dir)) {
      const candidate = join(dir, "node_modules", "node", "bin", "node");
      if (existsSync(candidate)) return candidate;
      if (dirname(dir) === dir) break;
    }
  }
  return undefined;
}

/**
 * Runs `fn` holding the state folder's stack lock, so two `stack up`s (two test runs, a demo and a
 * test) never start the same server twice and lose track of one. A lock left by a dead process is
 * taken over.
 */
export async function withStackLock<T>(fn: () => Promise<T>, timeoutMs = 15 * 60_000): Promise<T> {
  const lock = join(stateDir, "run", "stack.lock");
  mkdirSync(dirname(lock), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: "wx" });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = Number(readFileSync(lock, "utf8"));
      if (!holder || !isAlive(holder)) {
        rmSync(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`the stack is locked by pid ${holder} (${lock})`);
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}
