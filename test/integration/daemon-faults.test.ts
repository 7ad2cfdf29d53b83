import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AssetGraph } from "../../engine/asset-graph.ts";
import { cancelRun } from "../../engine/cancel.ts";
import { getRun, requestRun } from "../../engine/runs.ts";
import { prepareDatabase, startWorker } from "../../engine/worker.ts";
import { createPool, metadataDb, type pg } from "../../resources/postgres.ts";
import { settings } from "../../resources/settings.ts";
import { type DaemonProcess, eventually, loadProjectGraph, spawnDaemon, userProject } from "../daemon-support.ts";
import { recordFigure } from "../reliability.ts";

/**
 * The daemon under faults, daemons as real processes (`ingest daemon`): one SIGKILLed in the middle of a
 * tick (held there by the project's own code, or by a lock the test keeps), and two racing over one
 * database with one of them SIGKILLed. However it goes, each due tick of a schedule or sensor requests
 * its run exactly once: checked in `ingest.ticks`, `ingest.run_requests` and `ingest.runs`.
 */
const run = Date.now().toString(36);
let pool: pg.Pool;
const db = () => metadataDb(pool);
const cleanup: (() => unknown)[] = [];
const kills = { injected: 0, survived: 0 };

beforeAll(async () => {
  pool = createPool(settings().databaseUrl);
  await prepareDatabase(pool);
});

afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
  await pool.end();
  if (kills.injected > 0) {
    recordFigure(
      "faults survived of injected: daemon kills",
      kills.survived / kills.injected,
      "ratio",
      ">= 1",
      `${kills.survived} of ${kills.injected} daemon SIGKILLs (mid-tick and leaders) left every tick requested once`,
    );
  }
});

/** Where the schedule's clock starts; its cursor is set 20 ticks earlier, so a daemon's first evaluation catches up on them. */
const clockStart = new Date("2026-01-01T00:20:00Z");
const firstTick = new Date("2026-01-01T00:01:00Z");
/** A clock minute per real second: the schedule ticks every second. */
const clockRate = 60;
const minuteOf = (tick: Date) => tick.toISOString().slice(11, 16).replace(":", "");

/**
 * A project with a schedule every minute (of the daemon's clock) of a partitioned asset, an asset sensor and a
 * file sensor. The schedule's partition and the file sensor's partition are the project's own code, run
 * inside a tick: each holds the whole daemon process while the test keeps a gate file of that tick's name.
 */
async function faultProject(prefix: string) {
  const project = userProject(`import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { defineAsset, defineAssetSensor, defineDefinitions, defineFileSensor, defineSchedule, staticPartitions } from "ingest-graph";

const gates = ${JSON.stringify(`${prefix}-gates`)};
/** While the test keeps the gate \`name\`, this process (a daemon in the middle of a tick) stops here, and says so. */
function gate(name) {
  const path = join(import.meta.dirname, gates, name);
  if (!existsSync(path)) return;
  writeFileSync(path + ".waiting", String(process.pid));
  const pause = new Int32Array(new SharedArrayBuffer(4));
  while (existsSync(path)) Atomics.wait(pause, 0, 0, 20);
}
const minute = (tick) => tick.toISOString().slice(11, 16).replace(":", "");
const minutes = Array.from({ length: 24 * 60 }, (_, i) => String(Math.floor(i / 60)).padStart(2, "0") + String(i % 60).padStart(2, "0"));
const files = Array.from({ length: 100 }, (_, i) => "f" + String(i).padStart(2, "0"));

const ticked = defineAsset({ key: "${prefix}/ticked", codeVersion: "1", partitions: staticPartitions(minutes), materialize: async ({ partitionKey }) => ({ dataVersion: partitionKey }) });
const upstream = defineAsset({ key: "${prefix}/upstream", codeVersion: "1", retry: { maxAttempts: 10 }, materialize: async () => ({ dataVersion: String(Date.now()) }) });
const downstream = defineAsset({ key: "${prefix}/downstream", deps: [upstream.key], codeVersion: "1", materialize: async ({ upstreamVersions }) => ({ dataVersion: upstreamVersions[upstream.key] }) });
const landed = defineAsset({ key: "${prefix}/landed", codeVersion: "1", partitions: staticPartitions(files), materialize: async ({ partitionKey }) => ({ dataVersion: partitionKey }) });

export default defineDefinitions({
  assets: [ticked, upstream, downstream, landed],
  resources: {},
  schedules: [
    defineSchedule({
      name: "${prefix}_minutely",
      cron: "* * * * *",
      select: ticked.key,
      partition: (tick) => {
        gate("tick-" + minute(tick));
        return minute(tick);
      },
      catchUp: { last: 500 },
    }),
  ],
  sensors: [
    defineAssetSensor({ name: "${prefix}_eager", watch: upstream.key, select: downstream.key, intervalMs: 200 }),
    defineFileSensor({
      name: "${prefix}_landing",
      folder: join(import.meta.dirname, "landing"),
      files: [{ glob: "*.csv", select: landed.key, partition: (file) => {
        gate("file-" + file.path);
        return file.path.slice(0, -4);
      } }],
      intervalMs: 100,
      complete: { quietMs: 200 },
    }),
  ],
});
`);
  cleanup.push(project.remove, () => cancelUnfinished(prefix));
  const gates = join(project.dir, `${prefix}-gates`);
  const landing = join(project.dir, "landing");
  mkdirSync(gates);
  mkdirSync(landing);
  const graph = await loadProjectGraph(project.file);
  const names = { schedule: `${prefix}_minutely`, eager: `${prefix}_eager`, landing: `${prefix}_landing` };
  // The last daemon handled the schedule up to midnight: the first daemon to evaluate it catches up from there.
  await db().insertInto("ingest.instigator_state").values({
    instigator: names.schedule,
    kind: "schedule",
    cursor: JSON.stringify({ lastTick: new Date(firstTick.getTime() - 60_000).toISOString() }),
  }).execute();
  const origin = Date.now();
  const daemons: DaemonProcess[] = [];
  return {
    prefix,
    graph,
    names,
    /** `ingest daemon` on this project, all on one clock; its log in the project's folder. */
    daemon(...args: string[]): DaemonProcess {
      const daemon = spawnDaemon(
        project.file,
        [
          "--clock-start",
          clockStart.toISOString(),
          "--clock-rate",
          String(clockRate),
          "--clock-origin",
          String(origin),
          ...args,
        ],
        {},
        join(project.dir, `daemon-${daemons.length + 1}.log`),
      );
      daemons.push(daemon);
      cleanup.push(() => daemon.kill());
      return daemon;
    },
    /** What the daemons' clock reads now. */
    clock: () => new Date(clockStart.getTime() + (Date.now() - origin) * clockRate),
    /** Closes the gate `name`: a daemon reaching it in a tick stops there. */
    hold: (name: string) => writeFileSync(join(gates, name), ""),
    /** Opens it again. */
    release: (name: string) => rmSync(join(gates, name), { force: true }),
    /** Until a daemon stops at the gate `name`. */
    held: (name: string) =>
      eventually(
        `a daemon held at ${name}`,
        async () => (existsSync(join(gates, `${name}.waiting`)) ? true : undefined),
      ),
    land: (file: string) => writeFileSync(join(landing, file), `id,at\n${file},${Date.now()}\n`),
  };
}

/** One worker of the project's own in this process, stopped whatever happens. */
async function withWorker(graph: AssetGraph, body: () => Promise<void>): Promise<void> {
  const worker = await startWorker({ graph, pool, concurrency: 4, pollIntervalMs: 100 });
  try {
    await body();
  } finally {
    await worker.stop();
  }
}

/**
 * A transaction of the test's own on a connection of its own: what it locks or inserts holds a daemon
 * that needs the same row until the test rolls it back.
 */
async function holding(statement: string, values: unknown[]) {
  const client = await pool.connect();
  await client.query("begin");
  await client.query(statement, values);
  const pid = (await client.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0]!.pid;
  return {
    /** Until other sessions wait on this transaction: their backends' pids. */
    blocking: () =>
      eventually(`a daemon waiting on the test's lock`, async () => {
        const { rows } = await pool.query<{ pid: number }>(
          "select pid from pg_stat_activity where $1 = any(pg_blocking_pids(pid))",
          [pid],
        );
        return rows.length > 0 ? rows.map((r) => r.pid) : undefined;
      }),
    async rollback() {
      await client.query("rollback");
      client.release();
    },
  };
}

/** The pids of the daemons that recorded ticks of the project's schedule and sensors (since `since`, epoch ms). */
async function daemonsTicking(prefix: string, since = 0): Promise<Set<number>> {
  const { rows } = await sql<{ daemon: string }>`select distinct daemon from ingest.ticks
    where instigator like ${`${prefix}\\_%`} and created_at >= to_timestamp(${since / 1000})`.execute(db());
  return new Set(rows.map((r) => Number(r.daemon.split(":").at(-1))));
}

/** How many ticks of the project's schedule and sensors requested runs, by daemon: `pid n, pid n`. */
async function requestsBy(prefix: string): Promise<string> {
  const { rows } = await sql<{ daemon: string; n: number }>`select daemon, count(*)::int as n from ingest.ticks
    where instigator like ${`${prefix}\\_%`} and status = 'requested' group by 1 order by 1`.execute(db());
  return rows.map((r) => `${r.daemon.split(":").at(-1)} ${r.n}`).join(", ");
}

/** The runs requested by an instigator (its tag), each with the tick it names. */
async function runsOf(instigator: string) {
  const { rows } = await sql<{ id: string; tags: Record<string, string>; status: string }>`
    select id, tags, status from ingest.runs where tags->>'ingest/instigator' = ${instigator}`.execute(db());
  return rows;
}

/**
 * Cancels the project's runs that have not finished. Whether they ran is not what these tests are about, and
 * on a database other tests share, their workers may take this project's jobs (and fail them: they do not
 * know its assets).
 */
async function cancelUnfinished(prefix: string) {
  const { rows } = await sql<
    { id: string }
  >`select distinct r.id from ingest.runs r join ingest.run_steps s on s.run_id = r.id
    where r.status in ('queued', 'running') and s.asset_key like ${`${prefix}/%`}`.execute(db());
  for (const { id } of rows) await cancelRun(db(), id);
}

/**
 * How the schedule's ticks from `firstTick` to its latest went: every minute a tick, each requesting one run that
 * exists once and whose request is no longer pending. Counts the instants requested twice or lost.
 */
async function scheduleTally(name: string) {
  const ticks = await db().selectFrom("ingest.ticks").select(["tick_key", "status", "run_ids"])
    .where("instigator", "=", name).where("tick_key", "is not", null).orderBy("tick_key").execute();
  const runs = new Map<string, string[]>();
  for (const r of await runsOf(name)) {
    runs.set(r.tags["ingest/schedule_tick"]!, [...(runs.get(r.tags["ingest/schedule_tick"]!) ?? []), r.id]);
  }
  const { rows: open } = await sql<{ n: number }>`select count(*)::int as n from ingest.run_requests
    where instigator = ${name} and status <> 'requested'`.execute(db());
  const last = new Date(ticks.at(-1)!.tick_key!);
  const byKey = new Map(ticks.map((t) => [t.tick_key!, t]));
  let twice = 0;
  let lost = 0;
  for (let at = firstTick.getTime(); at <= last.getTime(); at += 60_000) {
    const key = new Date(at).toISOString();
    const tick = byKey.get(key);
    const made = runs.get(key) ?? [];
    if (!tick || tick.status !== "requested" || tick.run_ids.length !== 1 || !made.includes(tick.run_ids[0]!)) lost++;
    twice += Math.max(0, made.length - 1);
  }
  // A run of an instant the schedule never ticked is twice too: no tick asked for it.
  twice += [...runs.keys()].filter((key) => !byKey.has(key)).length;
  const instants = (last.getTime() - firstTick.getTime()) / 60_000 + 1;
  return { instants, twice, lost: lost + open[0]!.n, last, runs };
}

/** The asset sensor: each tick that requested a run has exactly one, and no run came without such a tick. */
async function assetSensorTally(name: string, upstream: string) {
  const ticks = await db().selectFrom("ingest.ticks").select(["id", "status", "run_ids", "cursor"]).where(
    "instigator",
    "=",
    name,
  ).where("status", "=", "requested").orderBy("id").execute();
  const runs = await runsOf(name);
  const twice = runs.length - new Set(runs.map((r) => r.tags["ingest/tick"])).size +
    runs.filter((r) => !ticks.some((t) => String(t.id) === r.tags["ingest/tick"])).length;
  const lost = ticks.filter((t) => t.run_ids.length !== 1 || !runs.some((r) => r.id === t.run_ids[0])).length;
  // Every upstream materialisation was looked at: the sensor's cursor is at the latest one.
  const { rows } = await sql<{ latest: string; cursor: string }>`
    select (select max(id) from ingest.materializations where asset_key = ${upstream} and status = 'succeeded')::text as latest,
      (select cursor->>'materializationId' from ingest.instigator_state where instigator = ${name}) as cursor`.execute(
    db(),
  );
  return { ticks: ticks.length, runs: runs.length, twice, lost: lost + (rows[0]!.cursor === rows[0]!.latest ? 0 : 1) };
}

/** The file sensor: each file landed requested exactly one run (by its path), the one its cursor row names. */
async function fileSensorTally(name: string, files: string[]) {
  const runs = await runsOf(name);
  const rows = await db().selectFrom("ingest.sensor_files").select(["path", "run_id"]).where("sensor", "=", name)
    .execute();
  let twice = 0;
  let lost = 0;
  for (const file of files) {
    const made = runs.filter((r) => r.tags["ingest/file"] === file);
    const row = rows.find((r) => r.path === file);
    twice += Math.max(0, made.length - 1);
    if (made.length === 0 || !row || !made.some((r) => r.id === row.run_id)) lost++;
  }
  return { twice: twice + runs.filter((r) => !files.includes(r.tags["ingest/file"]!)).length, lost };
}

describe("the daemon under faults", () => {
  it("a daemon SIGKILLed in the middle of a tick, four times over: every due tick still requests its run exactly once", async () => {
    const p = await faultProject(`dfk_${run}`);
    const { schedule, eager, landing } = p.names;
    const kill = async (daemon: DaemonProcess) => {
      await daemon.kill();
      kills.injected++;
    };
    let blockedTick = new Date(0);
    await withWorker(p.graph, async () => {
      // 1. In the schedule's catch-up transaction, with ticks 00:01 to 00:11 written in it and not committed.
      p.hold("tick-0012");
      const first = p.daemon();
      await p.held("tick-0012");
      await kill(first);
      p.release("tick-0012");

      // 2. After the tick committed, while its run is being created: the run's job waits on a job the test
      // is adding under the same key, a few ticks from now.
      blockedTick = new Date(Math.ceil(p.clock().getTime() / 60_000) * 60_000 + 3 * 60_000);
      const job = await holding(
        `select graphile_worker.add_job('ingest.materialize', '{}'::json, job_key => $1, job_key_mode => 'preserve_run_at',
           run_at => now() + interval '1 hour')`,
        [`ingest:${p.prefix}/ticked:${minuteOf(blockedTick)}`],
      );
      const second = p.daemon();
      await job.blocking();
      await kill(second);
      await job.rollback();

      // 3. The asset sensor, between reading a new upstream materialisation and moving its cursor past it.
      const cursorRow = await holding("select 1 from ingest.instigator_state where instigator = $1 for update", [
        eager,
      ]);
      const upstreamRun = await requestRun(db(), p.graph, {
        selection: `${p.prefix}/upstream`,
        keys: [`${p.prefix}/upstream`],
      });
      await eventually(
        "the upstream run",
        async () => (await getRun(db(), upstreamRun))?.status === "succeeded" || undefined,
      );
      const third = p.daemon();
      await cursorRow.blocking();
      await kill(third);
      await cursorRow.rollback();

      // 4. The file sensor, with a new file hashed and about to be claimed.
      p.hold("file-f01.csv");
      p.land("f01.csv");
      const fourth = p.daemon();
      await p.held("file-f01.csv");
      await kill(fourth);
      p.release("file-f01.csv");

      const last = p.daemon();
      await eventually(
        "the file's and the eager sensor's runs",
        async () => (await runsOf(landing)).length > 0 && (await runsOf(eager)).length > 0 ? true : undefined,
      );
      await eventually("three ticks after the blocked one", async () => {
        const ticks = await db().selectFrom("ingest.ticks").select("tick_key").where("instigator", "=", schedule)
          .where("tick_key", ">=", new Date(blockedTick.getTime() + 3 * 60_000).toISOString()).execute();
        return ticks.length > 0 ? true : undefined;
      });
      expect(await last.stop()).toBe(0);
    });

    const ticks = await scheduleTally(schedule);
    const sensor = await assetSensorTally(eager, `${p.prefix}/upstream`);
    const files = await fileSensorTally(landing, ["f01.csv"]);
    // Each fault's own tick, requested once: the held catch-up tick, the tick whose run was being created, the
    // upstream materialisation and the landed file.
    const runsAt = (tick: Date) => ticks.runs.get(tick.toISOString())?.length ?? 0;
    const survived = [
      runsAt(new Date("2026-01-01T00:12:00Z")) === 1,
      runsAt(blockedTick) === 1,
      sensor.runs === 1,
      files.twice + files.lost === 0,
    ].filter(Boolean).length;
    kills.survived += survived;
    expect(ticks).toMatchObject({ twice: 0, lost: 0 });
    expect(ticks.instants).toBeGreaterThan(20);
    expect(ticks.last.getTime()).toBeGreaterThanOrEqual(blockedTick.getTime() + 3 * 60_000);
    expect(sensor).toEqual({ ticks: 1, runs: 1, twice: 0, lost: 0 });
    expect(files).toEqual({ twice: 0, lost: 0 });
    expect(survived).toBe(4);
    recordFigure(
      "daemon SIGKILLed mid-tick: ticks requested twice or lost",
      ticks.twice + ticks.lost + sensor.twice + sensor.lost + files.twice + files.lost,
      "ticks",
      "<= 0",
      `4 SIGKILLs (schedule catch-up transaction, run creation, asset sensor cursor, file claim); ${ticks.instants} schedule ticks, 1 asset sensor tick, 1 file`,
    );
  });

  it.each([
    { mode: "one leads", args: [] },
    { mode: "--no-leader", args: ["--no-leader"] },
  ])(
    "two daemons racing ($mode): each tick requests its run once, and after one is SIGKILLed the other carries on without gaps",
    async ({ mode, args }) => {
      const p = await faultProject(`dfr${args.length}_${run}`);
      const { schedule, eager, landing } = p.names;
      const upstream = `${p.prefix}/upstream`;
      const landed: string[] = [];
      /** Files landing and upstream materialisations, while the daemons tick. */
      const traffic = async (files: number) => {
        for (let i = 0; i < files; i++) {
          const file = `f${String(landed.length).padStart(2, "0")}.csv`;
          p.land(file);
          landed.push(file);
          if (i % 3 === 0) await requestRun(db(), p.graph, { selection: upstream, keys: [upstream] });
          await sleep(300);
        }
      };
      let takeoverMs = 0;
      let survivor: DaemonProcess | undefined;
      let killedAt = 0;
      let before = "";
      await withWorker(p.graph, async () => {
        // Both start at once, with 20 missed ticks of the schedule to catch up on, and run side by side for
        // ten ticks more, files landing and the upstream materialising meanwhile.
        const daemons = [p.daemon(...args), p.daemon(...args)];
        await traffic(10);
        const tickers = await eventually("ten ticks past the catch-up, by both daemons without a leader", async () => {
          const { last } = await scheduleTally(schedule).catch(() => ({ last: new Date(0) }));
          const tickers = await daemonsTicking(p.prefix);
          return last.getTime() >= clockStart.getTime() + 10 * 60_000 &&
              tickers.size >= (args.length === 0 ? 1 : 2)
            ? tickers
            : undefined;
        });
        // With a leader, only it evaluates; without, both do.
        expect(tickers.size).toBe(args.length === 0 ? 1 : 2);
        before = await requestsBy(p.prefix);
        const victim = daemons.find((d) => tickers.has(d.pid))!;
        survivor = daemons.find((d) => d !== victim)!;
        killedAt = Date.now();
        await victim.kill();
        kills.injected++;
        const firstTick = await eventually("a tick by the surviving daemon after the kill", async () => {
          const { rows } = await sql<{ at: number | null }>`
            select (extract(epoch from min(created_at)) * 1000)::float8 as at from ingest.ticks
            where daemon like ${`%:${survivor!.pid}`} and created_at >= to_timestamp(${killedAt / 1000})
            and instigator like ${`${p.prefix}\\_%`}`.execute(db());
          return rows[0]!.at ?? undefined;
        });
        takeoverMs = Math.max(0, firstTick - killedAt);
        await traffic(8);
        const after = p.clock();
        await eventually(
          "every file's run, the upstream's last materialisation acted on, three ticks more",
          async () => {
            const files = await fileSensorTally(landing, landed);
            const sensor = await assetSensorTally(eager, upstream);
            const ticks = await scheduleTally(schedule);
            return files.lost === 0 && sensor.lost === 0 && ticks.last.getTime() >= after.getTime() + 3 * 60_000
              ? true
              : undefined;
          },
        );
        expect(await survivor.stop()).toBe(0);
      });

      const ticks = await scheduleTally(schedule);
      const sensor = await assetSensorTally(eager, upstream);
      const files = await fileSensorTally(landing, landed);
      const tally = ticks.twice + ticks.lost + sensor.twice + sensor.lost + files.twice + files.lost;
      if (tally === 0) kills.survived++;
      expect(ticks).toMatchObject({ twice: 0, lost: 0 });
      expect(ticks.instants).toBeGreaterThan(20);
      expect(sensor).toMatchObject({ twice: 0, lost: 0 });
      expect(sensor.ticks).toBeGreaterThanOrEqual(1);
      expect(sensor.runs).toBe(sensor.ticks);
      expect(files).toEqual({ twice: 0, lost: 0 });
      // After the kill only the survivor ticked.
      expect([...await daemonsTicking(p.prefix, killedAt + takeoverMs)]).toEqual([survivor!.pid]);
      recordFigure(
        `two daemons racing (${mode}): ticks requested twice or lost`,
        tally,
        "ticks",
        "<= 0",
        `${ticks.instants} schedule ticks (20 caught up), ${sensor.ticks} asset sensor ticks, ${landed.length} files; one daemon SIGKILLed midway; ticks that requested runs before the kill, by daemon: ${before}`,
      );
      if (args.length === 0) {
        recordFigure("daemon leader SIGKILLed: time to the standby's first tick", takeoverMs, "ms", "<= 60000");
        expect(takeoverMs).toBeLessThanOrEqual(60_000);
      }
    },
  );

  it("a daemon whose database connection is cut while it creates a tick's run keeps the request, and creates the run once", async () => {
    const p = await faultProject(`dfc_${run}`);
    const { schedule } = p.names;
    const cutTick = new Date(Math.ceil(p.clock().getTime() / 60_000) * 60_000 + 3 * 60_000);
    const job = await holding(
      `select graphile_worker.add_job('ingest.materialize', '{}'::json, job_key => $1, job_key_mode => 'preserve_run_at',
         run_at => now() + interval '1 hour')`,
      [`ingest:${p.prefix}/ticked:${minuteOf(cutTick)}`],
    );
    const daemon = p.daemon();
    const waiting = await job.blocking();
    // The connection the daemon creates the run on ends, as in a restart of Postgres or a proxy's timeout.
    await pool.query("select pg_terminate_backend(pid) from unnest($1::int[]) as pid", [waiting]);
    await job.rollback();
    const request = await eventually("the cut tick's request to be settled", async () => {
      const { rows } = await sql<{ status: string; error: string | null }>`select q.status, q.error
        from ingest.run_requests q join ingest.ticks t on t.id = q.tick_id
        where t.instigator = ${schedule} and t.tick_key = ${cutTick.toISOString()}`.execute(db());
      return rows[0]?.status === "pending" ? undefined : rows[0];
    });
    await eventually("three ticks after the cut one", async () => {
      const { last } = await scheduleTally(schedule);
      return last.getTime() >= cutTick.getTime() + 3 * 60_000 || undefined;
    });
    expect(await daemon.stop()).toBe(0);
    expect(request).toEqual({ status: "requested", error: null });
    const ticks = await scheduleTally(schedule);
    expect(ticks).toMatchObject({ twice: 0, lost: 0 });
    expect(ticks.runs.get(cutTick.toISOString())).toHaveLength(1);
    recordFigure(
      "daemon connection cut while creating a tick's run: ticks requested twice or lost",
      ticks.twice + ticks.lost,
      "ticks",
      "<= 0",
      `${ticks.instants} schedule ticks; the backend creating one tick's run terminated`,
    );
  });
});
