import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Tick } from "../../db/schema.ts";
import { camelCased } from "../../db/camel-case.ts";
import { compressedClock } from "../../engine/automation/clock.ts";
import { startDaemon } from "../../engine/automation/daemon.ts";
import { runInProcess, waitForRun } from "../../engine/runs.ts";
import type { AssetGraph } from "../../engine/asset-graph.ts";
import { prepareDatabase, startWorker } from "../../engine/worker.ts";
import { createPool, metadataDb, type pg } from "../../resources/postgres.ts";
import { settings } from "../../resources/settings.ts";
import { eventually, loadProjectGraph, spawnDaemon, userProject } from "../daemon-support.ts";

const run = Date.now().toString(36);
let pool: pg.Pool;
const cleanup: (() => unknown)[] = [];

beforeAll(async () => {
  pool = createPool(settings().databaseUrl);
  await prepareDatabase(pool);
});

afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
  await pool.end();
});

/** A project with one no-op asset and a schedule every five minutes (of the daemon's clock) that catches up on its last 50 ticks. */
async function everyFiveMinutes(prefix: string) {
  const project = userProject(`import { defineAsset, defineDefinitions, defineSchedule } from "ingest-graph";

const ticked = defineAsset({ key: "${prefix}/ticked", codeVersion: "1", retry: { maxAttempts: 1 }, materialize: async () => ({ dataVersion: "v1" }) });
export default defineDefinitions({
  assets: [ticked],
  resources: {},
  schedules: [defineSchedule({ name: "${prefix}_every5", cron: "*/5 * * * *", select: "${prefix}/ticked", catchUp: { last: 50 } })],
});
`);
  cleanup.push(project.remove);
  const graph = await loadProjectGraph(project.file);
  return { project, graph, name: `${prefix}_every5` };
}

/** One worker at a time, stopped whatever happens: a worker given other definitions would take this project's jobs and fail them. */
async function withWorker(graph: AssetGraph, body: () => Promise<void>): Promise<void> {
  const worker = await startWorker({ graph, pool, concurrency: 2, pollIntervalMs: 200 });
  try {
    await body();
  } finally {
    await worker.stop();
  }
}

const db = () => metadataDb(pool);

async function ticksOf(name: string): Promise<Tick[]> {
  const rows = await db().selectFrom("ingest.ticks").selectAll().where("instigator", "=", name).orderBy("tick_time")
    .execute();
  return rows.map(camelCased);
}

/** How many runs were created for each scheduled instant of a schedule. */
async function runsPerTick(name: string): Promise<Map<string, number>> {
  const { rows } = await sql<{ tick: string; runs: number }>`
    select tags->>'ingest/schedule_tick' as tick, count(*)::int as runs from ingest.runs
    where tags->>'ingest/instigator' = ${name} group by 1`.execute(db());
  return new Map(rows.map((r) => [r.tick, r.runs]));
}

/** Every scheduled instant in order, five minutes apart, each recorded once with exactly one run, all of which succeed. */
async function expectOneRunPerConsecutiveTick(name: string, atLeast: number) {
  const ticks = (await ticksOf(name)).filter((t) => t.tickKey !== null);
  expect(ticks.length).toBeGreaterThanOrEqual(atLeast);
  const instants = ticks.map((t) => new Date(t.tickKey!).getTime());
  for (let i = 1; i < instants.length; i++) expect(instants[i]! - instants[i - 1]!).toBe(5 * 60_000);
  expect(ticks.every((t) => t.status === "requested" && t.runIds.length === 1)).toBe(true);
  const runs = await runsPerTick(name);
  expect([...runs.keys()].sort()).toEqual(ticks.map((t) => t.tickKey).sort());
  expect([...runs.values()].every((n) => n === 1)).toBe(true);
  for (const tick of ticks) expect((await waitForRun(db(), tick.runIds[0]!, 100)).run.status).toBe("succeeded");
}

describe("schedules run by `ingest daemon` processes", () => {
  it("fires on its clock: one run per tick, from the first tick after the daemon started; SIGTERM exits 0", async () => {
    const { project, name, graph } = await everyFiveMinutes(`sch1_${run}`);
    await withWorker(graph, async () => {
      // Ten clock minutes per real second: a tick every half second.
      const daemon = spawnDaemon(project.file, ["--clock-start", "2026-01-01T00:00:00Z", "--clock-rate", "600"]);
      cleanup.push(() => daemon.kill());
      await eventually("six ticks", async () => ((await ticksOf(name)).length >= 6 ? true : undefined));
      expect(await daemon.stop()).toBe(0);
      const ticks = await ticksOf(name);
      expect(ticks[0]!.tickKey).toBe("2026-01-01T00:05:00.000Z");
      await expectOneRunPerConsecutiveTick(name, 6);
    });
  });

  it("two daemons that both evaluate every tick (--no-leader) still request exactly one run per tick", async () => {
    const { project, name, graph } = await everyFiveMinutes(`sch2_${run}`);
    await withWorker(graph, async () => {
      const clock = [
        "--clock-start",
        "2026-01-01T00:00:00Z",
        "--clock-rate",
        "600",
        "--clock-origin",
        String(Date.now() + 3000),
        "--no-leader",
      ];
      const daemons = [spawnDaemon(project.file, clock), spawnDaemon(project.file, clock)];
      for (const d of daemons) cleanup.push(() => d.kill());
      await eventually("ten ticks", async () => ((await ticksOf(name)).length >= 10 ? true : undefined));
      expect(await Promise.all(daemons.map((d) => d.stop()))).toEqual([0, 0]);
      await expectOneRunPerConsecutiveTick(name, 10);
    });
  });

  it("with a leader: the standby takes over when the leader dies, and misses or repeats no tick", async () => {
    const { project, name, graph } = await everyFiveMinutes(`sch3_${run}`);
    await withWorker(graph, async () => {
      const clock = [
        "--clock-start",
        "2026-01-01T00:00:00Z",
        "--clock-rate",
        "600",
        "--clock-origin",
        String(Date.now() + 3000),
      ];
      const daemons = [spawnDaemon(project.file, clock), spawnDaemon(project.file, clock)];
      for (const d of daemons) cleanup.push(() => d.kill());
      await eventually("four ticks", async () => ((await ticksOf(name)).length >= 4 ? true : undefined));
      const leaders = new Set((await ticksOf(name)).map((t) => Number(t.daemon.split(":").at(-1))));
      expect(leaders.size).toBe(1);
      const leader = daemons.find((d) => leaders.has(d.pid))!;
      const standby = daemons.find((d) => d !== leader)!;
      await leader.kill();
      await eventually(
        "four ticks by the standby",
        async () =>
          (await ticksOf(name)).filter((t) => t.daemon.endsWith(`:${standby.pid}`)).length >= 4 ? true : undefined,
      );
      expect(await standby.stop()).toBe(0);
      await expectOneRunPerConsecutiveTick(name, 8);
    });
  });
});

describe("schedules in process, on a compressed clock", () => {
  it("materialise only stale assets, name the tick's partition, and skip ticks missed while no daemon ran", async () => {
    const prefix = `sch4_${run}`;
    const project = userProject(
      `import { dailyPartitions, defineAsset, defineDefinitions, defineSchedule } from "ingest-graph";

const fresh = defineAsset({ key: "${prefix}/fresh", codeVersion: "1", materialize: async () => ({ dataVersion: "same" }) });
const never = defineAsset({ key: "${prefix}/never", codeVersion: "1", materialize: async () => ({ dataVersion: "same" }) });
const days = defineAsset({
  key: "${prefix}/days",
  codeVersion: "1",
  partitions: dailyPartitions({ start: "2026-01-01", timezone: "Europe/Berlin" }),
  materialize: async ({ partitionKey }) => ({ dataVersion: partitionKey }),
});
export default defineDefinitions({
  assets: [fresh, never, days],
  resources: {},
  schedules: [
    defineSchedule({ name: "${prefix}_stale_fresh", cron: "0 * * * *", select: "${prefix}/fresh", staleOnly: true, catchUp: { last: 1 } }),
    defineSchedule({ name: "${prefix}_stale_never", cron: "0 * * * *", select: "${prefix}/never", staleOnly: true, catchUp: { last: 1 } }),
    defineSchedule({ name: "${prefix}_nightly", cron: "0 2 * * *", timezone: "Europe/Berlin", select: "${prefix}/days", partition: "tick", catchUp: { last: 5 } }),
    // On this clock a real millisecond is 36 clock seconds: a tick evaluated on time may look a minute late.
    defineSchedule({ name: "${prefix}_missed", cron: "0 2 * * *", timezone: "Europe/Berlin", select: "${prefix}/fresh", toleranceMs: 3_600_000 }),
  ],
});
`,
    );
    cleanup.push(project.remove);
    const graph = await loadProjectGraph(project.file);
    await runInProcess(pool, graph, { selection: `${prefix}/fresh`, keys: [`${prefix}/fresh`] });
    // The last daemon evaluated `missed` ten days before this one starts.
    await db()
      .insertInto("ingest.instigator_state")
      .values({
        instigator: `${prefix}_missed`,
        kind: "schedule",
        cursor: JSON.stringify({ lastTick: "2025-12-26T12:00:00.000Z" }),
      })
      .execute();

    await withWorker(graph, async () => {
      // Ten clock hours per real second, from 00:30 UTC on 5 January.
      const clock = compressedClock({ start: new Date("2026-01-05T00:30:00Z"), rate: 36_000 });
      const daemon = await startDaemon({ graph, pool, clock, leader: false });
      cleanup.push(() => daemon.stop());
      await eventually(
        "three nightly ticks",
        async () => ((await ticksOf(`${prefix}_nightly`)).length >= 3 ? true : undefined),
      );
      await daemon.stop();

      const fresh = (await ticksOf(`${prefix}_stale_fresh`)).filter((t) => t.tickKey !== null);
      expect(fresh.length).toBeGreaterThan(10);
      expect(fresh.every((t) => t.status === "skipped" && t.reason === "nothing stale" && t.runIds.length === 0)).toBe(
        true,
      );

      const never = await ticksOf(`${prefix}_stale_never`);
      expect(never[0]!.status).toBe("requested");
      const first = await waitForRun(db(), never[0]!.runIds[0]!, 100);
      expect(first.steps.map((s) => [s.assetKey, s.status])).toEqual([[`${prefix}/never`, "succeeded"]]);
      // Once materialised it is fresh, and the ticks after that request nothing.
      expect(never.at(-1)!.reason).toBe("nothing stale");

      const nightly = await ticksOf(`${prefix}_nightly`);
      // 02:00 in Berlin is 01:00 UTC in January; the tick of the 5th materialises the 4th, the day that ended.
      expect(nightly.slice(0, 3).map((t) => [t.tickKey, t.reason])).toEqual([
        ["2026-01-05T01:00:00.000Z", "partition 2026-01-04"],
        ["2026-01-06T01:00:00.000Z", "partition 2026-01-05"],
        ["2026-01-07T01:00:00.000Z", "partition 2026-01-06"],
      ]);
      const { steps } = await waitForRun(db(), nightly[0]!.runIds[0]!, 100);
      expect(steps.map((s) => s.stepKey)).toEqual([`${prefix}/days:2026-01-04`]);

      const missed = await ticksOf(`${prefix}_missed`);
      expect(missed[0]).toMatchObject({
        status: "skipped",
        tickKey: null,
        evaluations: 9,
        reason: "missed: 9 ticks more than 3600000 ms late (catch-up: skip)",
      });
      expect(new Date(missed[0]!.tickTime).toISOString()).toBe("2025-12-27T01:00:00.000Z");
      expect(new Date(missed[0]!.lastTickTime).toISOString()).toBe("2026-01-04T01:00:00.000Z");
      expect(missed[1]).toMatchObject({ status: "requested", tickKey: "2026-01-05T01:00:00.000Z" });
    });
  });
});
