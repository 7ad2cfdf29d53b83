import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dailyPartitions } from "../../engine/partitions.ts";
import { assetStatuses } from "../../engine/status.ts";
import { createPool, metadataDb, type pg } from "../../resources/postgres.ts";
import { settings } from "../../resources/settings.ts";
import { prepareDatabase } from "../../engine/worker.ts";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace";
import { initTracing } from "../../resources/tracer.ts";
import { materialize } from "../support.ts";
import { testGraph } from "../engine-graph.ts";

let pool: pg.Pool;
let db: ReturnType<typeof metadataDb>;
const spans = new InMemorySpanExporter();

beforeAll(async () => {
  initTracing({ exporter: spans });
  pool = createPool(settings().databaseUrl, 20);
  await prepareDatabase(pool);
  db = metadataDb(pool);
});
afterAll(() => db?.destroy());

async function materializationsOf(assetKeys: string[]) {
  return db
    .selectFrom("ingest.materializations")
    .selectAll()
    .where("asset_key", "in", assetKeys)
    .orderBy("id")
    .execute();
}

/** Every asset started after each of its upstreams finished, within the run. */
async function expectDependencyOrder(graph: ReturnType<typeof testGraph>["graph"], runId: string) {
  const rows = await db.selectFrom("ingest.materializations").selectAll().where("run_id", "=", runId).where(
    "status",
    "=",
    "succeeded",
  ).execute();
  const byKey = new Map(rows.map((r) => [r.asset_key, r]));
  for (const asset of graph.byKey.values()) {
    for (const dep of asset.deps) {
      expect(byKey.get(asset.key)!.started_at.getTime()).toBeGreaterThanOrEqual(byKey.get(dep)!.finished_at.getTime());
    }
  }
  return rows;
}

describe("executing runs", () => {
  it("runs a diamond upstream first and records lineage edges", async () => {
    const t = testGraph({ a: {}, b: { deps: ["a"] }, c: { deps: ["a"] }, d: { deps: ["b", "c"] } });
    const { run, steps } = await materialize(pool, t.graph);
    expect(run.status).toBe("succeeded");
    expect(steps.map((s) => s.status)).toEqual(["succeeded", "succeeded", "succeeded", "succeeded"]);
    const rows = await expectDependencyOrder(t.graph, run.id);
    expect(rows).toHaveLength(4);
    const d = rows.find((r) => r.asset_key === t.key("d"))!;
    const edges = await db.selectFrom("ingest.lineage_edges").selectAll().where("materialization_id", "=", d.id)
      .orderBy("upstream_asset").execute();
    expect(edges.map((e) => [e.upstream_asset, e.upstream_data_version])).toEqual([
      [t.key("b"), "v1"],
      [t.key("c"), "v1"],
    ]);
    expect(d.upstream_versions).toEqual({ [t.key("b")]: "v1", [t.key("c")]: "v1" });
  });

  it("runs a 50-asset graph in dependency order with independent assets in parallel", async () => {
    let seed = 7;
    const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    const specs: Record<string, { deps: string[] }> = {};
    for (let i = 0; i < 50; i++) {
      const deps = [
        ...new Set(
          Array.from({ length: Math.floor(random() * 3) }, () => Math.floor(random() * i)).filter(() => i > 0).map((
            j,
          ) => `n${j}`),
        ),
      ];
      specs[`n${i}`] = { deps };
    }
    const t = testGraph(specs);
    for (const name of Object.keys(specs)) t.behaviour.set(name, { delayMs: 20 });
    const { run } = await materialize(pool, t.graph);
    expect(run.status).toBe("succeeded");
    const rows = await expectDependencyOrder(t.graph, run.id);
    expect(rows).toHaveLength(50);
    const overlapping = rows.some((a) =>
      rows.some((b) => a !== b && a.started_at < b.finished_at && b.started_at < a.finished_at)
    );
    expect(overlapping).toBe(true);
  });

  it("stops downstream of a failure, records why, and runs what does not depend on it", async () => {
    const t = testGraph({ a: {}, b: { deps: ["a"] }, c: { deps: ["b"] }, d: { deps: ["a"] } });
    t.behaviour.set("b", { failures: 1 });
    const { run, steps } = await materialize(pool, t.graph);
    expect(run.status).toBe("failed");
    expect(run.error).toContain(`${t.key("b")}: Error: b failed on purpose`);
    const status = Object.fromEntries(steps.map((s) => [s.assetKey, [s.status, s.error?.split("\n")[0] ?? null]]));
    expect(status).toEqual({
      [t.key("a")]: ["succeeded", null],
      [t.key("b")]: ["failed", "Error: b failed on purpose"],
      [t.key("c")]: ["skipped", `upstream step ${t.key("b")} failed`],
      [t.key("d")]: ["succeeded", null],
    });
  });

  it("retries a failing asset with backoff by its policy, then succeeds", async () => {
    const t = testGraph({
      flaky: { retry: { maxAttempts: 3, initialDelayMs: 100, factor: 2 } },
      after: { deps: ["flaky"] },
    });
    t.behaviour.set("flaky", { failures: 2 });
    const { run, steps } = await materialize(pool, t.graph);
    expect(run.status).toBe("succeeded");
    expect(steps.find((s) => s.assetKey === t.key("flaky"))!.attempts).toBe(3);
    const attempts = await materializationsOf([t.key("flaky")]);
    expect(attempts.map((m) => [m.attempt, m.status])).toEqual([
      [1, "failed"],
      [2, "failed"],
      [3, "succeeded"],
    ]);
    // Exponential backoff: the second wait (~200 ms) is longer than the first (~100 ms), jitter ±20 %.
    const gap1 = attempts[1]!.started_at.getTime() - attempts[0]!.finished_at.getTime();
    const gap2 = attempts[2]!.started_at.getTime() - attempts[1]!.finished_at.getTime();
    expect(gap1).toBeGreaterThanOrEqual(80);
    expect(gap2).toBeGreaterThanOrEqual(160);
  });

  it("gives up after the last attempt and records each one", async () => {
    const t = testGraph({ broken: { retry: { maxAttempts: 2, initialDelayMs: 10 } } });
    t.behaviour.set("broken", { failures: 5 });
    const { run } = await materialize(pool, t.graph);
    expect(run.status).toBe("failed");
    expect((await materializationsOf([t.key("broken")])).map((m) => m.status)).toEqual(["failed", "failed"]);
  });
});

describe("tracing", () => {
  it("makes a run one trace, with a span per materialisation under the run's span", async () => {
    const t = testGraph({ a: {}, b: { deps: ["a"] }, c: { deps: ["a"] } });
    spans.reset();
    const { run } = await materialize(pool, t.graph);
    const finished = spans.getFinishedSpans();
    const root = finished.find((s) => s.attributes["ingest.run"] === run.id)!;
    expect(run.traceparent).toBe(`00-${root.spanContext().traceId}-${root.spanContext().spanId}-01`);
    const steps = finished.filter((s) =>
      s.name.startsWith("materialize ") && String(s.attributes["ingest.asset"]).startsWith(t.prefix)
    );
    expect(steps.map((s) => s.attributes["ingest.asset"]).sort()).toEqual([t.key("a"), t.key("b"), t.key("c")]);
    for (const span of steps) {
      expect(span.spanContext().traceId).toBe(root.spanContext().traceId);
      expect(span.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    }
  });
});

describe("concurrent runs and job keys", () => {
  it("runs two runs at once to completion", async () => {
    const t = testGraph({ a: {}, b: { deps: ["a"] }, x: {}, y: { deps: ["x"] } });
    const [first, second] = await Promise.all([
      materialize(pool, t.graph, [t.key("a"), t.key("b")]),
      materialize(pool, t.graph, [t.key("x"), t.key("y")]),
    ]);
    expect([first.run.status, second.run.status]).toEqual(["succeeded", "succeeded"]);
  });

  it("makes a second request for an already queued asset a no-op: one job, one materialisation, both runs served", async () => {
    const t = testGraph({ shared: {} });
    const { requestRun, waitForRun } = await import("../../engine/runs.ts");
    const { startWorker } = await import("../../engine/worker.ts");
    const keys = [t.key("shared")];
    const first = await requestRun(db, t.graph, { selection: "shared", keys, tags: { "ingest/file": "a.csv" } });
    const second = await requestRun(db, t.graph, { selection: "shared", keys, tags: { "ingest/file": "b.csv" } });
    const jobs = await sql<{ n: number }>`select count(*)::int as n from graphile_worker.jobs where key = ${`ingest:${
      t.key("shared")
    }`}`.execute(db);
    expect(jobs.rows[0]!.n).toBe(1);
    const worker = await startWorker({ graph: t.graph, pool, pollIntervalMs: 100 });
    try {
      const [a, b] = await Promise.all([waitForRun(db, first), waitForRun(db, second)]);
      expect([a.run.status, b.run.status]).toEqual(["succeeded", "succeeded"]);
      expect(a.steps[0]!.materializationId).toBe(b.steps[0]!.materializationId);
    } finally {
      await worker.stop();
    }
    expect(t.calls).toHaveLength(1);
    // the one materialisation sees both runs it serves, with their tags
    expect(t.calls[0]!.runs).toEqual([
      { runId: first, tags: { "ingest/file": "a.csv" } },
      { runId: second, tags: { "ingest/file": "b.csv" } },
    ]);
    expect(await materializationsOf(keys)).toHaveLength(1);
  });
});

describe("staleness", () => {
  const statusOf = async (t: ReturnType<typeof testGraph>, graph = t.graph) =>
    Object.fromEntries(
      (await assetStatuses(db, graph, graph.order)).map((s) => [s.assetKey.split("/")[1], s.causes.map((c) => c.kind)]),
    );

  it("is stale when never materialised, and fresh right after", async () => {
    const t = testGraph({ a: {}, b: { deps: ["a"] } });
    expect(await statusOf(t)).toEqual({ a: ["never-materialized"], b: ["never-materialized"] });
    await materialize(pool, t.graph);
    expect(await statusOf(t)).toEqual({ a: [], b: [] });
  });

  it("follows code version, dependency and upstream data version changes, and only those", async () => {
    const t = testGraph({ a: {}, z: {}, b: { deps: ["a"] } });
    await materialize(pool, t.graph);

    expect(await statusOf(t, t.build({ b: { codeVersion: "2" } }))).toMatchObject({ b: ["code-version"], a: [] });
    expect(await statusOf(t, t.build({ b: { deps: ["a", "z"] } }))).toMatchObject({ b: ["dependencies"] });

    // The same data version upstream: downstream stays fresh.
    await materialize(pool, t.graph, [t.key("a")]);
    expect(await statusOf(t)).toEqual({ a: [], z: [], b: [] });

    t.behaviour.set("a", { dataVersion: "v2" });
    await materialize(pool, t.graph, [t.key("a")]);
    const [b] = await assetStatuses(db, t.graph, [t.key("b")]);
    // Two materialisations of a since the one b consumed: the same data again, then v2.
    expect(b!.causes).toEqual([
      { kind: "upstream-data", upstream: t.key("a"), consumed: "v1", current: "v2", since: { materializations: 2 } },
    ]);
    expect(b!.reasons[0]).toBe(`upstream ${t.key("a")} has new data (v1 → v2; 2 materialisations since)`);
  });

  it("--stale runs only stale assets, and leaves downstream alone when the upstream data did not change", async () => {
    const t = testGraph({ a: {}, b: { deps: ["a"] }, c: { deps: ["b"] }, other: {} });
    await materialize(pool, t.graph);
    t.calls.length = 0;

    // a's code changed but it produces the same data: b and c are checked, found fresh, not run.
    const recoded = t.build({ a: { codeVersion: "2" } });
    const { run, steps } = await materialize(pool, recoded, recoded.order, { staleOnly: true });
    expect(run.status).toBe("succeeded");
    expect(Object.fromEntries(steps.map((s) => [s.assetKey.split("/")[1], s.status]))).toEqual({
      a: "succeeded",
      b: "fresh",
      c: "fresh",
    });
    expect(t.calls.map((c) => c.name)).toEqual(["a"]);

    // Now a's new code changes its output: b runs after it; b's output is unchanged, so c stays fresh.
    t.calls.length = 0;
    t.behaviour.set("a", { dataVersion: "v2" });
    const recoded3 = t.build({ a: { codeVersion: "3" } });
    const second = await materialize(pool, recoded3, recoded3.order, { staleOnly: true });
    expect(second.steps.map((s) => s.status)).toEqual(["succeeded", "succeeded", "fresh"]);
    expect(t.calls.map((c) => c.name)).toEqual(["a", "b"]);

    // Nothing stale: an empty run.
    const third = await materialize(pool, recoded3, recoded3.order, { staleOnly: true });
    expect(third.steps).toHaveLength(0);
    expect(third.run.status).toBe("succeeded");
  });
});

describe("partitions", () => {
  it("backfills a range per partition, with staleness per partition", async () => {
    const days = dailyPartitions({ start: "2026-01-01", end: "2026-01-06" });
    const t = testGraph({
      events: { partitions: days },
      daily: { deps: ["events"], partitions: days },
      summary: { deps: ["daily"] },
    });
    const { run, steps } = await materialize(pool, t.graph, t.graph.order, {
      range: { from: "2026-01-01", to: "2026-01-03" },
    });
    expect(run.status).toBe("succeeded");
    expect(steps.map((s) => s.stepKey).sort()).toEqual(
      [
        ...["2026-01-01", "2026-01-02", "2026-01-03"].flatMap((
          d,
        ) => [`${t.key("events")}:${d}`, `${t.key("daily")}:${d}`]),
        t.key("summary"),
      ].sort(),
    );
    const daily = steps.find((s) => s.stepKey === `${t.key("daily")}:2026-01-02`)!;
    expect(daily.upstream).toEqual([`${t.key("events")}:2026-01-02`]);
    expect(steps.find((s) => s.assetKey === t.key("summary"))!.upstream).toHaveLength(3);

    const states = async () =>
      Object.fromEntries(
        (await assetStatuses(db, t.graph, [t.key("daily")])).map((s) => [
          s.partitionKey,
          s.causes.map((c) => c.kind).join(",") || "fresh",
        ]),
      );
    expect(await states()).toEqual({
      "2026-01-01": "fresh",
      "2026-01-02": "fresh",
      "2026-01-03": "fresh",
      "2026-01-04": "never-materialized",
      "2026-01-05": "never-materialized",
    });

    t.behaviour.set("events", { dataVersion: "v2" });
    await materialize(pool, t.graph, [t.key("events")], { partitions: ["2026-01-02"] });
    expect((await states())["2026-01-02"]).toBe("upstream-data");
    expect((await states())["2026-01-01"]).toBe("fresh");
  });
});
