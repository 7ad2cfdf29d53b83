import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectNeo4j, type Driver } from "../../connectors/neo4j/index.ts";
import { createPool, type pg } from "../../resources/postgres.ts";
import { packageRoot, settings } from "../../resources/settings.ts";
import { startThrowawayChroma, type ThrowawayChroma } from "../../stack/chroma.ts";
import { startThrowawayNeo4j, type ThrowawayNeo4j } from "../../stack/neo4j.ts";

/**
 * The framework as a user gets it: `npm pack`, the tarball installed into an empty folder outside
 * the repository, `ingest init`, then the new project's own `npm test` and `ingest materialize` on
 * Node and under Deno. The project's stack is a scratch database of the test stack's Postgres, a
 * throwaway Neo4j and a throwaway Chroma, all given through the environment as a user's own servers
 * would be, so `ingest stack up` in the project only checks them.
 */
const work = mkdtempSync(join(tmpdir(), "ingest-package-"));
const app = join(work, "first-steps");
const deno = join(packageRoot, "node_modules", ".bin", "deno");
const database = "ingest_package_test";
let tarball: string;
let admin: pg.Pool;
let neo4jServer: ThrowawayNeo4j;
let chromaServer: ThrowawayChroma;
let neo4j: Driver;
let env: NodeJS.ProcessEnv;

/** Runs a command as a user's shell would (the machine's own Node first on PATH), failing with its output. */
function run(command: string, args: string[], cwd: string) {
  const result = spawnSync(command, args, { cwd, env, encoding: "utf8", timeout: 600_000 });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} exited ${result.status ?? result.signal}\n${result.stdout}\n${result.stderr}`,
    );
  }
  return result;
}

beforeAll(async () => {
  admin = createPool(settings().databaseUrl, 1);
  await admin.query(`drop database if exists ${database} with (force)`);
  await admin.query(`create database ${database}`);
  const databaseUrl = new URL(settings().databaseUrl);
  databaseUrl.pathname = `/${database}`;
  [neo4jServer, chromaServer] = await Promise.all([startThrowawayNeo4j(), startThrowawayChroma()]);
  neo4j = connectNeo4j({
    uri: neo4jServer.uri,
    user: neo4jServer.user,
    password: neo4jServer.password,
    external: true,
  });

  env = { ...process.env };
  // Nothing of this repository's test setup leaks into the user's project: no source condition,
  // no state folder, no definitions file, no secret file.
  for (const name of Object.keys(env)) {
    if (name.startsWith("INGEST_") || name.endsWith("_FILE") || name.startsWith("VITEST") || name === "NODE_OPTIONS") {
      delete env[name];
    }
  }
  Object.assign(env, {
    DATABASE_URL: databaseUrl.toString(),
    NEO4J_URI: neo4jServer.uri,
    NEO4J_USER: neo4jServer.user,
    NEO4J_PASSWORD: neo4jServer.password,
    CHROMA_URL: chromaServer.url,
    EMBEDDING_MODEL_PATH: settings().modelPath,
    LOG_LEVEL: "warn",
    ONNXRUNTIME_NODE_INSTALL: "skip",
    NO_COLOR: "1",
  });
  // `npm pack` builds dist/ first (prepack), as `npm publish` would.
  const packed = run("npm", ["pack", "--pack-destination", work, "--loglevel=error"], packageRoot);
  tarball = join(work, packed.stdout.trim().split("\n").at(-1)!);
});

afterAll(async () => {
  await neo4j?.close();
  await Promise.all([neo4jServer?.stop(), chromaServer?.stop()]);
  await admin.query(`drop database if exists ${database} with (force)`);
  await admin.end();
  rmSync(work, { recursive: true, force: true });
});

describe("the published package", () => {
  it("installs from its tarball into an empty folder, and `ingest init` writes a project that depends on it", () => {
    const contents = run("tar", ["tzf", tarball], work).stdout.split("\n");
    expect(contents).toContain("package/dist/index.js");
    expect(contents).toContain("package/dist/index.d.ts");
    expect(contents).toContain("package/templates/project/definitions.ts");
    expect(contents.filter((f) => f.startsWith("package/test/") || f.endsWith(".test.ts") && !f.includes("templates")))
      .toEqual([]);

    const empty = join(work, "empty");
    mkdirSync(empty);
    run("npm", ["init", "-y"], empty);
    run("npm", ["install", tarball, "--no-audit", "--no-fund", "--loglevel=error"], empty);
    const version = run("npx", ["ingest", "--version"], empty);
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")).version);
    expect(version.stderr).toBe("");

    const init = run("npx", ["ingest", "init", app, "--ingest-graph", `file:${tarball}`], empty);
    expect(init.stdout).toContain("npm run demo");
    for (const file of ["definitions.ts", "assets/products.ts", "resources/index.ts", "schedules/index.ts"]) {
      expect(existsSync(join(app, file)), file).toBe(true);
    }
    for (const file of ["sensors/index.ts", "test/pipeline.test.ts", "README.md", ".gitignore", "data/products.csv"]) {
      expect(existsSync(join(app, file)), file).toBe(true);
    }
    const manifest = JSON.parse(readFileSync(join(app, "package.json"), "utf8"));
    expect(manifest.name).toBe("first-steps");
    expect(manifest.dependencies["ingest-graph"]).toBe(`file:${tarball}`);
    expect(() => run("npx", ["ingest", "init", app], empty)).toThrow(/is not empty/);

    run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], app);
    expect(readdirSync(join(app, "node_modules", "ingest-graph"))).toContain("dist");
    // The project type-checks against the package's declarations.
    run("npx", ["tsc", "--noEmit"], app);
  });

  it("the project's own `npm test` materialises its example chain on Node", async () => {
    const result = run("npm", ["test"], app);
    expect(result.stdout).toMatch(/ℹ pass 2\n/);
    expect(result.stdout).toMatch(/ℹ fail 0\n/);
    const { records } = await neo4j.executeQuery("MATCH (p:Product) RETURN count(p) AS n, collect(p.sku) AS skus");
    expect(records[0]!.get("n").toNumber()).toBe(7);
    expect(records[0]!.get("skus")).not.toContain("P-1008");
  });

  it("`ingest materialize` and the project's tests run under Deno from the same installed package", async () => {
    const result = run(deno, [
      "run",
      "-A",
      "node_modules/ingest-graph/bin/ingest.js",
      "--json",
      "materialize",
      "graph/Product",
      "--wait",
      "--full-refresh",
    ], app);
    const { run: materialized } = JSON.parse(result.stdout) as { run: { id: string; status: string } };
    expect(materialized.status).toBe("succeeded");
    const { records } = await neo4j.executeQuery("MATCH (p:Product) RETURN collect(DISTINCT p.ingestRunId) AS runs");
    expect(records[0]!.get("runs")).toEqual([materialized.id]);

    const tests = run(deno, ["test", "-A", "--no-check", "test/"], app);
    expect(tests.stdout).toMatch(/ok \| 2 passed \| 0 failed/);
  });
});
