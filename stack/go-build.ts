import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { cacheDir } from "../resources/settings.ts";
import { hasCommand } from "./system.ts";

/** A server the stack builds with Go from a module of ours (`stack/<name>/`), once per version, into the user's cache. */
export interface GoProgram {
  /** The server's name: its folder in the cache, its binary's file name, the prefix of what we print. */
  name: string;
  /** Our Go module's folder: its go.mod, go.sum and .go files, whose hash is part of the build's name. */
  moduleDir: string;
  /** The module whose version our go.mod requires names the build: `github.com/jaegertracing/jaeger`. */
  module: string;
  /** The main package to build: `.` for our module's own, or one of a dependency's. */
  package: string;
  /** Go build tags (`ferretdb_no_sqlite`). */
  tags?: string[];
  /** What to say when there is no `go`: the alternative to building. */
  withoutGo: string;
}

function moduleFiles(program: GoProgram): string[] {
  if (!existsSync(join(program.moduleDir, "go.mod"))) {
    throw new Error(
      `the Go module that builds ${program.name} is missing from this package (${program.moduleDir}/go.mod)`,
    );
  }
  return readdirSync(program.moduleDir).filter((name) => /^(go\.mod|go\.sum|.*\.go)$/.test(name)).sort();
}

/** `<version go.mod requires>-<hash of our module's files>`: a changed module is a new build. */
function buildVersion(program: GoProgram): string {
  const goMod = readFileSync(join(program.moduleDir, "go.mod"), "utf8");
  const escaped = program.module.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  const version = new RegExp(`^\\s*(?:require\\s+)?${escaped} (v\\S+)`, "m").exec(goMod)?.[1];
  if (!version) throw new Error(`${program.moduleDir}/go.mod requires no ${program.module} version`);
  const hash = createHash("sha256");
  for (const name of moduleFiles(program)) hash.update(name).update(readFileSync(join(program.moduleDir, name)));
  return `${version}-${hash.digest("hex").slice(0, 12)}`;
}

const minutes = (since: number) => ((performance.now() - since) / 60_000).toFixed(1);

/**
 * Runs `go build`, telling the user every minute that it still runs: a first build takes minutes. The Go
 * that is installed builds it (`GOTOOLCHAIN=local`: no toolchain download), and go.sum pins every module.
 */
async function goBuild(program: GoProgram, output: string): Promise<void> {
  const args = [
    "build",
    "-trimpath",
    "-buildvcs=false",
    "-ldflags=-s -w",
    ...(program.tags?.length ? [`-tags=${program.tags.join(",")}`] : []),
    "-o",
    output,
    program.package,
  ];
  const child = spawn("go", args, {
    cwd: program.moduleDir,
    env: { ...process.env, GOFLAGS: "-mod=mod", GOTOOLCHAIN: "local" },
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
        `go ${args.join(" ")} in ${program.moduleDir} failed (exit ${code}):\n${
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
 * The path of the program's binary, `<cache>/<name>/<version>-<hash>/<name>`, built first if it is not
 * there. The build goes to a folder aside that is renamed into place, so a half-built binary is never
 * run, and a build racing another project's finds theirs as good as its own.
 */
export async function goBinary(program: GoProgram): Promise<string> {
  const builds = join(cacheDir, program.name);
  const version = buildVersion(program);
  const binary = join(builds, version, program.name);
  if (existsSync(binary)) return binary;
  if (!hasCommand("go")) {
    throw new Error(
      `'go' (Go 1.24 or later) is needed to build the local ${program.name}: install it (https://go.dev/doc/install), ` +
        `or ${program.withoutGo}`,
    );
  }
  mkdirSync(builds, { recursive: true });
  console.error(
    `${program.name}: building ${program.module} ${version} with Go from the module proxy into ${builds} ` +
      "(once; minutes on two cores)…",
  );
  const aside = mkdtempSync(join(builds, ".building-"));
  try {
    await goBuild(program, join(aside, program.name));
    renameSync(aside, dirname(binary));
  } catch (error) {
    if (!existsSync(binary)) throw error;
  } finally {
    rmSync(aside, { recursive: true, force: true });
  }
  return binary;
}
