import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildAssetGraph } from "../../engine/asset-graph.ts";
import { type Definitions } from "../../engine/definitions.ts";
import { requestRun, waitForRun } from "../../engine/runs.ts";
import { startWorker as startInProcessWorker } from "../../engine/worker.ts";
import { runInBatches } from "../../connectors/neo4j/index.ts";
import { packageRoot } from "../../resources/settings.ts";
import {
  gate,
  gatedDefinitions,
  livenessDefinitions,
  until,
  within,
  writeDefinitionsModule,
} from "../queue-project.ts";
import { projectSnapshot } from "../project-snapshot.ts";
import { connect } from "../support.ts";

const node = join(packageRoot, "node_modules", ".bin", "node");
const cli = join(packageRoot, "cli", "main.ts");
const dir = mkdtempSync(join(tmpdir(), "ingest-liveness-"));
const stamp = Date.now().toString(36);
const workers: ChildProcess[] = [];
let env: Awaited<ReturnType<typeof connect>>;

beforeAll(async () => {
  env = await connect();
});

afterAll(async () => {
  for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill("SIGKILL");
  if (env) {
    await runInBatches(
      env.neo4j,
      `MATCH (n) WHERE any(l IN labels(n) WHERE l STARTS WITH 'LivenessTest_lv${stamp}') CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS`,
    );
    for (const prefix of [`lv${stamp}c`, `lv${stamp}k`]) await env.chroma.drop(`${prefix}-items`);
    await env.close();
  }
  if (!process.env.INGEST_KEEP_TEST_FILES) rmSync(dir, { recursive: true, force: true });
});

/** A worker in another process; its log goes to the test's folder (INGEST_KEEP_TEST_FILES=1 keeps it). */
function startWorker(definitionsFile: string, ...args: string[]): ChildProcess {
  const log = openSync(join(dir, `worker-${workers.length + 1}.log`), "a");
  const worker = spawn(node, [cli, "--definitions", definitionsFile, "worker", "--concurrency", "2", ...args], {
    stdio: ["ignore", log, log],
  });
  workers.push(worker);
  return worker;
}

const exitOf = (worker: ChildProcess) =>
  new Promise<number | null>((
    resolve,
  ) => (worker.exitCode !== null ? resolve(worker.exitCode) : worker.once("exit", (code) => resolve(code))));

async function request(definitions: Definitions): Promise<string> {
  const graph = buildAssetGraph(definitions);
  return requestRun(env.db, graph, { selection: "*", keys: graph.order });
}

const stepOf = async (runId: string, assetKey: string) =>
  env.db.selectFrom("ingest.run_steps").selectAll().where("run_id", "=", runId).where("asset_key", "=", assetKey)
    .executeTakeFirstOrThrow();

const workerRow = (pid: number) =>
  env.db.selectFrom("ingest.workers").selectAll().where("pid", "=", pid).orderBy("started_at", "desc")
    .executeTakeFirstOrThrow();

const snapshot = (prefix: string) => projectSnapshot(env, prefix);

describe("worker liveness", () => {
  it("retries the asset of a SIGKILLed worker within 60 s; the graph and collection equal a clean run's", async () => {
    const gates = join(dir, "gates");
    const clean = livenessDefinitions(`lv${stamp}c`, gates);
    const crashed = livenessDefinitions(`lv${stamp}k`, join(dir, "gates-k"));

    // A clean run, by a worker in another process.
    const cleanWorker = startWorker(writeDefinitionsModule(dir, "livenessDefinitions", `lv${stamp}c`, gates));
    const cleanRun = await within(120_000, "the clean run", waitForRun(env.db, await request(clean)));
    expect(cleanRun.run.status, cleanRun.run.error ?? "").toBe("succeeded");
    cleanWorker.kill("SIGTERM");
    expect(await exitOf(cleanWorker)).toBe(0);

    // The same project again, its worker killed while the Tag asset has written half its nodes.
    const gatesK = join(dir, "gates-k");
    gate.close(gatesK, "tags");
    const file = writeDefinitionsModule(dir, "livenessDefinitions", `lv${stamp}k`, gatesK);
    const first = startWorker(file);
    const runId = await request(crashed);
    await until(
      "the first worker reaches the Tag asset",
      120_000,
      () => gate.reached(gatesK, "tags").some((r) => r.pid === first.pid),
    );
    first.kill("SIGKILL");
    const killedAt = Date.now();
    await exitOf(first);
    gate.open(gatesK, "tags");
    const second = startWorker(file);

    const { run, steps } = await within(90_000, "the run after the kill", waitForRun(env.db, runId));
    expect(run.status, run.error ?? "").toBe("succeeded");
    const retry = gate.reached(gatesK, "tags").find((r) => r.pid === second.pid);
    expect(retry).toBeDefined();
    const secondsToRetry = (retry!.at - killedAt) / 1000;
    console.log(`SIGKILL to retry start: ${secondsToRetry.toFixed(1)} s`);
    expect(secondsToRetry).toBeLessThan(60);
    expect(steps.every((s) => s.status === "succeeded")).toBe(true);
    expect((await stepOf(runId, `lv${stamp}k/Tag`)).attempts).toBe(2);
    const dead = await workerRow(first.pid!);
    expect(dead.released_at).not.toBeNull();
    expect(dead.released_jobs.length).toBeGreaterThan(0);

    second.kill("SIGTERM");
    expect(await exitOf(second)).toBe(0);

    const [expected, actual] = [await snapshot(`lv${stamp}c`), await snapshot(`lv${stamp}k`)];
    expect(actual.counts).toEqual({
      nodes: 46,
      distinctNodes: 46,
      relationships: 40,
      distinctRelationships: 40,
      documents: 40,
    });
    expect(actual.counts).toEqual(expected.counts);
    expect(actual.graphChecksum).toBe(expected.graphChecksum);
    expect(actual.collectionChecksum).toBe(expected.collectionChecksum);
    for (const [id, vector] of actual.embeddings) {
      const other = expected.embeddings.get(id)!;
      expect(vector.reduce((sum, x, i) => sum + x * other[i]!, 0)).toBeGreaterThan(0.999);
    }
  });

  it("on SIGTERM finishes its in-flight materialisation, then exits 0 holding no job", async () => {
    const prefix = `lv${stamp}t`;
    const gates = join(dir, "gates-t");
    gate.close(gates, "slow");
    const worker = startWorker(writeDefinitionsModule(dir, "gatedDefinitions", prefix, gates));
    const runId = await request(gatedDefinitions(prefix, gates));
    await until("the worker reaches the slow asset", 60_000, () => gate.reached(gates, "slow").length > 0);
    worker.kill("SIGTERM");
    await sleep(1_500);
    expect(worker.exitCode).toBeNull();
    gate.open(gates, "slow");
    expect(await within(60_000, "the worker's exit", exitOf(worker))).toBe(0);

    const slow = await stepOf(runId, `${prefix}/slow`);
    expect([slow.status, slow.attempts]).toEqual(["succeeded", 1]);
    const row = await workerRow(worker.pid!);
    expect(row.stopped_at).not.toBeNull();
    const { rows } = await sql<
      { n: number }
    >`select count(*)::int as n from graphile_worker.jobs where locked_by = ${row.id}`.execute(env.db);
    expect(rows[0]!.n).toBe(0);
    // What is downstream runs when a worker is there again.
    const next = startWorker(writeDefinitionsModule(dir, "gatedDefinitions", prefix, gates));
    expect((await within(60_000, "the run", waitForRun(env.db, runId))).run.status).toBe("succeeded");
    next.kill("SIGTERM");
    expect(await exitOf(next)).toBe(0);
  });

  it("on SIGTERM returns a materialisation that outlasts the grace period to the queue, without spending an attempt", async () => {
    const prefix = `lv${stamp}r`;
    const gates = join(dir, "gates-r");
    gate.close(gates, "slow");
    const file = writeDefinitionsModule(dir, "gatedDefinitions", prefix, gates);
    const worker = startWorker(file, "--grace", "1");
    const runId = await request(gatedDefinitions(prefix, gates));
    await until("the worker reaches the slow asset", 60_000, () => gate.reached(gates, "slow").length > 0);
    worker.kill("SIGTERM");
    expect(await within(30_000, "the worker's exit", exitOf(worker))).toBe(0);

    const row = await workerRow(worker.pid!);
    expect(row.released_jobs).toHaveLength(1);
    const { rows } = await sql<{ locked_at: Date | null }>`select locked_at from graphile_worker.jobs where id = ${
      row.released_jobs[0]
    }`.execute(env.db);
    expect(rows[0]!.locked_at).toBeNull();
    expect((await stepOf(runId, `${prefix}/slow`)).status).toBe("running");

    gate.open(gates, "slow");
    const next = startWorker(file);
    const { run } = await within(60_000, "the run", waitForRun(env.db, runId));
    expect(run.status, run.error ?? "").toBe("succeeded");
    const slow = await stepOf(runId, `${prefix}/slow`);
    expect([slow.status, slow.attempts]).toEqual(["succeeded", 1]);
    next.kill("SIGTERM");
    expect(await exitOf(next)).toBe(0);
  });

  it("abandons a materialisation whose job was released to other workers, and records only the attempt that replaced it", async () => {
    const prefix = `lv${stamp}l`;
    const gates = join(dir, "gates-l");
    gate.close(gates, "slow");
    const graph = buildAssetGraph(gatedDefinitions(prefix, gates));
    const worker = await startInProcessWorker({
      graph,
      pool: env.pool,
      concurrency: 2,
      pollIntervalMs: 200,
      liveness: { heartbeatMs: 300, timeoutMs: 60_000 },
    });
    try {
      const runId = await requestRun(env.db, graph, { selection: "*", keys: graph.order });
      await until("the worker reaches the slow asset", 30_000, () => gate.reached(gates, "slow").length > 0);
      // What another worker's sweep does when this one's heartbeat is late (a stalled event loop, a network partition).
      await sql`select ingest.release_worker_jobs(${[worker.id]}::text[], 'presumed dead by the test', true)`.execute(
        env.db,
      );
      await until("the abandoned materialisation stops", 10_000, () => gate.aborted(gates, "slow"));
      gate.open(gates, "slow");
      const { run } = await within(30_000, "the run", waitForRun(env.db, runId));
      expect(run.status, run.error ?? "").toBe("succeeded");
      expect((await stepOf(runId, `${prefix}/slow`)).attempts).toBe(2);
      const recorded = await env.db.selectFrom("ingest.materializations").select(["status", "attempt"]).where(
        "run_id",
        "=",
        runId,
      ).where("asset_key", "=", `${prefix}/slow`).execute();
      expect(recorded).toEqual([{ status: "succeeded", attempt: 2 }]);
    } finally {
      await worker.stop();
    }
  });

  it("replaces a graphile-worker runner that ended on its own, and goes on taking jobs", async () => {
    const prefix = `lv${stamp}r`;
    const gates = join(dir, "gates-r");
    gate.close(gates, "slow");
    const graph = buildAssetGraph(gatedDefinitions(prefix, gates));
    const worker = await startInProcessWorker({
      graph,
      pool: env.pool,
      concurrency: 2,
      pollIntervalMs: 200,
      liveness: { heartbeatMs: 300, timeoutMs: 60_000 },
    });
    try {
      const runId = await requestRun(env.db, graph, { selection: "*", keys: graph.order });
      await until("the worker reaches the slow asset", 30_000, () => gate.reached(gates, "slow").length > 0);
      const first = worker.id;
      // What graphile-worker does when it cannot record a job's end (its queue connection lost): its runner
      // shuts down, letting the job in flight finish.
      const ended = worker.runner.stop();
      gate.open(gates, "slow");
      await ended;
      await until("a new runner", 30_000, () => worker.id !== first);
      const { run } = await within(60_000, "the run", waitForRun(env.db, runId));
      expect(run.status, run.error ?? "").toBe("succeeded");
      // The new runner takes jobs: a second run of the same assets.
      const again = await requestRun(env.db, graph, { selection: "*", keys: graph.order });
      const second = await within(60_000, "the second run", waitForRun(env.db, again));
      expect(second.run.status, second.run.error ?? "").toBe("succeeded");
      const row = await env.db.selectFrom("ingest.workers").selectAll().where("id", "=", first)
        .executeTakeFirstOrThrow();
      expect(row.stopped_at).not.toBeNull();
    } finally {
      await worker.stop();
    }
  });
});
