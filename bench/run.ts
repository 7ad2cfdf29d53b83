import { e2eBench } from "./e2e.ts";
import { embedBench } from "./embed.ts";
import { engineBench } from "./engine.ts";
import { neo4jBench } from "./neo4j.ts";
import { rewriteBench } from "./rewrite.ts";
import { type BenchResult, writeResults } from "./report.ts";
import { sensorBench } from "./sensor.ts";

const benches: Record<string, () => Promise<BenchResult[]>> = {
  e2e: e2eBench,
  embed: embedBench,
  engine: engineBench,
  neo4j: neo4jBench,
  rewrite: rewriteBench,
  sensor: sensorBench,
};

const names = process.argv.slice(2);
/** BENCH_RESULTS names the results file of a single bench run with other settings (say E2E_SCALE), so the default run's stays. */
const resultsName = process.env.BENCH_RESULTS;
if (
  names.length === 0 || names.some((n) => !benches[n]) ||
  (resultsName !== undefined && (names.length !== 1 || !/^[a-z0-9][a-z0-9-]*$/.test(resultsName)))
) {
  console.error(
    `usage: [BENCH_RESULTS=<file name>] npm run bench -- <${
      Object.keys(benches).join("|")
    }> …  (BENCH_RESULTS: one bench, lower-case letters, digits and dashes)`,
  );
  process.exit(2);
}
for (const name of names) {
  const results = await benches[name]!();
  writeResults(resultsName ?? name, results);
  for (const r of results) {
    console.log(
      `${name}: ${r.metric}: ours ${r.ours} ${r.unit}${
        r.reference !== null ? `, reference ${r.reference} ${r.unit}, ratio ${r.ratio}` : ""
      } (target ${r.target}: ${r.met ? "met" : "NOT met"})`,
    );
  }
}
