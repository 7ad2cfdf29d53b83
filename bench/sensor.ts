import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { sql } from "kysely";
import { prepareDatabase } from "../engine/worker.ts";
import { createPool, metadataDb } from "../resources/postgres.ts";
import { packageRoot, settings } from "../resources/settings.ts";
import { type BenchResult, result } from "./report.ts";

const node = join(packageRoot, "node_modules", ".bin", "node");
const cli = join(packageRoot, "cli", "main.ts");

/** A project in a temporary folder that imports the framework by package name, as a user's would. */
function project(definitions: string): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), "ingest-bench-sensor-"));
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(packageRoot, join(dir, "node_modules", "ingest-graph"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "bench-sensor", type: "module", private: true }));
  writeFileSync(join(dir, "definitions.ts"), definitions);
  return { dir, file: join(dir, "definitions.ts") };
}

function ingest(definitions: string, ...args: string[]): ChildProcess {
  return spawn(node, [cli, "--definitions", definitions, ...args], {
    stdio: "ignore",
    env: { ...process.env, LOG_LEVEL: "warn" },
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

/** Resident set size of a process, from /proc (Linux). */
function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"))!;
  return Number(line.split(/\s+/)[1]) / 1024;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);

type Pool = ReturnType<typeof createPool>;

/**
 * From a file landing in a watched folder to its asset's step starting in a worker: 100 files,
 * dropped 100–400 ms apart, each requesting a run of a no-op asset, with the sensor's defaults
 * (a scan every 250 ms, complete after 500 ms without a write) and `ingest worker` in its own process.
 */
async function landingLatency(pool: Pool, prefix: string): Promise<BenchResult[]> {
  const landing = mkdtempSync(join(tmpdir(), "ingest-bench-landing-"));
  const { dir, file } = project(`import { defineAsset, defineDefinitions, defineFileSensor } from "ingest-graph";

const landed = defineAsset({ key: "${prefix}/landed", codeVersion: "1", materialize: async () => ({ dataVersion: "v" }) });
export default defineDefinitions({
  assets: [landed],
  resources: {},
  sensors: [defineFileSensor({ name: "${prefix}_landing", folder: ${
    JSON.stringify(landing)
  }, files: [{ glob: "*.csv", select: landed.key }] })],
});
`);
  const worker = ingest(file, "worker", "--concurrency", "4");
  const daemon = ingest(file, "daemon");
  const db = metadataDb(pool);
  try {
    // Both started and the sensor scanning: its first idle tick is recorded.
    for (;;) {
      const { rows } = await sql<
        { n: number }
      >`select count(*)::int as n from ingest.ticks where instigator = ${`${prefix}_landing`}`.execute(db);
      if (rows[0]!.n > 0) break;
      await sleep(100);
    }
    await sleep(3_000);
    const landedAt = new Map<string, number>();
    for (let i = 0; i < 100; i++) {
      const name = `file-${String(i).padStart(3, "0")}.csv`;
      writeFileSync(join(landing, name), `id,value\n${i},${Math.random()}\n`);
      landedAt.set(name, Date.now());
      await sleep(100 + Math.random() * 300);
    }
    const started = new Map<string, { requested: number; started: number }>();
    const deadline = Date.now() + 120_000;
    while (started.size < 100) {
      if (Date.now() > deadline) {
        throw new Error(`only ${started.size} of 100 files started their asset within two minutes`);
      }
      const { rows } = await sql<{ file: string; requested: Date; started: Date }>`
        select r.tags->>'ingest/file' as file, r.created_at as requested, s.started_at as started
        from ingest.runs r join ingest.run_steps s on s.run_id = r.id
        where r.tags->>'ingest/instigator' = ${`${prefix}_landing`} and s.started_at is not null`.execute(db);
      for (const row of rows) {
        started.set(row.file, { requested: row.requested.getTime(), started: row.started.getTime() });
      }
      await sleep(250);
    }
    const latencies = [...started].map(([name, at]) => at.started - landedAt.get(name)!).sort((a, b) => a - b);
    const toRequest = median([...started].map(([name, at]) => at.requested - landedAt.get(name)!));
    const toStart = median([...started].map(([, at]) => at.started - at.requested));
    const notes =
      `100 files, 100–400 ms apart; sensor defaults: scan every 250 ms, complete after 500 ms without a write (quietMs); median landing→run requested ${toRequest} ms, requested→step started ${toStart} ms`;
    return [
      result(
        "file landing → its asset starting, p50 (100 files)",
        percentile(latencies, 50),
        null,
        "ms",
        "<= 1000",
        notes,
      ),
      result(
        "file landing → its asset starting, p95 (100 files)",
        percentile(latencies, 95),
        null,
        "ms",
        "<= 2000",
        "no target in the issue: twice the p50 target",
      ),
    ];
  } finally {
    await stop(daemon);
    await stop(worker);
    rmSync(dir, { recursive: true, force: true });
    rmSync(landing, { recursive: true, force: true });
  }
}

/**
 * The daemon's memory over a soak in compressed time (an hour of clock time per real second):
 * a schedule every clock minute that finds nothing stale, one every ten minutes that requests a
 * run, a file sensor on an idle folder and an eager sensor, all at once. RSS is the median of ten
 * samples over two seconds taken when the minute schedule's ticks pass 100 and 10,000.
 */
async function soak(pool: Pool, prefix: string): Promise<BenchResult[]> {
  const landing = mkdtempSync(join(tmpdir(), "ingest-bench-idle-"));
  const { dir, file } = project(
    `import { defineAsset, defineAssetSensor, defineDefinitions, defineFileSensor, defineSchedule } from "ingest-graph";

const fresh = defineAsset({ key: "${prefix}/fresh", codeVersion: "1", materialize: async () => ({ dataVersion: "v" }) });
const ticked = defineAsset({ key: "${prefix}/ticked", codeVersion: "1", materialize: async () => ({ dataVersion: "v" }) });
const downstream = defineAsset({ key: "${prefix}/downstream", deps: [ticked.key], codeVersion: "1", materialize: async () => ({ dataVersion: "v" }) });
export default defineDefinitions({
  assets: [fresh, ticked, downstream],
  resources: {},
  schedules: [
    defineSchedule({ name: "${prefix}_minutely", cron: "* * * * *", select: fresh.key, staleOnly: true, catchUp: { last: 10000 } }),
    defineSchedule({ name: "${prefix}_ten_minutes", cron: "*/10 * * * *", select: ticked.key, catchUp: { last: 10000 } }),
  ],
  sensors: [
    defineFileSensor({ name: "${prefix}_idle", folder: ${
      JSON.stringify(landing)
    }, files: [{ glob: "*.csv", select: fresh.key }] }),
    defineAssetSensor({ name: "${prefix}_eager", watch: ticked.key, select: downstream.key }),
  ],
});
`,
  );
  const db = metadataDb(pool);
  // Fresh before the daemon starts: every minute tick then plans and finds nothing stale.
  const materialize = ingest(file, "materialize", `${prefix}/fresh`, "--wait");
  await new Promise((resolve) => materialize.once("exit", resolve));
  const worker = ingest(file, "worker", "--concurrency", "2");
  const daemon = ingest(file, "daemon", "--clock-start", "2026-01-01T00:00:00Z", "--clock-rate", "3600");
  const ticks = async () => {
    const { rows } = await sql<
      { n: number }
    >`select count(*)::int as n from ingest.ticks where instigator = ${`${prefix}_minutely`} and tick_key is not null`
      .execute(db);
    return rows[0]!.n;
  };
  const sampleAt = async (count: number) => {
    while ((await ticks()) < count) {
      if (daemon.exitCode !== null) throw new Error(`the daemon exited with ${daemon.exitCode}`);
      await sleep(100);
    }
    // Garbage collection makes RSS a sawtooth: the median of samples over two seconds.
    const samples: number[] = [];
    for (let i = 0; i < 10; i++) {
      samples.push(rssMiB(daemon.pid!));
      await sleep(200);
    }
    return median(samples);
  };
  try {
    const started = Date.now();
    const early = await sampleAt(100);
    const checkpoints: string[] = [];
    for (const count of [1_000, 5_000]) {
      checkpoints.push(`${count.toLocaleString("en")}: ${(await sampleAt(count)).toFixed(1)} MiB`);
    }
    const late = await sampleAt(10_000);
    const seconds = Math.round((Date.now() - started) / 1000);
    const { rows } = await sql<
      { evaluations: number }
    >`select coalesce(sum(evaluations), 0)::int as evaluations from ingest.ticks where instigator like ${`${prefix}_%`}`
      .execute(db);
    return [
      result(
        "daemon RSS after 10,000 schedule ticks against after 100",
        late,
        early,
        "MiB",
        "<= 1.2",
        `compressed clock, an hour per second; ${
          rows[0]!.evaluations.toLocaleString("en")
        } evaluations of two schedules and two sensors in ${seconds} s; RSS at 1,000 and 5,000 ticks: ${
          checkpoints.join(", ")
        }`,
      ),
    ];
  } finally {
    await stop(daemon);
    await stop(worker);
    rmSync(dir, { recursive: true, force: true });
    rmSync(landing, { recursive: true, force: true });
  }
}

/** What the benchmark recorded: its runs (with their steps and materialisations), ticks and cursors. */
async function cleanUp(pool: Pool, prefix: string): Promise<void> {
  const db = metadataDb(pool);
  const like = `${prefix}%`;
  await sql`delete from ingest.runs where tags->>'ingest/instigator' like ${like} or selection like ${like}`.execute(
    db,
  );
  await sql`delete from ingest.materializations where asset_key like ${like}`.execute(db);
  await sql`delete from ingest.ticks where instigator like ${like}`.execute(db);
  await sql`delete from ingest.instigator_state where instigator like ${like}`.execute(db);
  await sql`delete from ingest.sensor_files where sensor like ${like}`.execute(db);
}

export async function sensorBench(): Promise<BenchResult[]> {
  const pool = createPool(settings().databaseUrl);
  await prepareDatabase(pool);
  const prefix = `bench_sensor_${Date.now().toString(36)}`;
  try {
    return [...(await landingLatency(pool, `${prefix}_latency`)), ...(await soak(pool, `${prefix}_soak`))];
  } finally {
    await cleanUp(pool, prefix);
    await pool.end();
  }
}
