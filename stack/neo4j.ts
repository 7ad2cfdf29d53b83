import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import neo4jDriver from "neo4j-driver";
import { localPorts, packageRoot, secretPath, settings, stateDir } from "../resources/settings.ts";
import { startDetached, waitUntilReady } from "./process.ts";
import { freePort, stopThrowaway, trackThrowaway } from "./throwaway.ts";
import { ensureSecret } from "./secrets.ts";
import { buildOnce, type MavenBuild } from "./maven.ts";
import type { LocalService } from "./service.ts";

/** The launcher's Maven project; its build gathers Neo4j's jars from Maven Central into the user's cache. */
const launcher: MavenBuild = {
  name: "neo4j",
  label: "Neo4j",
  source: join(packageRoot, "stack", "neo4j-server"),
  outProperty: "neo4j.server.out",
  product: "neo4j-server.jar",
  building: "building the launcher and fetching Neo4j 5.26 from Maven Central",
  override: "NEO4J_URI",
};

/** Builds the launcher once per version of it (see {@link buildOnce}); returns its jar. */
function buildLauncher(): string {
  return join(buildOnce(launcher), launcher.product);
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
