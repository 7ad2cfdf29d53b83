/**
 * One run of the project's pipeline in a process of its own, so its peak RSS is the pipeline's
 * alone: `node bench/e2e-pipeline.ts <selection> <result.json> [--full-refresh | --stale]`. Where it reads and
 * writes comes from the environment (DATABASE_URL, SHOP_DATABASE_URL, NEO4J_URI, …), as bench/e2e.ts sets it.
 * `--stale` is `ingest materialize --stale`: the observable sources are asked for their version first (timed
 * with the run), then only what is stale runs.
 */
import { writeFileSync } from "node:fs";
import definitions from "../definitions.ts";
import { buildAssetGraph } from "../engine/asset-graph.ts";
import { observeSources } from "../engine/observations.ts";
import { ResourcePool } from "../engine/resource.ts";
import { runInProcess } from "../engine/runs.ts";
import { selectAssets } from "../engine/selection.ts";
import { prepareDatabase } from "../engine/worker.ts";
import { createPool, metadataDb } from "../resources/postgres.ts";
import { settings } from "../resources/settings.ts";
import { peakRssMiB } from "./peak-rss.ts";

/** What the parent reads back: the run, its wall time and peak memory, and each materialisation. */
export interface PipelineResult {
  selection: string;
  runId: string;
  status: string;
  error: string | null;
  wallSeconds: number;
  /** CPU time (user and system) of this process during the run, in seconds: the engine's own work, without the servers'. */
  cpuSeconds: number;
  /** Peak resident memory of this process at the end, in MiB (see peak-rss.ts). */
  peakRssMiB: number;
  /** When RSS, sampled every second, was highest, and which assets were running then. */
  rssPeak: { atSecond: number; rssMiB: number; running: string[] };
  assets: {
    key: string;
    status: string;
    seconds: number;
    /** Seconds since the run was requested. */
    startedAt: number;
    finishedAt: number;
    counts: Record<string, number>;
    error: string | null;
    /** The highest 1-s samples of RSS and of the V8 heap while it ran (other assets may have run beside it). */
    rssMiB: number;
    heapMiB: number;
  }[];
}

const [selection, resultPath, flag] = process.argv.slice(2);
if (!selection || !resultPath || ![undefined, "--full-refresh", "--stale"].includes(flag)) {
  console.error("usage: node bench/e2e-pipeline.ts <selection> <result.json> [--full-refresh | --stale]");
  process.exit(2);
}

const graph = buildAssetGraph(definitions);
const keys = selectAssets(graph, selection);
const pool = createPool(settings().databaseUrl, 20);
await prepareDatabase(pool);

const started = Date.now();
const cpuAtStart = process.cpuUsage();
const samples: { at: number; rss: number; heap: number }[] = [];
const sampler = setInterval(() => {
  const { rss, heapUsed } = process.memoryUsage();
  samples.push({ at: Date.now(), rss, heap: heapUsed });
}, 1000);
// A partitioned asset in the selection (graph/DailySales) runs every partition there is: a backfill.
const partitioned = [...keys].map((key) => graph.byKey.get(key)!.partitions?.keys()).find((k) => k !== undefined);
const range = partitioned?.length ? { from: partitioned[0]!, to: partitioned.at(-1)! } : undefined;
if (flag === "--stale") {
  await using resources = new ResourcePool(definitions.resources);
  await observeSources(metadataDb(pool), graph, resources, keys);
}
const { run } = await runInProcess(pool, graph, {
  selection,
  keys,
  range,
  fullRefresh: flag === "--full-refresh",
  staleOnly: flag === "--stale",
}, { concurrency: 2, pollIntervalMs: 200 });
const wallSeconds = (Date.now() - started) / 1000;
const cpu = process.cpuUsage(cpuAtStart);
clearInterval(sampler);

const { rows } = await pool.query(
  `select asset_key, status, counts, error, duration_ms, extract(epoch from started_at) * 1000 as started, extract(epoch from finished_at) * 1000 as finished
   from ingest.materializations where run_id = $1 order by started_at`,
  [run.id],
);
const mib = (bytes: number) => Math.round(bytes / 1024 / 1024);
const assets = rows.map((r) => {
  const [from, to] = [Number(r.started), Number(r.finished)];
  const during = samples.filter((s) => s.at >= from && s.at <= to + 1000);
  return {
    key: r.asset_key as string,
    status: r.status as string,
    seconds: Number(r.duration_ms) / 1000,
    startedAt: (from - started) / 1000,
    finishedAt: (to - started) / 1000,
    counts: r.counts as Record<string, number>,
    error: r.error as string | null,
    rssMiB: mib(Math.max(0, ...during.map((s) => s.rss))),
    heapMiB: mib(Math.max(0, ...during.map((s) => s.heap))),
  };
});
const peak = samples.reduce((a, b) => (b.rss > a.rss ? b : a), { at: started, rss: 0, heap: 0 });
const atSecond = (peak.at - started) / 1000;
const result: PipelineResult = {
  selection,
  runId: run.id,
  status: run.status,
  error: run.error,
  wallSeconds,
  cpuSeconds: (cpu.user + cpu.system) / 1e6,
  peakRssMiB: peakRssMiB(),
  rssPeak: {
    atSecond,
    rssMiB: peak.rss / 1024 / 1024,
    running: assets.filter((a) => a.startedAt <= atSecond && a.finishedAt >= atSecond).map((a) => a.key),
  },
  assets,
};
writeFileSync(resultPath, `${JSON.stringify(result, null, 2)}\n`);
await pool.end();
