import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPool, type pg } from "../../resources/postgres.ts";
import { packageRoot, settings } from "../../resources/settings.ts";

/**
 * The CLI as a user meets it, in a project of their own (definitions.ts found from the working
 * directory, the framework imported by package name), against a scratch metadata database of the
 * stack's Postgres: wrong arguments are refused before anything happens, with what was wrong.
 */
const node = join(packageRoot, "node_modules", ".bin", "node");
const cli = join(packageRoot, "cli", "main.ts");
const project = mkdtempSync(join(tmpdir(), "ingest-cli-project-"));
const database = "ingest_cli_test";
let admin: pg.Pool;
let databaseUrl: string;

beforeAll(async () => {
  mkdirSync(join(project, "node_modules"));
  symlinkSync(packageRoot, join(project, "node_modules", "ingest-graph"));
  symlinkSync(join(packageRoot, "node_modules", "zod"), join(project, "node_modules", "zod"));
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "my-pipeline", type: "module", private: true }));
  writeFileSync(
    join(project, "definitions.ts"),
    `import { defineAsset, defineDefinitions, staticPartitions } from "ingest-graph";

import { neo4jResource } from "ingest-graph";

const orders = defineAsset({ key: "shop/orders", codeVersion: "1", materialize: async () => ({ dataVersion: "o1" }) });
const regional = defineAsset({
  key: "shop/regional",
  codeVersion: "1",
  partitions: staticPartitions(["eu", "us"]),
  materialize: async () => ({}),
});
// Two checks that do not pass: one only warns, one blocks (and the asset is not retried).
const revenue = defineAsset({
  key: "shop/revenue",
  deps: ["shop/orders"],
  codeVersion: "1",
  materialize: async () => ({ counts: { orders: 0 } }),
  checks: [{ name: "has revenue", check: async () => ({ passed: false, metadata: { revenue: 0 } }) }],
});
const audit = defineAsset({
  key: "shop/audit",
  codeVersion: "1",
  retry: { maxAttempts: 1 },
  materialize: async () => ({}),
  checks: [
    { name: "ledger balanced", severity: "error", check: async () => ({ passed: false, metadata: { difference: 12.5 } }) },
    { name: "not empty", severity: "error", check: async () => ({ passed: true }) },
  ],
});
export default defineDefinitions({ assets: [orders, regional, revenue, audit], resources: { graph: neo4jResource() } });
`,
  );
  admin = createPool(settings().databaseUrl, 1);
  await admin.query(`drop database if exists ${database} with (force)`);
  await admin.query(`create database ${database}`);
  const url = new URL(settings().databaseUrl);
  url.pathname = `/${database}`;
  databaseUrl = url.toString();
});

afterAll(async () => {
  await admin.query(`drop database if exists ${database} with (force)`);
  await admin.end();
  rmSync(project, { recursive: true, force: true });
});

/** `ingest …` run in the project folder, as `npx ingest …` there would, with these variables set (or, as undefined, unset). */
const ingestWith = (variables: Record<string, string | undefined>, ...args: string[]) => {
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: "warn" };
  delete env.DATABASE_URL_FILE;
  delete env.INGEST_DEFINITIONS;
  delete env.INGEST_PROJECT_DIR;
  for (const [name, value] of Object.entries(variables)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  // Bounded: a command that hangs fails its test, with what it printed, rather than the whole suite.
  const result = spawnSync(node, [cli, ...args], {
    cwd: project,
    encoding: "utf8",
    env,
    timeout: 120_000,
    killSignal: "SIGKILL",
  });
  const timedOut = result.error ? `\n(ingest ${args.join(" ")}: ${result.error.message})` : "";
  return { status: result.status, stdout: result.stdout, stderr: result.stderr + timedOut };
};
const ingest = (...args: string[]) => ingestWith({}, ...args);

describe("arguments", () => {
  it("refuses numbers that are not numbers, or out of range, saying what fits", () => {
    const limit = ingest("runs", "-n", "abc");
    expect(limit.status).not.toBe(0);
    expect(limit.stderr).toContain("option '-n, --limit <n>' argument 'abc' is invalid. a whole number 1 or more");
    const priority = ingest("materialize", "shop/orders", "--priority", "40000");
    expect(priority.status).not.toBe(0);
    expect(priority.stderr).toContain("argument '40000' is invalid. a whole number from -32768 to 32767");
    const status = ingest("ticks", "--status", "maybe");
    expect(status.status).not.toBe(0);
    expect(status.stderr).toContain("argument 'maybe' is invalid. Allowed choices are");
  });

  it("refuses options that do not go together, naming them", () => {
    const both = ingest("materialize", "-s", "shop/orders", "shop/regional");
    expect(both.status).toBe(1);
    expect(both.stderr).toContain("give the selection once, as -s 'shop/orders' or as words (shop/regional), not both");
    const concurrency = ingest("materialize", "shop/orders", "--concurrency", "2");
    expect(concurrency.status).toBe(1);
    expect(concurrency.stderr).toContain("--concurrency and --no-local-worker apply to the worker of --wait");
    const range = ingest("materialize", "shop/regional", "--partition", "eu", "--from", "eu", "--to", "us");
    expect(range.status).toBe(1);
    expect(range.stderr).toContain("give one or the other");
  });

  it("refuses partitions for assets that have none, and partitions that do not exist", () => {
    const unpartitioned = ingest("materialize", "shop/orders", "--partition", "eu");
    expect(unpartitioned.status).toBe(1);
    expect(unpartitioned.stderr).toContain("none of the selected assets is partitioned (shop/orders)");
    const unknown = ingest("materialize", "shop/regional", "--partition", "asia");
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain("asia");
  });
});

describe("a run requested with no worker running", () => {
  it("says so and how to run it, and --wait runs it here", () => {
    const queued = ingest("materialize", "shop/orders");
    expect(queued.status, queued.stderr).toBe(0);
    expect(queued.stdout).toMatch(/^run [0-9a-f-]{36} queued: shop\/orders\n/);
    expect(queued.stdout).toContain(
      "no worker is running: start `ingest worker` to execute it, or use --wait to run it here",
    );
    const json = ingest("--json", "materialize", "shop/regional", "--partition", "eu");
    expect(json.status, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ assets: ["shop/regional"], liveWorkers: 0 });

    const waited = ingest("--json", "materialize", "shop/orders", "--wait");
    expect(waited.status, waited.stderr).toBe(0);
    const status = JSON.parse(ingest("--json", "status").stdout) as { assetKey: string; state: string }[];
    expect(status.find((s) => s.assetKey === "shop/orders")?.state).toBe("fresh");
  });
});

it("prints its version", () => {
  const version = ingest("--version");
  expect(version.status).toBe(0);
  const { version: expected } = JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as {
    version: string;
  };
  expect(version.stdout.trim()).toBe(expected);
});

describe("connection errors name the store, where its address came from, and what to do", () => {
  it("Postgres: not a URL, nothing listening, a wrong password, a local stack never started", () => {
    const notUrl = ingestWith({ DATABASE_URL: "notaurl" }, "runs");
    expect(notUrl.status).toBe(1);
    expect(notUrl.stderr).toContain(
      "cannot connect to the metadata database: DATABASE_URL is not a Postgres URL: give postgres://user:password@host:port/database",
    );
    const refused = ingestWith({ DATABASE_URL: "postgres://ingest:pw@127.0.0.1:1/ingest" }, "runs");
    expect(refused.stderr).toContain(
      "cannot connect to the metadata database at postgres://ingest:***@127.0.0.1:1/ingest (from DATABASE_URL): nothing answers there; check DATABASE_URL",
    );
    const wrong = new URL(databaseUrl);
    wrong.password = "not-the-password";
    const denied = ingestWith({ DATABASE_URL: wrong.toString() }, "runs");
    expect(denied.stderr).toContain("(from DATABASE_URL): the server refused the user name or password");
    expect(denied.stderr).not.toContain("not-the-password");
    const neverStarted = ingestWith({ DATABASE_URL: undefined, INGEST_STATE_DIR: join(project, "no-stack") }, "runs");
    expect(neverStarted.stderr).toContain(
      "(the local stack's): there is no password for it yet: the local stack has not been started in this project; run `ingest stack up`",
    );
  });

  it("Neo4j: a wrong password, and nothing listening", () => {
    const { uri } = settings().neo4j;
    const denied = ingestWith({ NEO4J_URI: uri, NEO4J_PASSWORD: "not-the-password" }, "lineage", "--node", "X:1");
    expect(denied.status).toBe(1);
    expect(denied.stderr).toContain(
      `cannot connect to Neo4j at ${uri} (from NEO4J_URI): it refused user 'neo4j' with the password given; check NEO4J_USER and NEO4J_PASSWORD`,
    );
    const noChroma = ingest("lineage", "--document", "products:P-1");
    expect(noChroma.stderr).toContain(
      "this command needs a chroma resource: add `chroma: chromaResource()` to the resources of defineDefinitions",
    );
    const refused = ingestWith({ NEO4J_URI: "bolt://127.0.0.1:1", NEO4J_PASSWORD: "x" }, "lineage", "--node", "X:1");
    expect(refused.stderr).toContain(
      "cannot connect to Neo4j at bolt://127.0.0.1:1 (from NEO4J_URI): nothing answers there (connect ECONNREFUSED",
    );
  });
});

describe("a definitions file that does not load", () => {
  const definitions = (name: string, text: string) => {
    const file = join(project, name);
    writeFileSync(file, text);
    return file;
  };

  it("a syntax error gives the file, the line and the cause", () => {
    const file = definitions(
      "broken.ts",
      'import { defineDefinitions } from "ingest-graph";\nexport default defineDefinitions({ assets: [\n',
    );
    const result = ingest("--definitions", file, "status");
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`could not load ${file}:\n${file}:2\n`);
    expect(result.stderr).toMatch(/\nSyntaxError: \S/);
  });

  it("an error thrown while loading gives where, and --debug its stack", () => {
    const file = definitions(
      "throws.ts",
      'const port = Number("x");\nif (Number.isNaN(port)) throw new Error("SHOP_PORT is not a number");\n',
    );
    const result = ingest("--definitions", file, "status");
    expect(result.stderr.trim()).toBe(`ingest: could not load ${file}: SHOP_PORT is not a number (at ${file}:2:31)`);
    const debug = ingest("--debug", "--definitions", file, "status");
    expect(debug.stderr).toMatch(/^ingest: Error: could not load .*\n\s+at /);
  });

  it("a definition mistake names the asset and the resource it needs", () => {
    const file = definitions(
      "no-staging.ts",
      `import { defineDefinitions, defineStagedAsset, neo4jResource } from "ingest-graph";
import { z } from "zod";
const staged = defineStagedAsset({
  key: "shop/books", table: "books", source: "books.csv", codeVersion: "1", model: z.object({ isbn: z.string() }),
  sourceKey: (b) => b.isbn, rawKey: (row) => row.isbn, extract: async () => [],
});
export default defineDefinitions({ assets: [staged], resources: { neo4j: neo4jResource() } });
`,
    );
    const result = ingest("--definitions", file, "status");
    expect(result.stderr).toContain(
      "asset 'shop/books' needs a staging resource: add `staging: stagingResource()` to the resources of defineDefinitions",
    );
  });
});

it("logs on a terminal are one readable line each (LOG_FORMAT=pretty), JSON otherwise", () => {
  const pretty = ingestWith(
    { LOG_FORMAT: "pretty", LOG_LEVEL: "info", NO_COLOR: "1" },
    "materialize",
    "shop/orders",
    "--wait",
  );
  expect(pretty.status, pretty.stderr).toBe(0);
  // One line: the asset, the message, then the rest of its fields (counts, data version, milliseconds) as JSON.
  expect(pretty.stderr).toMatch(
    /^\[\d\d:\d\d:\d\d\] INFO: shop\/orders materialized \{"counts":\{.*\},"dataVersion":.*\}$/m,
  );
  expect(pretty.stderr).not.toContain('"level"');
  const json = ingestWith({ LOG_LEVEL: "info" }, "materialize", "shop/orders", "--wait");
  const line = JSON.parse(json.stderr.split("\n").find((l) => l.includes('"materialized"'))!) as Record<
    string,
    unknown
  >;
  expect(line).toMatchObject({ level: 30, asset: "shop/orders", msg: "materialized" });
});

describe("asset checks", () => {
  it("status and runs show say which check did not pass; a failed blocking check is recorded with its result", () => {
    const run = ingest("--json", "materialize", "shop/revenue", "shop/audit", "--wait");
    expect(run.status).toBe(1);
    const { run: { id } } = JSON.parse(run.stdout) as { run: { id: string } };

    const shown = ingest("runs", "show", id);
    expect(shown.status, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/^ {2}STATUS\s+STEP\s+TRIES\s+TIME\s+EXTRACTED\s+WRITTEN/m);
    expect(shown.stdout).toMatch(/^ {2}succeeded\s+shop\/revenue\s+1\s+\d+\.\ds\s+\w+$/m);
    expect(shown.stdout).toContain("      ✗ has revenue (warn): revenue 0");
    expect(shown.stdout).toMatch(/^ {2}failed\s+shop\/audit\s+1\s+\d+\.\ds$/m);
    expect(shown.stdout).toContain("      BlockingChecksFailed: blocking check failed: ledger balanced");
    expect(shown.stdout).toContain("      ✗ ledger balanced (error): difference 12.5");
    expect(shown.stdout).toContain("      ✓ not empty");

    const status = ingest("status", "shop/revenue", "shop/audit");
    expect(status.stdout).toMatch(
      /^stale\s+shop\/audit\n\s+never materialised\n\s+failed at .* in run [0-9a-f-]{36}: BlockingChecksFailed: blocking check failed: ledger balanced\n\s+✗ ledger balanced \(error\): difference 12.5$/m,
    );
    expect(status.stdout).toMatch(/^fresh\s+shop\/revenue\s+data \w+ at .*\n\s+✗ has revenue \(warn\): revenue 0$/m);

    const json = JSON.parse(ingest("--json", "status", "shop/audit").stdout) as {
      lastFailure: { checks: { name: string; passed: boolean; severity: string }[] };
    }[];
    expect(json[0]!.lastFailure.checks).toEqual([
      { name: "ledger balanced", passed: false, severity: "error", metadata: { difference: 12.5 } },
      { name: "not empty", passed: true, severity: "error", metadata: {} },
    ]);
  });
});

describe("ingest assets", () => {
  it("lists each asset with its group, kind, dependencies and code version, and draws the graph", () => {
    const table = ingest("assets");
    expect(table.status, table.stderr).toBe(0);
    expect(table.stdout.split("\n")).toEqual([
      "ASSET          KIND   WRITES  CODE         DEPENDS ON",
      "shop/audit     asset          v1",
      "shop/regional  asset          v1 [static]",
      "shop/orders    asset          v1",
      "shop/revenue   asset          v1           shop/orders",
      "",
    ]);
    const json = JSON.parse(ingest("--json", "assets", "shop/orders+").stdout);
    expect(json).toEqual([
      {
        key: "shop/orders",
        group: "shop",
        kind: "asset",
        writes: "",
        deps: [],
        dependents: ["shop/revenue"],
        codeVersion: "1",
      },
      {
        key: "shop/revenue",
        group: "shop",
        kind: "asset",
        writes: "",
        deps: ["shop/orders"],
        dependents: [],
        codeVersion: "1",
      },
    ]);
    expect(ingest("assets", "--format", "mermaid").stdout).toBe(
      'flowchart LR\n  subgraph shop\n    a0["shop/audit"]\n    a1["shop/regional"]\n    a2["shop/orders"]\n    a3["shop/revenue"]\n  end\n  a2 --> a3\n',
    );
    expect(ingest("assets", "--format", "dot").stdout).toContain('  "shop/orders" -> "shop/revenue";\n}');
    expect(ingest("assets", "--format", "svg").stderr).toContain("Allowed choices are table, json, mermaid, dot");
  });
});

describe("ingest doctor", () => {
  it("checks the runtime, the definitions, the database and every resource, and says what to do", () => {
    // As a user with servers of their own: every address and password from the environment.
    const { uri, password } = settings().neo4j;
    const healthy = ingestWith({ NEO4J_URI: uri, NEO4J_PASSWORD: password }, "doctor");
    expect(healthy.status, healthy.stdout + healthy.stderr).toBe(0);
    expect(healthy.stdout).toMatch(/^ok {4}runtime {14}Node\.js 2\d\./m);
    expect(healthy.stdout).toMatch(/^ok {4}definitions {10}\S+definitions\.ts: 4 assets, 0 schedules, 0 sensors$/m);
    expect(healthy.stdout).toMatch(/^ok {4}schema /m);
    expect(healthy.stdout).toMatch(
      /^warn {2}workers {14}no worker is running: queued runs wait\n {6}→ start `ingest worker`/m,
    );
    expect(healthy.stdout).toMatch(/^ok {4}resource graph {7}a neo4j resource: connected$/m);

    const sick = ingestWith({
      NEO4J_URI: uri,
      NEO4J_PASSWORD: "not-the-password",
      DATABASE_URL: "postgres://x:y@127.0.0.1:1/z",
    }, "doctor");
    expect(sick.status).toBe(1);
    expect(sick.stdout).toMatch(
      /^FAIL {2}metadata database {4}cannot connect to the metadata database at postgres:\/\/x:\*\*\*@127\.0\.0\.1:1\/z/m,
    );
    expect(sick.stdout).toMatch(
      /^FAIL {2}resource graph .*it refused user 'neo4j' with the password given; check NEO4J_USER and NEO4J_PASSWORD/m,
    );
    expect(sick.stdout).not.toContain("not-the-password");
  });
});

describe("--json", () => {
  /** Every key of our own objects, not those inside user data (payloads, tags, counts, metadata, versions). */
  function keysOf(value: unknown, path = ""): string[] {
    if (Array.isArray(value)) return value.flatMap((v) => keysOf(v, path));
    if (value === null || typeof value !== "object") return [];
    return Object.entries(value).flatMap(([key, v]) => [
      `${path}${key}`,
      ...(["payload", "tags", "counts", "metadata", "upstreamVersions", "cursor"].includes(key)
        ? []
        : keysOf(v, `${path}${key}.`)),
    ]);
  }

  it("gives every field of every command in one casing, camelCase", () => {
    const waited = JSON.parse(ingest("--json", "materialize", "shop/orders", "--wait").stdout) as {
      run: { id: string };
    };
    const outputs = [
      waited,
      ...[
        ["runs"],
        ["runs", "show", waited.run.id],
        ["status"],
        ["workers"],
        ["ticks"],
        ["alerts"],
        ["dead-letters", "--all"],
        ["dead-letters", "--summary"],
        ["pending"],
        ["assets"],
        ["doctor"],
        ["lineage", "shop/orders"],
      ]
        .map((args) => {
          const result = ingest("--json", ...args);
          expect(result.stdout, `${args.join(" ")}: ${result.stderr}`).toMatch(/^[[{]/);
          return JSON.parse(result.stdout) as unknown;
        }),
    ];
    const keys = new Set(outputs.flatMap((output) => keysOf(output)));
    expect(keys.size).toBeGreaterThan(40);
    expect([...keys].filter((key) => !/^[a-z][a-zA-Z0-9]*$/.test(key.split(".").at(-1)!))).toEqual([]);
  });
});
