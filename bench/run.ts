import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { cliBench } from "./cli.ts";
import { e2eBench } from "./e2e.ts";
import { embedBench } from "./embed.ts";
import { engineBench } from "./engine.ts";
import { incrementalBench } from "./incremental.ts";
import { neo4jBench } from "./neo4j.ts";
import { rewriteBench } from "./rewrite.ts";
import { reliabilityBench } from "./reliability.ts";
import { type BenchResult, combineRuns, writeResults } from "./report.ts";
import { sensorBench } from "./sensor.ts";
import { sourcesBench } from "./sources.ts";
import { streamsBench } from "./streams.ts";
import { tracingBench } from "./tracing.ts";
import { uiBench } from "./ui.ts";

const benches: Record<string, () => Promise<BenchResult[]>> = {
  cli: cliBench,
  e2e: e2eBench,
  embed: embedBench,
  engine: engineBench,
  incremental: incrementalBench,
  neo4j: neo4jBench,
  reliability: reliabilityBench,
  rewrite: rewriteBench,
  sensor: sensorBench,
  sources: sourcesBench,
  streams: streamsBench,
  tracing: tracingBench,
  ui: uiBench,
};

const names = process.argv.slice(2);
/** BENCH_RESULTS names the results file of a single bench run with other settings (say E2E_SCALE), so the default run's stays. */
const resultsName = process.env.BENCH_RESULTS;
/**
 * Benches that repeat their measurement inside one run, against a reference too slow to repeat (a full load
 * at 1,000,000 orders): they report their own median and spread, and run once unless BENCH_RUNS says otherwise.
 */
const repeatInside = new Set(["incremental"]);
/** How many times each bench runs, each in a process of its own; the results are the medians. */
const runsOf = (name: string) => Number(process.env.BENCH_RUNS ?? (repeatInside.has(name) ? 1 : 3));
/** Set for the process of one run: where it writes that run's results. */
const runOutput = process.env.BENCH_RUN_OUTPUT;
if (
  names.length === 0 || names.some((n) => !benches[n] || !Number.isInteger(runsOf(n)) || runsOf(n) < 1) ||
  (resultsName !== undefined && (names.length !== 1 || !/^[a-z0-9][a-z0-9-]*$/.test(resultsName)))
) {
  console.error(
    `usage: [BENCH_RUNS=3] [BENCH_RESULTS=<file name>] npm run bench -- <${
      Object.keys(benches).join("|")
    }> …  (BENCH_RESULTS: one bench, lower-case letters, digits and dashes)`,
  );
  process.exit(2);
}

if (runOutput) {
  writeFileSync(runOutput, JSON.stringify(await benches[names[0]!]!()));
  process.exit(0);
}

/** Runs one bench once in a fresh process (its own heap, JIT and servers), returning its results. */
function runOnce(name: string, index: number): BenchResult[] {
  const output = join(mkdtempSync(join(tmpdir(), "ingest-bench-")), "results.json");
  const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), name], {
    stdio: "inherit",
    // BENCH_RUN_INDEX (1, 2, …) lets a bench of two variants alternate which goes first.
    env: { ...process.env, BENCH_RUN_OUTPUT: output, BENCH_RUN_INDEX: String(index) },
  });
  if (child.status !== 0) throw new Error(`bench ${name} failed (exit ${child.status ?? child.signal})`);
  try {
    return JSON.parse(readFileSync(output, "utf8")) as BenchResult[];
  } finally {
    rmSync(dirname(output), { recursive: true, force: true });
  }
}

for (const name of names) {
  const all: BenchResult[][] = [];
  const runs = runsOf(name);
  for (let run = 1; run <= runs; run++) {
    console.log(`${name}: run ${run} of ${runs}`);
    all.push(runOnce(name, run));
  }
  const results = combineRuns(all);
  writeResults(resultsName ?? name, results);
  for (const r of results) {
    console.log(
      `${name}: ${r.metric}: ours ${r.ours} ${r.unit}${
        r.reference !== null ? `, reference ${r.reference} ${r.unit}, ratio ${r.ratio}` : ""
      }${r.spread?.ratio ? ` (${r.spread.ratio[0]}–${r.spread.ratio[1]})` : ""} over ${
        r.runs ?? runs
      } runs (target ${r.target}: ${r.met ? "met" : "NOT met"})`,
    );
  }
}
