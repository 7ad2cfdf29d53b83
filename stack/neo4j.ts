import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import neo4jDriver from "neo4j-driver";
import { cacheDir, localPorts, packageRoot, secretPath, settings, stateDir } from "../resources/settings.ts";
import { startDetached, waitUntilReady } from "./process.ts";
import { ensureSecret } from "./secrets.ts";
import { runMaven } from "./maven.ts";
import { aptInstall, hasCommand } from "./system.ts";
import type { LocalService } from "./service.ts";

const launcherSource = join(packageRoot, "stack", "neo4j-server");
const launcherBuild = join(cacheDir, "neo4j-server");
const launcherJar = join(launcherBuild, "neo4j-server.jar");

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
  for (const file of sourceFiles(launcherSource).sort()) hash.update(relative(launcherSource, file)).update(readFileSync(file));
  return hash.digest("hex");
}

function requireTool(tool: string, debianPackage: string): void {
  if (hasCommand(tool) || aptInstall([debianPackage], "neo4j")) return;
  throw new Error(`'${tool}' is needed to run the local Neo4j: install ${debianPackage} (Java 17+ and Maven), or set NEO4J_URI to a Neo4j you run`);
}

/** Builds the launcher and gathers Neo4j's jars from Maven Central into the cache, once per launcher version. */
function buildLauncher(): void {
  const stamp = join(launcherBuild, ".fingerprint");
  const fingerprint = launcherFingerprint();
  if (existsSync(launcherJar) && existsSync(stamp) && readFileSync(stamp, "utf8") === fingerprint) return;
  requireTool("java", "openjdk-17-jdk-headless");
  requireTool("mvn", "maven");
  console.log("neo4j: building the launcher and fetching Neo4j 5.26 from Maven Central (once)…");
  runMaven(["-f", join(launcherSource, "pom.xml"), `-Dneo4j.server.out=${launcherBuild}`, "package"]);
  writeFileSync(stamp, fingerprint);
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

/** The Neo4j Community 5.26 DBMS, run by our Java launcher with Bolt on 127.0.0.1 and authentication on. */
export const neo4j: LocalService = {
  name: "neo4j",
  kind: "server",
  external: settings().neo4j.external,
  location: () => settings().neo4j.uri,
  isReachable: boltAnswers,
  async start() {
    buildLauncher();
    ensureSecret("neo4j");
    const home = join(stateDir, "neo4j");
    mkdirSync(join(home, "import"), { recursive: true });
    const pid = startDetached({
      name: "neo4j",
      command: "java",
      args: [
        `-Xmx${process.env.NEO4J_HEAP ?? "2g"}`,
        "-XX:+UseG1GC",
        "-jar", launcherJar,
        `--home=${home}`,
        `--password-file=${secretPath("neo4j")}`,
        `--port=${localPorts.neo4j}`,
        `--import-dir=${join(home, "import")}`,
      ],
    });
    await waitUntilReady("neo4j", pid, boltAnswers, 180_000);
  },
};
