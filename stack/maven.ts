import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { cacheDir } from "../resources/settings.ts";
import { aptInstall, hasCommand } from "./system.ts";

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

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "target" ? [] : sourceFiles(path);
    return [path];
  });
}

/** A hash of a Maven project's pom and sources: its build is redone when it changes. */
export function sourceFingerprint(source: string): string {
  const hash = createHash("sha256");
  for (const file of sourceFiles(source).sort()) {
    hash.update(relative(source, file)).update(readFileSync(file));
  }
  return hash.digest("hex");
}

/** A server the stack builds with Maven, and how to do without it. */
export interface MavenBuild {
  /** The stack service's name (`neo4j`): the cache folder is `<name>-server`. */
  name: string;
  /** What runs, for messages ("Neo4j"). */
  label: string;
  /** The Maven project: a folder with a pom.xml (and sources, if any). */
  source: string;
  /** The pom's property naming the output folder (`neo4j.server.out`). */
  outProperty: string;
  /** What a finished build holds, relative to its folder (`neo4j-server.jar`, `lib`). */
  product: string;
  /** Said once, before a build: what it fetches. */
  building: string;
  /** The environment variable that points the stack at a server of the user's own instead. */
  override: string;
}

function requireTool(build: MavenBuild, tool: string, debianPackage: string): void {
  if (hasCommand(tool) || aptInstall([debianPackage], build.name)) return;
  throw new Error(
    `'${tool}' is needed to run the local ${build.label}: install ${debianPackage} (Java 17+ and Maven), or set ${build.override} to a ${build.label} you run`,
  );
}

/**
 * Runs `mvn package` on `build.source` into the user's cache, once per version of that project: each
 * version has a folder of its own (`<name>-server/<fingerprint>`), built aside and renamed into place, so
 * projects on other versions and builds racing each other never see a half-built one. Installs Java and
 * Maven when missing (as root on Debian). Returns the build's folder.
 */
export function buildOnce(build: MavenBuild): string {
  const builds = join(cacheDir, `${build.name}-server`);
  const folder = join(builds, sourceFingerprint(build.source).slice(0, 16));
  const product = join(folder, build.product);
  if (existsSync(product)) return folder;
  requireTool(build, "java", "openjdk-17-jdk-headless");
  requireTool(build, "mvn", "maven");
  console.log(`${build.name}: ${build.building} into ${builds} (once)…`);
  mkdirSync(builds, { recursive: true });
  const aside = mkdtempSync(join(builds, ".building-"));
  try {
    runMaven(["-f", join(build.source, "pom.xml"), `-D${build.outProperty}=${aside}`, "package"]);
    renameSync(aside, folder);
  } catch (error) {
    // Another process may have finished the same build first: theirs is as good as ours.
    if (!existsSync(product)) throw error;
  } finally {
    rmSync(aside, { recursive: true, force: true });
  }
  return folder;
}
