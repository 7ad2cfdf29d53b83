import { type ChildProcess, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectNeo4j, type Driver } from "../../connectors/neo4j/index.ts";
import { createPool, type pg } from "../../resources/postgres.ts";
import { packageRoot, settings } from "../../resources/settings.ts";
import { startThrowawayChroma, type ThrowawayChroma } from "../../stack/chroma.ts";
import { startThrowawayNeo4j, type ThrowawayNeo4j } from "../../stack/neo4j.ts";
import { exitOf, startUntil } from "../processes.ts";
import { readmeShellBlocks, walkthroughHeading } from "../readme.ts";

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
/** The walkthrough's stand-in for a user's own database. */
const sourceDatabase = "ingest_package_source";
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
  await admin.query(`drop database if exists ${sourceDatabase} with (force)`);
  await admin.query(`create database ${sourceDatabase}`);
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
    if (
      name.startsWith("INGEST_") || name.endsWith("_FILE") || name.startsWith("VITEST") || name === "NODE_OPTIONS" ||
      name === "DENO_CONDITIONS"
    ) {
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
  await admin.query(`drop database if exists ${sourceDatabase} with (force)`);
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

const background = (command: string, cwd: string, ready: RegExp) =>
  startUntil(command, { cwd, env: { ...env, LOG_LEVEL: "info" }, ready });

async function until<T>(what: string | (() => string), probe: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new Error(`${typeof what === "string" ? what : what()}: not within ${ms / 1000} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe("under npm", () => {
  it("`npx ingest worker` stops when npm is stopped (npm/cli#6547), recording itself stopped", async () => {
    const { child, output } = await background("exec npx ingest worker", app, /worker started/);
    const id = /"worker":"([^"]+)"/.exec(output())![1]!;
    // `exec` made the shell npm itself: SIGTERM goes to npm, as a supervisor's would.
    child.kill("SIGTERM");
    await exitOf(child);
    const stopped = await until("the worker recording itself stopped", async () => {
      const workers = JSON.parse(run("npx", ["ingest", "--json", "workers"], app).stdout) as {
        id: string;
        state: string;
      }[];
      return workers.find((w) => w.id === id && w.state === "stopped");
    });
    expect(stopped.state).toBe("stopped");
    // It stopped as on a SIGTERM of its own, gracefully, not killed.
    await until("the worker's log of the signal", async () => output().includes('"signal":"SIGTERM"') || undefined);
  });
});

describe("the README's walkthrough, from `ingest init --from-postgres` to a scheduled, sensor-triggered project", () => {
  it(
    "runs every command as written, and a changed row reaches the graph through the schedule's assets and the sensor",
    async () => {
      const sourceUrl = new URL(settings().databaseUrl);
      sourceUrl.pathname = `/${sourceDatabase}`;
      const source = createPool(sourceUrl.toString(), 1);
      await source.query(`create table customers (id serial primary key, email text not null, name text,
      created_at timestamptz not null default now())`);
      await source.query(`create table orders (id bigint primary key, customer_id int references customers,
      total numeric(10,2), placed_at timestamptz)`);
      await source.query(`insert into customers (email, name) values ('ann@example.com', 'Ann Berg'),
      ('bob@example.com', 'Bob Stone'), ('cy@example.com', null)`);
      await source.query(`insert into orders values (1, 1, 19.90, '2026-11-30T10:00:00Z'), (2, 1, 5, null),
      (3, 2, 120.50, '2026-12-01T08:30:00Z'), (4, null, 7.25, '2026-12-02T12:00:00Z')`);
      await source.end();
      env.SOURCE_DATABASE_URL = sourceUrl.toString();

      const commands = readmeShellBlocks().filter((b) => b.heading === walkthroughHeading).flatMap((b) => b.commands);
      expect(commands.length).toBeGreaterThan(8);
      let cwd = join(work, "walkthrough");
      mkdirSync(cwd);
      const served: { child: ChildProcess; command: string; output: () => string }[] = [];
      try {
        for (const command of commands) {
          // The package is not on the registry: it comes from its tarball, as `npm publish` would ship it.
          const line = command === "npm install ingest-graph"
            ? `npm install ${tarball} --no-audit --no-fund --loglevel=error`
            : command.startsWith("npx ingest init ")
            ? `${command} --ingest-graph file:${tarball}`
            : command;
          console.log(`walkthrough: ${line}`);
          if (line.startsWith("cd ")) {
            cwd = join(cwd, line.slice(3).trim());
          } else if (line.endsWith("&")) {
            const ready = line.includes(" daemon") ? /daemon started/ : /worker started/;
            served.push({ command: line, ...(await background(`exec ${line.slice(0, -1).trim()}`, cwd, ready)) });
          } else {
            run("sh", ["-c", line], cwd);
          }
        }
        const { records } = await until(
          () => `the changed name in Neo4j (${served.map((s) => s.output()).join("\n")})`,
          async () => {
            const result = await neo4j.executeQuery("MATCH (c:Customer {id: 1}) RETURN c.name AS name");
            return result.records[0]?.get("name") === "Ann Berg-Olsen" ? result : undefined;
          },
        );
        expect(records).toHaveLength(1);
        const ticks = JSON.parse(run("npx", ["ingest", "--json", "ticks", "-n", "sources_changed"], cwd).stdout) as {
          status: string;
        }[];
        expect(ticks.some((t) => t.status === "requested")).toBe(true);
        const graph = await neo4j.executeQuery(
          "MATCH (o:Order)-[:CUSTOMER]->(c:Customer) RETURN o.id AS order, c.id AS customer ORDER BY order",
        );
        expect(graph.records.map((r) => [r.get("order").toNumber(), r.get("customer").toNumber()])).toEqual([
          [1, 1],
          [2, 1],
          [3, 2],
        ]);
      } finally {
        // As `kill %1 %2` would: SIGTERM to what the shell started (npm, for `npx`), and nothing is left running.
        for (const { child } of served) child.kill("SIGTERM");
        for (const { child } of served) await exitOf(child);
        await until("the worker and the daemon of the walkthrough to exit", async () => {
          const left = spawnSync("pgrep", ["-f", join(cwd, "node_modules")], { encoding: "utf8" }).stdout.trim();
          return left === "" ? true : undefined;
        });
        for (const { output, command } of served) expect(output(), command).toMatch(/"msg":"(stopping|daemon stopped)/);
      }
    },
    600_000,
  );
});
