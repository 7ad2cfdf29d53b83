import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AssetDefinition, defineAsset, DefinitionError } from "../../engine/asset.ts";
import { cancelRun } from "../../engine/cancel.ts";
import { type AssetGraph, buildAssetGraph } from "../../engine/asset-graph.ts";
import { type Definitions } from "../../engine/definitions.ts";
import { requestRun, waitForRun } from "../../engine/runs.ts";
import { type IngestWorker, prepareDatabase, startWorker } from "../../engine/worker.ts";
import { createPool, metadataDb, type pg } from "../../resources/postgres.ts";
import { packageRoot, settings } from "../../resources/settings.ts";
import { gate, until, within } from "../queue-project.ts";

const node = join(packageRoot, "node_modules", ".bin", "node");
const cli = join(packageRoot, "cli", "main.ts");
const dir = mkdtempSync(join(tmpdir(), "ingest-run-queue-"));
let pool: pg.Pool;
let db: ReturnType<typeof metadataDb>;

beforeAll(async () => {
  pool = createPool(settings().databaseUrl, 20);
  await prepareDatabase(pool);
  db = metadataDb(pool);
});
afterAll(async () => {
  await db?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

interface Interval {
  asset: string;
  start: number;
  end: number;
}

/** Assets under a fresh prefix that record when they ran; `run` is each one's body. */
function project(
  names: Record<
    string,
    { deps?: string[]; group?: string; retry?: number; run?: (signal: AbortSignal) => Promise<void> }
  >,
  limits?: Definitions["concurrency"],
) {
  const prefix = `q_${randomBytes(4).toString("hex")}`;
  const key = (name: string) => `${prefix}/${name}`;
  const ran: Interval[] = [];
  const assets: AssetDefinition[] = Object.entries(names).map(([name, spec]) =>
    defineAsset({
      key: key(name),
      group: spec.group ?? prefix,
      deps: (spec.deps ?? []).map(key),
      codeVersion: "1",
      retry: { maxAttempts: spec.retry ?? 1, initialDelayMs: 100 },
      async materialize({ signal }) {
        const start = Date.now();
        await spec.run?.(signal);
        ran.push({ asset: name, start, end: Date.now() });
        return { counts: { loaded: 1 }, dataVersion: "v1" };
      },
    })
  );
  const graph = buildAssetGraph({ assets, resources: {}, concurrency: limits });
  return { prefix, key, ran, graph };
}

const request = (graph: AssetGraph, keys: string[], priority?: number) =>
  requestRun(db, graph, { selection: keys.join(" "), keys, priority });

async function withWorkers<T>(
  graph: AssetGraph,
  count: number,
  concurrency: number,
  body: () => Promise<T>,
): Promise<T> {
  const workers: IngestWorker[] = [];
  try {
    for (let i = 0; i < count; i++) {
      workers.push(await startWorker({ graph, pool, concurrency, pollIntervalMs: 100, cancelPollMs: 200 }));
    }
    return await body();
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
}

const stepsOf = (runId: string) =>
  db.selectFrom("ingest.run_steps").selectAll().where("run_id", "=", runId).orderBy("step_key").execute();
const jobOf = async (stepKey: string) =>
  (await sql<
    { id: string; priority: number; locked_at: Date | null }
  >`select id, priority, locked_at from graphile_worker.jobs where key = ${`ingest:${stepKey}`}`.execute(db)).rows[0];

describe("priorities", () => {
  it("starts a later run of higher priority first; a step two runs share takes the more urgent priority", async () => {
    const t = project({ a1: {}, a2: {}, a3: {}, b1: {}, b2: {}, b3: {}, x: {} });
    const low = await request(t.graph, ["a1", "a2", "a3"].map(t.key), 5);
    const high = await request(t.graph, ["b1", "b2", "b3"].map(t.key), -5);
    const lazy = await request(t.graph, [t.key("x")], 10);
    expect((await jobOf(t.key("x")))!.priority).toBe(10);
    const eager = await request(t.graph, [t.key("x")], -3);
    expect((await jobOf(t.key("x")))!.priority).toBe(-3);

    await withWorkers(t.graph, 1, 1, async () => {
      for (const runId of [low, high, lazy, eager]) {
        expect((await within(60_000, "the runs", waitForRun(db, runId))).run.status).toBe("succeeded");
      }
    });
    const order = t.ran.sort((p, q) => p.start - q.start).map((r) => r.asset);
    expect(order.slice(0, 3).sort()).toEqual(["b1", "b2", "b3"]);
    expect(order[3]).toBe("x");
    expect(order.slice(4).sort()).toEqual(["a1", "a2", "a3"]);
    const runs = await db.selectFrom("ingest.runs").select(["id", "priority"]).where("id", "in", [low, high]).execute();
    expect(Object.fromEntries(runs.map((r) => [r.id, r.priority]))).toEqual({ [low]: 5, [high]: -5 });
  });

  it("rejects a priority graphile-worker cannot hold", async () => {
    const t = project({ a: {} });
    await expect(request(t.graph, [t.key("a")], 40_000)).rejects.toThrow(/-32768 to 32767/);
  });
});

describe("concurrency limits", () => {
  it("never runs more than a group's limit at once, over every worker", async () => {
    const group = `lim_${randomBytes(3).toString("hex")}`;
    const names = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`n${i}`, { group, run: () => sleep(400) }]));
    const t = project({ ...names, free: { run: () => sleep(100) } }, { groups: { [group]: 2 } });
    const runId = await request(t.graph, t.graph.order);
    await withWorkers(t.graph, 2, 4, async () => {
      const { run } = await within(120_000, "the run", waitForRun(db, runId));
      expect(run.status, run.error ?? "").toBe("succeeded");
    });
    const limited = t.ran.filter((r) => r.asset !== "free");
    expect(limited).toHaveLength(8);
    const mostAtOnce = Math.max(
      ...limited.map((r) => limited.filter((o) => o.start <= r.start && r.start < o.end).length),
    );
    expect(mostAtOnce).toBeLessThanOrEqual(2);
    const steps = await stepsOf(runId);
    expect(steps.filter((s) => s.group_name === group)).toHaveLength(8);
  });

  it("never runs more than the global limit at once, whatever the groups, over every worker", async () => {
    const names = Object.fromEntries(
      Array.from(
        { length: 6 },
        (_, i) => [`g${i}`, {
          group: `grp_${i % 3}_${randomBytes(2).toString("hex")}`,
          run: () => sleep(400),
        }],
      ),
    );
    const t = project(names, { global: 3 });
    const runId = await request(t.graph, t.graph.order);
    await withWorkers(t.graph, 2, 4, async () => {
      const { run } = await within(120_000, "the run", waitForRun(db, runId));
      expect(run.status, run.error ?? "").toBe("succeeded");
    });
    expect(t.ran).toHaveLength(6);
    const mostAtOnce = Math.max(...t.ran.map((r) => t.ran.filter((o) => o.start <= r.start && r.start < o.end).length));
    expect(mostAtOnce).toBeLessThanOrEqual(3);
  });

  it("rejects a limit for a group no asset belongs to, or one that is not a whole number", () => {
    expect(() => project({ a: {} }, { global: 0 })).toThrow(/global concurrency limit/);
    expect(() => project({ a: {} }, { groups: { nowhere: 1 } })).toThrow(DefinitionError);
    expect(() => project({ a: { group: "g" } }, { groups: { g: 0 } })).toThrow(/whole number/);
  });
});

describe("cancel", () => {
  it("cancels a run nothing has started: its steps never run and its jobs are gone", async () => {
    const t = project({ a: {}, b: { deps: ["a"] } });
    const runId = await request(t.graph, t.graph.order);
    expect(await jobOf(t.key("a"))).toBeDefined();
    expect(await cancelRun(db, runId)).toBe("canceled");
    expect(await jobOf(t.key("a"))).toBeUndefined();
    expect((await stepsOf(runId)).map((s) => s.status)).toEqual(["canceled", "canceled"]);
    expect(await cancelRun(db, runId)).toBe("canceled");
  });

  it("`ingest runs cancel` stops a running materialisation through ctx.signal; nothing downstream runs", async () => {
    const gates = join(dir, "cancel");
    gate.close(gates, "slow");
    const t = project({ slow: { run: (signal) => gate.pass(gates, "slow", signal) }, after: { deps: ["slow"] } });
    const runId = await request(t.graph, t.graph.order);
    await withWorkers(t.graph, 1, 2, async () => {
      await until("the slow asset starts", 30_000, () => gate.reached(gates, "slow").length > 0);
      const canceled = spawnSync(node, [cli, "--json", "runs", "cancel", runId], { encoding: "utf8" });
      expect(canceled.status, canceled.stderr).toBe(0);
      expect(["canceling", "canceled"]).toContain(JSON.parse(canceled.stdout).status);
      const { run, steps } = await within(30_000, "the canceled run", waitForRun(db, runId));
      expect(run.status).toBe("canceled");
      expect(steps.map((s) => [s.assetKey, s.status])).toEqual([
        [t.key("slow"), "canceled"],
        [t.key("after"), "canceled"],
      ]);
    });
    expect(gate.aborted(gates, "slow")).toBe(true);
    expect(t.ran).toEqual([]);
    const materialized = await db.selectFrom("ingest.materializations").select("asset_key").where("run_id", "=", runId)
      .execute();
    expect(materialized).toEqual([]);
    const listed = JSON.parse(spawnSync(node, [cli, "--json", "runs", "-n", "50"], { encoding: "utf8" }).stdout) as {
      id: string;
      status: string;
    }[];
    expect(listed.find((r) => r.id === runId)?.status).toBe("canceled");
  });

  it("lets go of a step another live run also waits for, without stopping its materialisation", async () => {
    const gates = join(dir, "shared");
    gate.close(gates, "shared");
    const t = project({ shared: { run: (signal) => gate.pass(gates, "shared", signal) } });
    // Both queued before a worker claims the step: one job, one materialisation, for both runs.
    const first = await request(t.graph, [t.key("shared")]);
    const second = await request(t.graph, [t.key("shared")]);
    await withWorkers(t.graph, 1, 2, async () => {
      await until("the shared asset starts", 30_000, () => gate.reached(gates, "shared").length > 0);
      expect(await cancelRun(db, first)).toBe("canceled");
      await sleep(1_000);
      expect(gate.aborted(gates, "shared")).toBe(false);
      gate.open(gates, "shared");
      expect((await within(30_000, "the second run", waitForRun(db, second))).run.status).toBe("succeeded");
    });
    expect((await stepsOf(first)).map((s) => s.status)).toEqual(["canceled"]);
    expect((await stepsOf(second)).map((s) => [s.status, s.attempts])).toEqual([["succeeded", 1]]);
    expect(t.ran).toHaveLength(1);
  });
});

describe("steps tried again and given up on", () => {
  it("retries a failed attempt, and skips what is downstream of a step out of attempts", async () => {
    let failures = 1;
    const t = project({
      flaky: {
        retry: 3,
        run: async () => {
          if (failures-- > 0) throw new Error("flaky failed on purpose");
        },
      },
      broken: {
        run: async () => {
          throw new Error("broken on purpose");
        },
      },
      after: { deps: ["broken"] },
    });
    const runId = await request(t.graph, t.graph.order);
    await withWorkers(t.graph, 1, 2, async () => {
      const { run, steps } = await within(60_000, "the run", waitForRun(db, runId));
      expect(run.status).toBe("failed");
      expect(Object.fromEntries(steps.map((s) => [s.assetKey, [s.status, s.attempts]]))).toEqual({
        [t.key("flaky")]: ["succeeded", 2],
        [t.key("broken")]: ["failed", 1],
        [t.key("after")]: ["skipped", 0],
      });
    });
  });
});
