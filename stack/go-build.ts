import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { cacheDir } from "../resources/settings.ts";
import { hasCommand } from "./system.ts";

/** A server the stack builds with Go, once per version, into the user's cache. */
export interface GoProgram {
  /** The server's name: its folder in the cache, its binary's file name, the prefix of what we print. */
  name: string;
  /** The build's folder in `<cache>/<name>/`: a new version (a changed module, a new release) is a new build. */
  version: string;
  /** The `go` command's arguments, given the folder the binary must land in (as `<folder>/<name>`). */
  args(binaryDir: string): string[];
  /** Where `go` runs: our Go module's folder, or anywhere for `go install module@version`. */
  cwd?: string;
  /** Variables added to the environment of `go`. */
  env?: Record<string, string>;
  /** What to say when there is no `go`: the alternative to building. */
  withoutGo: string;
}

const minutes = (since: number) => ((performance.now() - since) / 60_000).toFixed(1);

/** Runs `go`, telling the user every minute that it still runs: a first build takes minutes. */
async function runGo(program: GoProgram, binaryDir: string): Promise<void> {
  const args = program.args(binaryDir);
  const child = spawn("go", args, {
    cwd: program.cwd ?? binaryDir,
    env: { ...process.env, ...program.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  const collect = (chunk: Buffer) => void (log = (log + chunk.toString()).slice(-16_000));
  child.stdout!.on("data", collect);
  child.stderr!.on("data", collect);
  const started = performance.now();
  const ticker = setInterval(() => console.error(`${program.name}: still building (${minutes(started)} min)…`), 60_000);
  try {
    const [code] = await once(child, "close");
    if (code !== 0) {
      throw new Error(
        `go ${args.join(" ")} in ${program.cwd ?? binaryDir} failed (exit ${code}):\n${
          log.trim().split("\n").slice(-40).join("\n")
        }`,
      );
    }
  } finally {
    clearInterval(ticker);
  }
  console.error(`${program.name}: built in ${minutes(started)} min`);
}

/**
 * The path of the program's binary, `<cache>/<name>/<version>/<name>`, built first if it is not there.
 * The build goes to a folder aside that is renamed into place, so a half-built binary is never run, and
 * a build racing another project's finds theirs as good as its own.
 */
export async function goBinary(program: GoProgram): Promise<string> {
  const builds = join(cacheDir, program.name);
  const binary = join(builds, program.version, program.name);
  if (existsSync(binary)) return binary;
  if (!hasCommand("go")) {
    throw new Error(
      `'go' (Go 1.24 or later) is needed to build the local ${program.name}: install it (https://go.dev/doc/install), ` +
        `or ${program.withoutGo}`,
    );
  }
  mkdirSync(builds, { recursive: true });
  console.error(
    `${program.name}: building ${program.version} with Go from the module proxy into ${builds} ` +
      "(once; minutes on two cores)…",
  );
  const aside = mkdtempSync(join(builds, ".building-"));
  try {
    await runGo(program, aside);
    if (!existsSync(join(aside, program.name))) throw new Error(`go built no ${program.name} binary in ${aside}`);
    renameSync(aside, dirname(binary));
  } catch (error) {
    if (!existsSync(binary)) throw error;
  } finally {
    rmSync(aside, { recursive: true, force: true });
  }
  return binary;
}
