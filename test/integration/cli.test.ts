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
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "my-pipeline", type: "module", private: true }));
  writeFileSync(
    join(project, "definitions.ts"),
    `import { defineAsset, defineDefinitions, staticPartitions } from "ingest-graph";

const orders = defineAsset({ key: "shop/orders", codeVersion: "1", materialize: async () => ({ dataVersion: "o1" }) });
const regional = defineAsset({
  key: "shop/regional",
  codeVersion: "1",
  partitions: staticPartitions(["eu", "us"]),
  materialize: async () => ({}),
});
export default defineDefinitions({ assets: [orders, regional], resources: {} });
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

/** `ingest …` run in the project folder, as `npx ingest …` there would. */
const ingest = (...args: string[]) => {
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: "warn" };
  delete env.DATABASE_URL_FILE;
  delete env.INGEST_DEFINITIONS;
  delete env.INGEST_PROJECT_DIR;
  const result = spawnSync(node, [cli, ...args], { cwd: project, encoding: "utf8", env });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
};

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
