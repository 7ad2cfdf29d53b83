import { connectChroma } from "../connectors/chroma/index.ts";
import type { Driver } from "../connectors/neo4j/index.ts";
import { createPool, type pg } from "../resources/postgres.ts";
import { neo4jEnv, pipeline, Scratch, scratchWorld, withNeo4j } from "./e2e.ts";
import type { PipelineResult } from "./e2e-pipeline.ts";
import { type BenchResult, result } from "./report.ts";

const log = (message: string) => console.log(`incremental: ${message}`);
const everything = "*";
const collections = ["products", "reviews", "crm_notes", "chat_messages"];

/** Nodes and relationships per label or type, and documents per collection, that a run wrote. */
type Written = Record<string, number>;

async function writtenBy(driver: Driver, chromaUrl: string, runId: string): Promise<Written> {
  const written: Written = {};
  const tally = async (query: string) => {
    for (const record of (await driver.executeQuery(query, { runId })).records) {
      written[record.get("what") as string] = Number(record.get("n"));
    }
  };
  await tally("MATCH (n) WHERE n.ingestRunId = $runId RETURN labels(n)[0] AS what, count(*) AS n");
  await tally("MATCH ()-[r]->() WHERE r.ingestRunId = $runId RETURN type(r) AS what, count(*) AS n");
  const chroma = await connectChroma(chromaUrl);
  for (const name of collections) {
    const { ids } = await (await chroma.collection(name)).get({ where: { run_id: { $eq: runId } }, include: [] });
    if (ids.length > 0) written[`documents in ${name}`] = ids.length;
  }
  return written;
}

/** The bench's change: 1% of a table's rows by a hash of their key and the round, as the graph holds them. */
const sampled = (key: string, round: number) => `abs(hashtext(${key} || ':round ${round}')) % 100 = 0`;

/**
 * Round `round`'s change to the shop, as its application would make it (`updated_at = now()`): 1% of the
 * orders get a new total, 1% of the order lines a new quantity, 1% of the reviews an edited text. Only rows
 * the graph holds are picked, so what must be written is known: returned per label, type and collection.
 * Aggregates over the orders (the `:Day` nodes of `graph/DailySales`) are written too, and are not counted.
 */
async function changeShop(shop: pg.Pool, driver: Driver, chromaUrl: string, round: number): Promise<Written> {
  const ids = async (query: string) => (await shop.query(query)).rows.map((r) => Object.values(r)[0] as string);
  const inGraph = async (query: string, keys: unknown[]) =>
    (await driver.executeQuery(query, { keys })).records.map((r) => r.toObject());

  const orders = await inGraph(
    `UNWIND $keys AS key MATCH (o:Order {orderId: key}) OPTIONAL MATCH (:Customer)-[p:PLACED]->(o)
     RETURN o.orderId AS id, count(p) AS placed`,
    await ids(`select order_id from shop.orders where ${sampled("order_id", round)}`),
  );
  const lines = await inGraph(
    `UNWIND $keys AS key MATCH (:Order {orderId: key[0]})-[r:CONTAINS {lineNo: key[1]}]->() RETURN key`,
    (await shop.query(
      `select order_id, line_no from shop.order_items where ${sampled("order_id || '/' || line_no", round)}`,
    )).rows.map((r) => [r.order_id, r.line_no]),
  );
  const reviews = await inGraph(
    `UNWIND $keys AS key MATCH (r:Review {reviewId: key})
     OPTIONAL MATCH (:Customer)-[w:WROTE]->(r) OPTIONAL MATCH (r)-[p:REVIEWS]->(:Product)
     RETURN r.reviewId AS id, count(w) AS wrote, count(p) AS reviews`,
    await ids(`select review_id from shop.reviews where ${sampled("review_id", round)}`),
  );
  const reviewIds = reviews.map((r) => r.id as string);
  const chroma = await connectChroma(chromaUrl);
  const embedded = (await (await chroma.collection("reviews")).get({ ids: reviewIds, include: [] })).ids.length;

  await shop.query(
    "update shop.orders set total = total + 1, updated_at = now() where order_id = any($1)",
    [orders.map((o) => o.id)],
  );
  await shop.query(
    `update shop.order_items i set quantity = quantity + 1, updated_at = now()
     from unnest($1::text[], $2::int[]) as changed(order_id, line_no)
     where i.order_id = changed.order_id and i.line_no = changed.line_no`,
    [lines.map((l) => (l.key as [string, number])[0]), lines.map((l) => Number((l.key as [string, number])[1]))],
  );
  await shop.query(
    `update shop.reviews set body = coalesce(body, '') || ' Edited: still going strong.', updated_at = now()
     where review_id = any($1)`,
    [reviewIds],
  );
  const sum = (rows: Record<string, unknown>[], field: string) => rows.reduce((n, r) => n + Number(r[field]), 0);
  const expected: Written = {
    Order: orders.length,
    PLACED: sum(orders, "placed"),
    CONTAINS: lines.length,
    Review: reviews.length,
    WROTE: sum(reviews, "wrote"),
    REVIEWS: sum(reviews, "reviews"),
    "documents in reviews": embedded,
  };
  return Object.fromEntries(Object.entries(expected).filter(([, n]) => n > 0));
}

/** Throws unless a run wrote exactly `expected` (besides the `:Day` aggregates). */
function assertWritten(what: string, written: Written, expected: Written): void {
  const { Day: _, ...records } = written;
  const keys = [...new Set([...Object.keys(records), ...Object.keys(expected)])].sort();
  const wrong = keys.filter((k) => (records[k] ?? 0) !== (expected[k] ?? 0));
  if (wrong.length > 0) {
    throw new Error(
      `${what} wrote ${wrong.map((k) => `${records[k] ?? 0} ${k} (expected ${expected[k] ?? 0})`).join(", ")}`,
    );
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
/** The assets a run materialised, a partitioned one once with its number of partitions. */
function stepsOf(run: PipelineResult): string {
  const times = new Map<string, number>();
  for (const { key } of run.assets) times.set(key, (times.get(key) ?? 0) + 1);
  return [...times].map(([key, n]) => (n > 1 ? `${key} ×${n}` : key)).join(", ") || "none";
}
const written = (w: Written) =>
  Object.entries(w).map(([k, n]) => `${n.toLocaleString("en")} ${k}`).join(", ") || "nothing";

/**
 * Incremental re-runs at `INCREMENTAL_SCALE` orders (default 1,000,000): the bundled project materialised
 * whole (`materialize --stale` on nothing materialised: everything, the collections included), then
 * `INCREMENTAL_ROUNDS` rounds (default 3) of a re-run with nothing changed and a re-run after 1% of the
 * orders, order lines and reviews changed, each `materialize --stale` as a schedule would run it: the
 * observable sources are asked for their version, and only what is stale runs, reading only what changed
 * since. Each re-run's writes are checked against Neo4j and Chroma: exactly the changed records.
 */
export async function incrementalBench(): Promise<BenchResult[]> {
  const scale = Number(process.env.INCREMENTAL_SCALE ?? 1_000_000);
  const rounds = Number(process.env.INCREMENTAL_ROUNDS ?? 3);
  const scratch = new Scratch();
  try {
    const { env, report, generateSeconds, shopUrl } = await scratchWorld(scratch, scale, true);
    const shop = scratch.add(createPool(shopUrl, 2), (pool) => pool.end());
    return await withNeo4j(async (server, driver) => {
      const runEnv = { ...env, ...neo4jEnv(server), LOG_LEVEL: "warn" };
      const full = await pipeline(runEnv, everything, "--stale");
      const loaded = await writtenBy(driver, env.CHROMA_URL!, full.runId);
      log(`full run: ${full.wallSeconds.toFixed(1)} s, ${full.assets.length} steps; wrote ${written(loaded)}`);
      const unchanged: PipelineResult[] = [];
      const changed: PipelineResult[] = [];
      const changes: Written[] = [];
      for (let round = 1; round <= rounds; round++) {
        const idle = await pipeline(runEnv, everything, "--stale");
        assertWritten(`re-run ${round} with nothing changed`, await writtenBy(driver, env.CHROMA_URL!, idle.runId), {});
        log(`round ${round}, nothing changed: ${idle.wallSeconds.toFixed(1)} s; steps: ${stepsOf(idle)}`);
        unchanged.push(idle);

        const expected = await changeShop(shop, driver, env.CHROMA_URL!, round);
        const rerun = await pipeline(runEnv, everything, "--stale");
        const found = await writtenBy(driver, env.CHROMA_URL!, rerun.runId);
        assertWritten(`re-run ${round} after the 1% change`, found, expected);
        log(
          `round ${round}, 1% changed: ${rerun.wallSeconds.toFixed(1)} s, wrote ${written(found)}; steps: ${
            stepsOf(rerun)
          }`,
        );
        changed.push(rerun);
        changes.push(found);
      }

      const seconds = (runs: PipelineResult[]) => runs.map((r) => r.wallSeconds);
      const figure = (metric: string, runs: PipelineResult[], target: string, notes: string): BenchResult => {
        const times = seconds(runs);
        const r = result(metric, median(times), full.wallSeconds, "s", target, notes);
        const ratios = times.map((t) => Number((t / full.wallSeconds).toFixed(4)));
        return {
          ...r,
          runs: rounds,
          spread: {
            ours: [Math.min(...times), Math.max(...times)],
            reference: null,
            ratio: [Math.min(...ratios), Math.max(...ratios)],
          },
        };
      };
      const setting = `${scale.toLocaleString("en")} orders (${
        report.entities.order_items.generated.toLocaleString("en")
      } order items; generated in ${
        generateSeconds.toFixed(0)
      } s, not timed), seed 42; every run is \`materialize --stale\` of all ${full.assets.length} steps' assets in a child process (worker concurrency 2), its observation of the sources included; the full run (the reference, measured once per bench run: ${
        full.wallSeconds.toFixed(0)
      } s) wrote ${written(loaded)}. The re-runs' spread is over the ${rounds} rounds of one bench run.`;
      return [
        figure(
          "re-run with nothing changed (materialize --stale), against the full run",
          unchanged,
          "<= 0.05",
          `${setting} Re-runs: ${seconds(unchanged).map((s) => s.toFixed(1)).join(", ")} s; steps run: ${
            stepsOf(unchanged.at(-1)!)
          }; nothing written (checked in Neo4j and Chroma).`,
        ),
        figure(
          "re-run with 1% of orders, order lines and reviews changed, against the full run",
          changed,
          "<= 0.1",
          `${setting} Re-runs: ${
            seconds(changed).map((s) => s.toFixed(1)).join(", ")
          } s; written (checked exactly, by ingestRunId in Neo4j and run_id in Chroma): ${
            changes.map(written).join("; ")
          }; steps run: ${stepsOf(changed.at(-1)!)}.`,
        ),
      ];
    });
  } finally {
    await scratch.cleanUp();
  }
}
