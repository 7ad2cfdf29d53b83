import { createHash } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Run } from "../../db/schema.ts";
import { camelCased } from "../../db/camel-case.ts";
import { recordTick, submitRunRequests } from "../../engine/automation/run-requests.ts";
import type { AssetGraph } from "../../engine/asset-graph.ts";
import { requestRun, waitForRun } from "../../engine/runs.ts";
import { type IngestWorker, prepareDatabase, startWorker } from "../../engine/worker.ts";
import { createPool, metadataDb, type pg } from "../../resources/postgres.ts";
import { settings } from "../../resources/settings.ts";
import { type DaemonProcess, eventually, loadProjectGraph, spawnDaemon, userProject } from "../daemon-support.ts";

const p = `fs_${Date.now().toString(36)}`;
const landing = mkdtempSync(join(tmpdir(), "ingest-landing-"));
const project = userProject(`import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { dailyPartitions, defineAsset, defineAssetSensor, defineDefinitions, defineFileSensor } from "ingest-graph";

const landing = ${JSON.stringify(landing)};

/** The csv files of a folder and a hash of their names and content. */
function read(folder) {
  const dir = join(landing, folder);
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".csv")).sort() : [];
  const hash = createHash("sha256");
  for (const file of files) hash.update(file).update(readFileSync(join(dir, file)));
  return { metadata: { files }, dataVersion: hash.digest("hex") };
}

const orders = defineAsset({ key: "${p}/orders", codeVersion: "1", materialize: async () => read("orders") });
const customers = defineAsset({ key: "${p}/customers", codeVersion: "1", materialize: async () => read("customers") });
const sales = defineAsset({
  key: "${p}/sales",
  codeVersion: "1",
  partitions: dailyPartitions({ start: "2026-01-01" }),
  materialize: async ({ partitionKey }) => {
    const text = readFileSync(join(landing, "sales", "sales-" + partitionKey + ".csv"), "utf8");
    return { metadata: { lines: text.trim().split("\\n").length }, dataVersion: createHash("sha256").update(text).digest("hex") };
  },
});
const slow = defineAsset({ key: "${p}/slow", codeVersion: "1", materialize: async () => read("slow") });
const marked = defineAsset({ key: "${p}/marked", codeVersion: "1", materialize: async () => read("marked") });
const report = defineAsset({
  key: "${p}/report",
  deps: [orders.key],
  codeVersion: "1",
  materialize: async ({ upstreamVersions }) => ({ dataVersion: upstreamVersions[orders.key] }),
});

export default defineDefinitions({
  assets: [orders, customers, sales, slow, marked, report],
  resources: {},
  sensors: [
    defineFileSensor({
      name: "${p}_landing",
      folder: landing,
      files: [
        { glob: "orders/*.csv", select: orders.key },
        { glob: "customers/*.csv", select: customers.key },
        { glob: "sales/sales-*.csv", select: sales.key, partition: (file) => /sales-(\\d{4}-\\d{2}-\\d{2})\\.csv$/.exec(file.path)[1] },
      ],
    }),
    defineFileSensor({ name: "${p}_slow", folder: join(landing, "slow"), files: [{ glob: "*.csv", select: slow.key }], complete: { quietMs: 4000 } }),
    defineFileSensor({
      name: "${p}_marked",
      folder: join(landing, "marked"),
      files: [{ glob: "*.csv", select: marked.key }],
      complete: { marker: ".done" },
      processed: { moveTo: "done" },
    }),
    defineAssetSensor({ name: "${p}_eager", watch: orders.key, select: report.key }),
  ],
});
`);

let pool: pg.Pool;
let graph: AssetGraph;
let worker: IngestWorker;
let daemon: DaemonProcess;
const db = () => metadataDb(pool);
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

beforeAll(async () => {
  for (const folder of ["orders", "customers", "sales", "slow", "marked"]) mkdirSync(join(landing, folder));
  pool = createPool(settings().databaseUrl);
  await prepareDatabase(pool);
  graph = await loadProjectGraph(project.file);
  worker = await startWorker({ graph, pool, concurrency: 2, pollIntervalMs: 200 });
  daemon = spawnDaemon(project.file);
});

afterAll(async () => {
  await daemon?.kill();
  await worker?.stop();
  await pool.end();
  project.remove();
  rmSync(landing, { recursive: true, force: true });
});

async function runsOf(instigator: string): Promise<Run[]> {
  const rows = await db().selectFrom("ingest.runs").selectAll()
    .where(sql<boolean>`tags->>'ingest/instigator' = ${instigator}`).orderBy("created_at").execute();
  return rows.map(camelCased);
}

/** The run requested for a file (by its path in the sensor's folder), once it has finished. */
async function runForFile(sensor: string, path: string) {
  const run = await eventually(
    `a run for ${path}`,
    async () => (await runsOf(sensor)).find((r) => r.tags["ingest/file"] === path),
  );
  return waitForRun(db(), run.id, 100);
}

/** Evaluations of a sensor recorded by one daemon process (folded idle ticks count each). */
async function evaluationsBy(sensor: string, pid: number): Promise<number> {
  const { rows } = await sql<
    { n: number }
  >`select coalesce(sum(evaluations), 0)::int as n from ingest.ticks where instigator = ${sensor} and daemon like ${`%:${pid}`}`
    .execute(db());
  return rows[0]!.n;
}

describe("file sensors run by `ingest daemon`", () => {
  it("a file that lands materialises exactly the assets that read it, and the eager sensor then the stale downstream", async () => {
    writeFileSync(join(landing, "orders", "a.csv"), "order_id,total\nO-1,10\n");
    const { run, steps } = await runForFile(`${p}_landing`, "orders/a.csv");
    expect(run.status).toBe("succeeded");
    expect(steps.map((s) => s.stepKey)).toEqual([`${p}/orders`]);
    expect(run.tags).toMatchObject({
      "ingest/file": "orders/a.csv",
      "ingest/file_sha256": sha256("order_id,total\nO-1,10\n"),
      "ingest/instigator": `${p}_landing`,
    });
    const materialized = await db().selectFrom("ingest.materializations").select(["asset_key", "metadata"]).where(
      "run_id",
      "=",
      run.id,
    ).execute();
    expect(materialized).toEqual([{ asset_key: `${p}/orders`, metadata: { files: ["a.csv"] } }]);

    // graph-style downstream: when orders materialises, the eager sensor materialises report, which is now stale.
    const eager = await eventually("the eager run", async () => (await runsOf(`${p}_eager`))[0]);
    const downstream = await waitForRun(db(), eager.id, 100);
    expect(downstream.steps.map((s) => [s.stepKey, s.status])).toEqual([[`${p}/report`, "succeeded"]]);
    expect((await runsOf(`${p}_landing`)).length).toBe(1);
  });

  it("a file's name can be its partition", async () => {
    writeFileSync(join(landing, "sales", "sales-2026-01-02.csv"), "sku,qty\nA,1\nB,2\n");
    const { run, steps } = await runForFile(`${p}_landing`, "sales/sales-2026-01-02.csv");
    expect(run.status).toBe("succeeded");
    expect(steps.map((s) => s.stepKey)).toEqual([`${p}/sales:2026-01-02`]);
  });

  it("a half-written file waits until it is complete, then requests one run for its whole content", async () => {
    const half = "id,text\n" + "1,first half\n".repeat(500);
    const rest = "2,second half\n".repeat(500);
    writeFileSync(join(landing, "slow", "big.csv"), half);
    await eventually("the sensor to see the file being written", async () => {
      const tick = await db().selectFrom("ingest.ticks").selectAll().where("instigator", "=", `${p}_slow`).orderBy(
        "id",
        "desc",
      ).executeTakeFirst();
      return tick?.status === "evaluated" &&
          tick.reason === "waiting for 1 file to complete: big.csv (still being written)"
        ? true
        : undefined;
    });
    expect(await runsOf(`${p}_slow`)).toEqual([]);
    appendFileSync(join(landing, "slow", "big.csv"), rest);
    const { run } = await runForFile(`${p}_slow`, "big.csv");
    expect(run.tags["ingest/file_sha256"]).toBe(sha256(half + rest));
    expect((await runsOf(`${p}_slow`)).length).toBe(1);
  });

  it("with a marker, a file waits for its marker; once processed it moves out of the landing folder", async () => {
    writeFileSync(join(landing, "marked", "m.csv"), "a,b\n1,2\n");
    await eventually("three evaluations waiting for the marker", async () => {
      const tick = await db().selectFrom("ingest.ticks").selectAll().where("instigator", "=", `${p}_marked`).orderBy(
        "id",
        "desc",
      ).executeTakeFirst();
      return tick?.reason === "waiting for 1 file to complete: m.csv (no marker m.csv.done)" && tick.evaluations >= 3
        ? true
        : undefined;
    });
    expect(await runsOf(`${p}_marked`)).toEqual([]);
    writeFileSync(join(landing, "marked", "m.csv.done"), "");
    const { run } = await runForFile(`${p}_marked`, "m.csv");
    expect(run.status).toBe("succeeded");
    await eventually(
      "the file to move",
      async () => (existsSync(join(landing, "marked", "done", "m.csv")) ? true : undefined),
    );
    expect(existsSync(join(landing, "marked", "m.csv"))).toBe(false);
    expect(existsSync(join(landing, "marked", "done", "m.csv.done"))).toBe(true);
    const row = await db().selectFrom("ingest.sensor_files").selectAll().where("sensor", "=", `${p}_marked`)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ path: "m.csv", status: "moved", run_id: run.id });
  });

  it("a restarted daemon repeats no file, misses none that landed while it was down, and ignores a touch", async () => {
    const landed = (await runsOf(`${p}_landing`)).length;
    expect(await daemon.stop()).toBe(0);
    writeFileSync(join(landing, "orders", "b.csv"), "order_id,total\nO-2,20\n");
    daemon = spawnDaemon(project.file);
    const { run } = await runForFile(`${p}_landing`, "orders/b.csv");
    expect(run.status).toBe("succeeded");
    await eventually(
      "ten evaluations by the new daemon",
      async () => ((await evaluationsBy(`${p}_landing`, daemon.pid)) >= 10 ? true : undefined),
    );
    expect((await runsOf(`${p}_landing`)).length).toBe(landed + 1);

    // Same content, new mtime: the cursor takes the mtime, no run.
    const later = new Date(Date.now() + 5_000);
    utimesSync(join(landing, "orders", "a.csv"), later, later);
    await eventually("the cursor to take the new mtime", async () => {
      const row = await db().selectFrom("ingest.sensor_files").select("mtime_ms").where("sensor", "=", `${p}_landing`)
        .where("path", "=", "orders/a.csv").executeTakeFirstOrThrow();
      return row.mtime_ms === later.getTime() ? true : undefined;
    });
    // A changed file is new again.
    await sleep(100);
    writeFileSync(join(landing, "orders", "a.csv"), "order_id,total\nO-1,11\n");
    const changed = await eventually(
      "a run for the changed file",
      async () =>
        (await runsOf(`${p}_landing`)).find((r) =>
          r.tags["ingest/file"] === "orders/a.csv" &&
          r.tags["ingest/file_sha256"] === sha256("order_id,total\nO-1,11\n")
        ),
    );
    expect((await waitForRun(db(), changed.id, 100)).run.status).toBe("succeeded");
    expect((await runsOf(`${p}_landing`)).length).toBe(landed + 2);
    expect(await daemon.stop()).toBe(0);
  });
});

describe("run requests", () => {
  it("a request left pending by a crashed daemon is made once, however many daemons submit it, also when its run already exists", async () => {
    const runIds = await db().transaction().execute((tx) =>
      recordTick(
        tx,
        {
          instigator: `${p}_crashed`,
          kind: "asset-sensor",
          tickTime: new Date(),
          status: "requested",
          reason: "test",
          requests: [
            { selection: `${p}/customers`, keys: [`${p}/customers`], tags: {} },
            { selection: `${p}/customers`, keys: [`${p}/customers`], tags: {} },
          ],
        },
        "crashed:1",
      )
    );
    // The daemon died after creating the first run, before recording that it had.
    await requestRun(db(), graph, {
      selection: `${p}/customers`,
      keys: [`${p}/customers`],
      runId: runIds![0],
      tags: { "ingest/instigator": `${p}_crashed` },
    });
    await Promise.all([submitRunRequests(db(), graph, runIds), submitRunRequests(db(), graph, runIds)]);
    const requests = await db().selectFrom("ingest.run_requests").select(["run_id", "status"]).where(
      "run_id",
      "in",
      runIds!,
    ).orderBy("run_id").execute();
    expect(requests.map((r) => r.status)).toEqual(["requested", "requested"]);
    const runs = await db().selectFrom("ingest.runs").select("id").where("id", "in", runIds!).execute();
    expect(runs.length).toBe(2);
    for (const id of runIds!) expect((await waitForRun(db(), id, 100)).run.status).toBe("succeeded");
  });
});
