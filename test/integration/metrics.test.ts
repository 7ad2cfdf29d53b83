import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPool, type pg } from "../../resources/postgres.ts";
import { packageRoot, settings } from "../../resources/settings.ts";
import { promtool } from "../../stack/system.ts";
import { exitOf, startUntil } from "../processes.ts";

/**
 * Prometheus metrics as an operator scrapes them: a worker and a daemon in processes of their own, a
 * run with a dead-lettered record and a retried asset, the exposition read over HTTP, its figures held
 * against what the metadata store recorded, and the text checked by Prometheus' own `promtool`.
 */
const node = join(packageRoot, "node_modules", ".bin", "node");
const cli = join(packageRoot, "bin", "ingest.js");
const project = mkdtempSync(join(tmpdir(), "ingest-metrics-project-"));
const database = "ingest_metrics_test";
let admin: pg.Pool;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  mkdirSync(join(project, "node_modules"));
  symlinkSync(packageRoot, join(project, "node_modules", "ingest-graph"));
  symlinkSync(join(packageRoot, "node_modules", "zod"), join(project, "node_modules", "zod"));
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "metrics-project", type: "module" }));
  writeFileSync(join(project, "books.csv"), "isbn,title\n1,Dune\n2,Emma\n,Nameless\n3,Ulysses\n");
  writeFileSync(
    join(project, "definitions.ts"),
    `import { defineAsset, defineDefinitions, defineStagedAsset, readCsv, stagingResource } from "ingest-graph";
import { z } from "zod";

const books = defineStagedAsset({
  key: "shop/books", table: "metrics_books", source: "books.csv", codeVersion: "1",
  model: z.object({ isbn: z.string().min(1), title: z.string() }),
  sourceKey: (b) => b.isbn, rawKey: (row) => row.isbn,
  extract: () => readCsv(${JSON.stringify(join(project, "books.csv"))}),
});
let attempts = 0;
const flaky = defineAsset({
  key: "shop/flaky", deps: ["shop/books"], codeVersion: "1", retry: { maxAttempts: 2, initialDelayMs: 10 },
  async materialize() {
    attempts++;
    if (attempts === 1) throw new Error("the first attempt fails");
    return { counts: { checked: 3 } };
  },
});
export default defineDefinitions({ assets: [books, flaky], resources: { staging: stagingResource() } });
`,
  );
  admin = createPool(settings().databaseUrl, 1);
  await admin.query(`drop database if exists ${database} with (force)`);
  await admin.query(`create database ${database}`);
  const url = new URL(settings().databaseUrl);
  url.pathname = `/${database}`;
  env = { ...process.env, DATABASE_URL: url.toString(), LOG_LEVEL: "info", INGEST_PROJECT_DIR: project };
  delete env.INGEST_DEFINITIONS;
});

afterAll(async () => {
  await admin.query(`drop database if exists ${database} with (force)`);
  await admin.end();
  rmSync(project, { recursive: true, force: true });
});

/** The samples of an exposition: `name{label="value",…} number` lines, by name and labels. */
function samples(text: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (match) found.set(`${match[1]}${match[2] ?? ""}`, Number(match[3]));
  }
  return found;
}

const scrape = async (url: string) => {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("text/plain");
  return response.text();
};

function checkedByPromtool(text: string): void {
  const tool = promtool();
  expect(tool, "promtool (Debian's prometheus package) could not be installed").toBeDefined();
  const check = spawnSync(tool!, ["check", "metrics"], { input: text, encoding: "utf8" });
  expect(check.status, `${check.stdout}${check.stderr}`).toBe(0);
}

describe("Prometheus metrics", () => {
  it("a worker's counters equal what the store recorded of a run, and promtool accepts the exposition", async () => {
    const worker = await startUntil(`exec ${node} ${cli} worker --metrics-port 0`, {
      cwd: project,
      env,
      ready: /"metrics":"http:\/\/127\.0\.0\.1:\d+\/metrics"/,
    });
    try {
      const url = /"metrics":"([^"]+)"/.exec(worker.output())![1]!;
      const run = spawnSync(node, [cli, "--json", "materialize", "*", "--wait", "--no-local-worker"], {
        cwd: project,
        env: { ...env, LOG_LEVEL: "warn" },
        encoding: "utf8",
      });
      expect(run.status, run.stderr).toBe(0);
      const { run: { id } } = JSON.parse(run.stdout) as { run: { id: string } };

      const text = await scrape(url);
      const found = samples(text);
      const pool = createPool(env.DATABASE_URL!, 1);
      try {
        const { rows } = await pool.query<{ asset_key: string; status: string; counts: Record<string, number> }>(
          "select asset_key, status, counts from ingest.materializations where run_id = $1 order by id",
          [id],
        );
        const succeeded = rows.filter((r) => r.status === "succeeded");
        expect(succeeded.map((r) => r.asset_key).sort()).toEqual(["shop/books", "shop/flaky"]);
        for (const { asset_key: asset, counts } of succeeded) {
          for (const [kind, n] of Object.entries(counts)) {
            if (n > 0) {
              expect(found.get(`ingest_records_total{asset="${asset}",kind="${kind}"}`), `${asset} ${kind}`).toBe(n);
            }
          }
        }
        expect(succeeded.find((r) => r.asset_key === "shop/books")!.counts.deadLettered).toBe(1);
        expect(rows.filter((r) => r.status === "failed").map((r) => r.asset_key)).toEqual(["shop/flaky"]);
      } finally {
        await pool.end();
      }
      expect(found.get('ingest_materializations_total{asset="shop/books",outcome="succeeded"}')).toBe(1);
      expect(found.get('ingest_materializations_total{asset="shop/flaky",outcome="retried"}')).toBe(1);
      expect(found.get('ingest_materializations_total{asset="shop/flaky",outcome="succeeded"}')).toBe(1);
      expect(found.get('ingest_materialization_duration_seconds_count{asset="shop/flaky",outcome="retried"}')).toBe(1);
      expect(found.get("ingest_job_pickup_latency_seconds_count")).toBe(3);
      expect(found.get('ingest_queue_jobs{state="running"}')).toBe(0);
      expect(found.get('ingest_workers{state="live"}')).toBe(1);
      expect(found.get('ingest_process_up{role="worker"}')).toBe(1);
      expect(found.get("ingest_process_resident_memory_bytes")).toBeGreaterThan(0);
      checkedByPromtool(text);
    } finally {
      worker.child.kill("SIGTERM");
      expect(await exitOf(worker.child)).toBe(0);
    }
  });

  it("a daemon serves its ticks and how late it evaluated each schedule and sensor", async () => {
    writeFileSync(
      join(project, "daemon.ts"),
      `import definitions from "./definitions.ts";
import { defineSchedule } from "ingest-graph";
export default { ...definitions, schedules: [defineSchedule({ name: "every_second", cron: "* * * * * *", select: "shop/books" })] };
`,
    );
    const daemon = await startUntil(`exec ${node} ${cli} --definitions daemon.ts daemon --metrics-port 0`, {
      cwd: project,
      env,
      ready: /evaluating schedules and sensors/,
    });
    try {
      const url = /"metrics":"([^"]+)"/.exec(daemon.output())?.[1] ?? "";
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      const text = await scrape(url);
      const found = samples(text);
      expect(found.get('ingest_ticks_total{instigator="every_second",status="requested"}')).toBeGreaterThanOrEqual(1);
      expect(found.get('ingest_tick_lag_seconds{instigator="every_second"}')).toBeGreaterThanOrEqual(0);
      expect(found.get('ingest_process_up{role="daemon"}')).toBe(1);
      checkedByPromtool(text);
    } finally {
      daemon.child.kill("SIGTERM");
      expect(await exitOf(daemon.child)).toBe(0);
    }
  });
});
