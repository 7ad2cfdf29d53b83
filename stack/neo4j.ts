import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join, relative } from "node:path";
import neo4jDriver from "neo4j-driver";
import { cacheDir, localPorts, packageRoot, secretPath, settings, stateDir } from "../resources/settings.ts";
import { startDetached, waitUntilReady } from "./process.ts";
import { freePort, stopThrowaway, trackThrowaway } from "./throwaway.ts";
import { ensureSecret } from "./secrets.ts";
import { runMaven } from "./maven.ts";
import { aptInstall, hasCommand } from "./system.ts";
import type { LocalService } from "./service.ts";

const launcherSource = join(packageRoot, "stack", "neo4j-server");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "target" ? [] : sourceFiles(path);
    return [path];
  });
}

/** A hash of the launcher's pom and sources: the build is redone when it changes. */
function launcherFingerprint(): string {
  const hash = createHash("sha256");
  for (const file of sourceFiles(launcherSource).sort()) {
    hash.update(relative(launcherSource, file)).update(readFileSync(file));
  }
  return hash.digest("hex");
}

function requireTool(tool: string, debianPackage: string): void {
  if (hasCommand(tool) || aptInstall([debianPackage], "neo4j")) return;
  throw new Error(
    `'${tool}' is needed to run the local Neo4j: install ${debianPackage} (Java 17+ and Maven), or set NEO4J_URI to a Neo4j you run`,
  );
}

/**
 * Builds the launcher and gathers Neo4j's jars from Maven Central into the user's cache, once per
 * launcher version: each version has a folder of its own (`neo4j-server/<fingerprint>`), built
 * aside and renamed into place, so projects on other versions and builds racing each other never
 * see a half-built one. Returns the launcher's jar.
 */
function buildLauncher(): string {
  const builds = join(cacheDir, "neo4j-server");
  const build = join(builds, launcherFingerprint().slice(0, 16));
  const jar = join(build, "neo4j-server.jar");
  if (existsSync(jar)) return jar;
  requireTool("java", "openjdk-17-jdk-headless");
  requireTool("mvn", "maven");
  console.log(`neo4j: building the launcher and fetching Neo4j 5.26 from Maven Central into ${builds} (once)…`);
  mkdirSync(builds, { recursive: true });
  const aside = mkdtempSync(join(builds, ".building-"));
  try {
    runMaven(["-f", join(launcherSource, "pom.xml"), `-Dneo4j.server.out=${aside}`, "package"]);
    renameSync(aside, build);
  } catch (error) {
    // Another process may have finished the same build first: theirs is as good as ours.
    if (!existsSync(jar)) throw error;
  } finally {
    rmSync(aside, { recursive: true, force: true });
  }
  return jar;
}

async function boltAnswers(): Promise<boolean> {
  const config = settings().neo4j;
  if (config.password === undefined) return false;
  const driver = neo4jDriver.driver(config.uri, neo4jDriver.auth.basic(config.user, config.password), {
    connectionTimeout: 2000,
    logging: { level: "error", logger: () => {} },
  });
  // An auto-commit query: executeQuery would retry an unreachable server for 30 s.
  const session = driver.session();
  try {
    await session.run("RETURN 1");
    return true;
  } catch {
    return false;
  } finally {
    await session.close();
    await driver.close();
  }
}

/** The launcher's command line: the heap and collector are the same for the stack's server and throwaway ones. */
function launcherArgs(home: string, port: number, passwordFile: string, importDir: string): string[] {
  const launcherJar = buildLauncher();
  return [
    `-Xmx${process.env.NEO4J_HEAP ?? "2g"}`,
    "-XX:+UseG1GC",
    "-jar",
    launcherJar,
    `--home=${home}`,
    `--password-file=${passwordFile}`,
    `--port=${port}`,
    `--import-dir=${importDir}`,
  ];
}

/** The Neo4j Community 5.26 DBMS, run by our Java launcher with Bolt on 127.0.0.1 and authentication on. */
export const neo4j: LocalService = {
  name: "neo4j",
  kind: "server",
  external: settings().neo4j.external,
  location: () => settings().neo4j.uri,
  isReachable: boltAnswers,
  async start() {
    ensureSecret("neo4j");
    const home = join(stateDir, "neo4j");
    mkdirSync(join(home, "import"), { recursive: true });
    const pid = startDetached({
      name: "neo4j",
      command: "java",
      args: launcherArgs(home, localPorts.neo4j, secretPath("neo4j"), join(home, "import")),
    });
    await waitUntilReady("neo4j", pid, boltAnswers, 180_000);
  },
};

/** A Neo4j of its own for one benchmark variant or test: empty store, its own port, password and import folder. */
export interface ThrowawayNeo4j {
  uri: string;
  user: string;
  password: string;
  /** The server's process: benchmarks read its CPU time. */
  pid: number;
  /** The folder `LOAD CSV FROM 'file:///…'` reads. */
  importDir: string;
  /** Stops the server and deletes its home (store, logs, import folder). */
  stop(): Promise<void>;
}

/**
 * Starts a Neo4j with a fresh home in a temporary folder under the state folder, on a free port (or
 * `port`), with the stack server's heap settings, and waits for the launcher's ready banner.
 *
 * ```ts
 * const server = await startThrowawayNeo4j();
 * try { ... neo4jDriver.driver(server.uri, neo4jDriver.auth.basic(server.user, server.password)) ... }
 * finally { await server.stop(); }
 * ```
 */
export async function startThrowawayNeo4j(
  options: { port?: number; startTimeoutMs?: number } = {},
): Promise<ThrowawayNeo4j> {
  const port = options.port ?? (await freePort());
  mkdirSync(join(stateDir, "throwaway"), { recursive: true });
  const home = mkdtempSync(join(stateDir, "throwaway", "neo4j-"));
  const importDir = join(home, "import");
  mkdirSync(importDir);
  const password = randomBytes(18).toString("base64url");
  const passwordFile = join(home, "password");
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  const log = createWriteStream(join(home, "server.log"));
  const child = spawn("java", launcherArgs(home, port, passwordFile, importDir), { stdio: ["ignore", "pipe", "pipe"] });
  trackThrowaway(child, home);
  let output = "";
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      log.write(chunk);
      output = (output + chunk.toString()).slice(-8_000);
      if (output.includes(`neo4j ready bolt://127.0.0.1:${port}`)) resolve();
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once(
      "exit",
      (code) =>
        reject(
          new Error(
            `throwaway neo4j on port ${port} exited (${code}) during start-up:\n${
              output.trimEnd().split("\n").slice(-20).join("\n")
            }`,
          ),
        ),
    );
    child.once("error", reject);
  });
  ready.catch(() => {}); // when start-up times out, the exit that follows must not be an unhandled rejection

  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= stopThrowaway(child, home).finally(() => log.end()));

  const timeoutMs = options.startTimeoutMs ?? 180_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      ready,
      new Promise((
        _,
        reject,
      ) => (timer = setTimeout(
        () => reject(new Error(`throwaway neo4j on port ${port} was not ready after ${timeoutMs / 1000}s`)),
        timeoutMs,
      ))),
    ]);
  } catch (error) {
    await stop();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return { uri: `bolt://127.0.0.1:${port}`, user: "neo4j", password, pid: child.pid!, importDir, stop };
}
