/**
 * The measurements behind the Neo4j writer's defaults (bench/README.md):
 *
 *   node bench/neo4j-tune.ts <nodes|relationships> [rows a measurement = 100000] [rounds = 3] [variants as JSON]
 *
 * One fresh server per kind. After a warm-up (the JIT and Cypher caches would otherwise bill the
 * first variant), every variant writes `rows` new rows once a round, in an order rotated each
 * round, so the machine's noise and the growing store fall on all of them alike. Prints a table.
 */
import { ensureUniqueKey } from "../connectors/neo4j/index.ts";
import {
  createOrdersAndProducts,
  describeVariant,
  logMeasured,
  type Measured,
  onFreshServer,
  type Variant,
  writeCustomers,
  writeOrderLines,
} from "./neo4j.ts";

const batchSizes = [1_000, 5_000, 10_000, 20_000, 50_000];

function variants(kind: string): Variant[] {
  const csv = [
    ...batchSizes.map((rows) => ({ kind: "load-csv", rows, concurrent: 1 }) as const),
    { kind: "load-csv", rows: 10_000, concurrent: 2 } as const,
  ];
  const ours = batchSizes.flatMap((batchSize) =>
    [1, 2].map((concurrency): Variant => ({ kind: "ours", options: { batchSize, concurrency } }))
  );
  return kind === "nodes"
    ? [...csv, ...ours, { kind: "ours", options: { batchSize: 10_000, concurrency: 3 } }]
    : [...csv, ...ours];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const [kind = "", rowsArg, roundsArg, variantsArg] = process.argv.slice(2);
if (kind !== "nodes" && kind !== "relationships") {
  console.error("usage: node bench/neo4j-tune.ts <nodes|relationships> [rows a measurement] [rounds]");
  process.exit(2);
}
const rows = Number(rowsArg ?? 100_000);
const rounds = Number(roundsArg ?? 3);
const all: Variant[] = variantsArg ? JSON.parse(variantsArg) : variants(kind);
const measured = new Map<Variant, Measured[]>(all.map((v) => [v, []]));
const failures = new Map<Variant, string>();

await onFreshServer(async (server) => {
  const write = kind === "nodes" ? writeCustomers : writeOrderLines;
  if (kind === "nodes") await ensureUniqueKey(server.driver, "Customer", "id");
  else await createOrdersAndProducts(server.driver, (rounds * all.length + 2) * rows);
  let next = 0;
  for (const warmUp of [all[0]!, all.at(-1)!]) {
    logMeasured(`warm-up, ${describeVariant(warmUp)}`, await write(server, warmUp, next++ * rows, rows));
  }
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < all.length; i++) {
      const variant = all[(i + round * Math.ceil(all.length / rounds)) % all.length]!;
      const label = `round ${round + 1}, ${describeVariant(variant)}`;
      try {
        measured.get(variant)!.push(logMeasured(label, await write(server, variant, next++ * rows, rows)));
      } catch (error) {
        // 5.26 has no ON ERROR RETRY: concurrent LOAD CSV transactions that deadlock fail the statement.
        console.log(`neo4j: ${label}: failed: ${(error as Error).message.split("\n")[0]}`);
        failures.set(variant, (error as Error).message.split("\n")[0]!.slice(0, 80));
      }
    }
  }
});

console.log(`\n${kind}: ${rounds} rounds of ${rows.toLocaleString("en")} rows a variant\n`);
console.log("| variant | median rows/s | best rows/s | server CPU ms / 1,000 rows (median) |");
console.log("|---|---|---|---|");
// A variant that failed in some round is marked: its rates are those of the rounds it finished.
for (const [variant, ms] of measured) {
  if (ms.length === 0) {
    console.log(`| ${describeVariant(variant)} | failed: ${failures.get(variant)} | | |`);
    continue;
  }
  const rates = ms.map((m) => m.rowsPerSecond);
  const cpu = ms.map((m) => (m.serverCpuSeconds * 1_000_000) / m.rows);
  console.log(
    `| ${describeVariant(variant)}${failures.has(variant) ? " (failed once or more)" : ""} | ${
      Math.round(median(rates))
    } | ${Math.round(Math.max(...rates))} | ${median(cpu).toFixed(1)} |`,
  );
}
