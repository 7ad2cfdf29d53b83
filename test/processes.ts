import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { appendFileSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { redactText } from "../resources/redact.ts";
import { packageRoot } from "../resources/settings.ts";

/**
 * Keeps what a command printed where the secrets scan after the suite reads it (test/setup/stack.ts names the
 * folder): CLI output, `--json` included, must hold no secret either. The command line itself, which a test
 * may give a connection URL, is kept redacted: it is the test's, not the output's.
 */
function keepOutput(file: string, text: string): void {
  const folder = process.env.INGEST_TEST_OUTPUT_DIR;
  if (folder && text) appendFileSync(join(folder, file), text);
}

/** A command started in the background, with what it has printed so far. */
export interface Started {
  child: ChildProcess;
  output(): string;
}

/**
 * Starts `command` under `sh -c` as a user's shell would, and resolves once what it prints (stdout or
 * stderr) matches `ready`; fails with that output when it exits first or is not up within a minute.
 */
export async function startUntil(
  command: string,
  options: { cwd: string; env: NodeJS.ProcessEnv; ready: RegExp },
): Promise<Started> {
  const child = spawn("sh", ["-c", command], { cwd: options.cwd, env: options.env });
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command}: not up within 60 s:\n${output}`)), 60_000);
    keepOutput("processes.log", `$ ${redactText(command)}\n`);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      keepOutput("processes.log", chunk.toString());
      if (options.ready.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on("data", read);
    child.stderr!.on("data", read);
    child.on("exit", (code) => reject(new Error(`${command} exited ${code} before it was up:\n${output}`)));
  });
  return { child, output: () => output };
}

/** The exit code of a child process (null when a signal ended it), also when it has already exited. */
export const exitOf = (child: ChildProcess): Promise<number | null> =>
  new Promise((resolve) =>
    child.exitCode !== null || child.signalCode !== null ? resolve(child.exitCode) : child.on("exit", resolve)
  );

/** Runs the CLI as a user would, with `env` over this process's environment (a state folder and ports of its own). */
export function ingest(args: string[], env: Record<string, string>) {
  const result = spawnSync(join(packageRoot, "node_modules", ".bin", "node"), [
    join(packageRoot, "cli", "main.ts"),
    ...args,
  ], {
    encoding: "utf8",
    env: { ...process.env, ...env },
    // Bounded: a command that hangs fails its test rather than the whole suite.
    timeout: 300_000,
    killSignal: "SIGKILL",
  });
  const timedOut = result.error ? `\n(ingest ${args.join(" ")}: ${result.error.message})` : "";
  keepOutput("cli.log", `$ ${redactText(`ingest ${args.join(" ")}`)}\n${result.stdout}${result.stderr}\n`);
  return { status: result.status, stdout: result.stdout, stderr: result.stderr + timedOut };
}

/** The pids of the running processes whose command line holds `text`. */
export function processesWith(text: string): number[] {
  return readdirSync("/proc").filter((entry) => /^\d+$/.test(entry)).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").includes(text);
    } catch {
      return false; // ended while we looked
    }
  }).map(Number);
}
