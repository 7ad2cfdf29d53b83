import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import type { AssetGraph } from "../engine/asset-graph.ts";
import { assetGraphOf, type Definitions } from "../engine/definitions.ts";
import { packageRoot } from "../resources/settings.ts";

const node = join(packageRoot, "node_modules", ".bin", "node");
const cli = join(packageRoot, "cli", "main.ts");

/** A user's repository in a temporary folder, whose definitions import the framework by package name. */
export function userProject(definitions: string): { dir: string; file: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "ingest-daemon-project-"));
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(packageRoot, join(dir, "node_modules", "ingest-graph"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "my-pipeline", type: "module", private: true }));
  const file = join(dir, "definitions.ts");
  writeFileSync(file, definitions);
  return { dir, file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function loadProjectGraph(file: string): Promise<AssetGraph> {
  const module = (await import(pathToFileURL(file).href)) as { default: Definitions };
  return assetGraphOf(module.default);
}

export interface DaemonProcess {
  child: ChildProcess;
  pid: number;
  /** SIGTERM, and the exit code. */
  stop(): Promise<number | null>;
  kill(): Promise<void>;
}

/** `ingest daemon` in its own process; its log goes to `log` (a file path) when given, else to this process's stderr with `DAEMON_LOG` set. */
export function spawnDaemon(
  definitions: string,
  args: string[] = [],
  env: Record<string, string> = {},
  log?: string,
): DaemonProcess {
  const output = log ? openSync(log, "a") : process.env.DAEMON_LOG ? "inherit" : "ignore";
  const child = spawn(node, [cli, "--definitions", definitions, "daemon", ...args], {
    stdio: ["ignore", log ? output : "ignore", output],
    env: { ...process.env, LOG_LEVEL: process.env.DAEMON_LOG ? "debug" : log ? "info" : "warn", ...env },
  });
  if (typeof output === "number") closeSync(output);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}

/** Polls `probe` until it returns something other than undefined, or fails after `timeoutMs` saying what it waited for. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}
