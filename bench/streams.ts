import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { OrderEvent } from "../assets/ec/order-events.ts";
import { connectNeo4j, type Driver } from "../connectors/neo4j/index.ts";
import { type KafkaClient, openKafka } from "../connectors/streams/index.ts";
import { buildAssetGraph } from "../engine/asset-graph.ts";
import { requestRun, waitForRun } from "../engine/runs.ts";
import { prepareDatabase, startWorker } from "../engine/worker.ts";
import { logger } from "../resources/logger.ts";
import { createPool, metadataDb, type pg } from "../resources/postgres.ts";
import { packageRoot, settings } from "../resources/settings.ts";
import { type BenchResult, result } from "./report.ts";
import { streamProject, tableProject } from "./streams-project.ts";
import { webhooksBench } from "./webhooks.ts";

const node = join(packageRoot, "node_modules", ".bin", "node");
const cli = join(packageRoot, "cli", "main.ts");
const log = (message: string) => console.log(`streams: ${message}`);

/** What a run measures; the environment shrinks it for a quick look. */
const config = {
  /** Events a second produced for the latency measurement, and for how long. */
  rate: Number(process.env.STREAMS_RATE ?? 1_000),
  seconds: Number(process.env.STREAMS_SECONDS ?? 60),
  /** Events consumed from Kafka and from the table for the throughput measurement, and the stream asset's batch. */
  events: Number(process.env.STREAMS_EVENTS ?? 1_000_000),
  /** The stream asset's `batch.maxMessages` in the throughput measurement; by default its own (5,000, 100,000 in a backlog). */
  batch: process.env.STREAMS_BATCH ? Number(process.env.STREAMS_BATCH) : undefined,
  /** `latency`, `throughput` or `webhooks`: one measurement only. */
  only: process.env.STREAMS_ONLY,
};

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
const sortedOf = (xs: number[]) => [...xs].sort((a, b) => a - b);
const median = (xs: number[]) => (xs.length === 0 ? NaN : percentile(sortedOf(xs), 50));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const ms = (x: number) => `${Math.round(x)} ms`;
const thousands = (x: number) => Math.round(x).toLocaleString("en");

/** A seeded generator, so every run sends the same events. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

type Stage = "placed" | "paid" | "shipped";
interface FollowUp {
  at: number;
  orderId: string;
  stage: Stage;
}

/**
 * Order events as a shop sends them: each order is placed, 80% are paid `paidAfter` later and 75% of those
 * shipped `shippedAfter` after that (2.4 events an order on average), so an order id comes once to three times
 * and its events are spread over the stream. Times are milliseconds for the latency measurement, positions in
 * the stream for the throughput one.
 */
class OrderEvents {
  readonly #rand: () => number;
  readonly #prefix: string;
  readonly #paidAfter: [number, number];
  readonly #shippedAfter: [number, number];
  /** Follow-ups not yet sent: a binary heap on `at`. */
  readonly #due: FollowUp[] = [];
  #orders = 0;

  constructor(prefix: string, seed: number, paidAfter: [number, number], shippedAfter: [number, number]) {
    this.#prefix = prefix;
    this.#rand = random(seed);
    this.#paidAfter = paidAfter;
    this.#shippedAfter = shippedAfter;
  }

  get orders(): number {
    return this.#orders;
  }

  /** The next event at `now`: a follow-up that is due, else a new order placed; it happened at `occurredAt`. */
  next(now: number, occurredAt: string): OrderEvent {
    const between = ([low, high]: [number, number]) => low + this.#rand() * (high - low);
    if (this.#due.length > 0 && this.#due[0]!.at <= now) {
      const { orderId, stage } = this.#pop();
      if (stage === "paid") {
        if (this.#rand() < 0.75) this.#push({ at: now + between(this.#shippedAfter), orderId, stage: "shipped" });
        return { eventId: `${orderId}-paid`, type: "order.paid", orderId, occurredAt, paymentId: `p-${orderId}` };
      }
      return {
        eventId: `${orderId}-shipped`,
        type: "order.shipped",
        orderId,
        occurredAt,
        carrier: ["DHL", "UPS", "GLS"][Math.floor(this.#rand() * 3)]!,
        trackingNumber: `T${Math.floor(this.#rand() * 1e9)}`,
      };
    }
    const orderId = `${this.#prefix}${String(this.#orders++).padStart(7, "0")}`;
    if (this.#rand() < 0.8) this.#push({ at: now + between(this.#paidAfter), orderId, stage: "paid" });
    return {
      eventId: `${orderId}-placed`,
      type: "order.placed",
      orderId,
      occurredAt,
      customerId: `c${Math.floor(this.#rand() * 50_000)}`,
      total: Math.round(this.#rand() * 50_000) / 100,
      currency: "EUR",
    };
  }

  #push(item: FollowUp) {
    const heap = this.#due;
    heap.push(item);
    for (let i = heap.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.at <= heap[i]!.at) break;
      [heap[parent], heap[i]] = [heap[i]!, heap[parent]!];
      i = parent;
    }
  }

  #pop(): FollowUp {
    const heap = this.#due;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      for (let i = 0;;) {
        const [l, r] = [2 * i + 1, 2 * i + 2];
        let least = i;
        if (l < heap.length && heap[l]!.at < heap[least]!.at) least = l;
        if (r < heap.length && heap[r]!.at < heap[least]!.at) least = r;
        if (least === i) break;
        [heap[least], heap[i]] = [heap[i]!, heap[least]!];
        i = least;
      }
    }
    return top;
  }
}

const stageOf = (event: OrderEvent) => event.type.slice("order.".length) as Stage;

/** What the bench made, undone in reverse order whatever happens (children are also killed if the process exits). */
class CleanUp {
  readonly #undo: [string, () => Promise<unknown> | unknown][] = [];
  readonly children = new Set<ChildProcess>();
  readonly #onExit = () => {
    for (const child of this.children) child.kill("SIGKILL");
  };
  constructor() {
    process.once("exit", this.#onExit);
  }
  add(what: string, undo: () => Promise<unknown> | unknown): void {
    this.#undo.push([what, undo]);
  }
  async run(): Promise<void> {
    for (const [what, undo] of this.#undo.reverse()) {
      await Promise.resolve().then(undo).catch((error: Error) =>
        console.error(`streams: clean-up (${what}): ${error}`)
      );
    }
    this.#undo.length = 0;
    process.off("exit", this.#onExit);
  }
}

/** An `ingest` command in a process of its own, its output in `logFile`. */
function ingest(cleanUp: CleanUp, env: NodeJS.ProcessEnv, logFile: string, ...args: string[]): ChildProcess {
  const fd = openSync(logFile, "a");
  try {
    const child = spawn(node, [cli, ...args], { stdio: ["ignore", fd, fd], env });
    cleanUp.children.add(child);
    child.once("exit", () => cleanUp.children.delete(child));
    return child;
  } finally {
    closeSync(fd);
  }
}

/** SIGTERM, then SIGKILL if it has not exited within 30 s. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  await exited;
  clearTimeout(timer);
}

/** Deletes a label's nodes and the constraints and indexes on it. */
async function dropLabel(neo4j: Driver, label: string): Promise<void> {
  const session = neo4j.session();
  try {
    await session.run(`MATCH (n:${label}) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS`);
  } finally {
    await session.close();
  }
  for (const [kind, plural] of [["CONSTRAINT", "CONSTRAINTS"], ["INDEX", "INDEXES"]]) {
    const { records } = await neo4j.executeQuery(
      `SHOW ${plural} YIELD name, labelsOrTypes WHERE $label IN labelsOrTypes RETURN name`,
      { label },
    );
    for (const r of records) await neo4j.executeQuery(`DROP ${kind} \`${r.get("name")}\` IF EXISTS`);
  }
}

interface Scratch {
  cleanUp: CleanUp;
  /** The scratch metadata and staging database (and the events table of the throughput measurement). */
  url: string;
  pool: pg.Pool;
  neo4j: Driver;
  kafka: KafkaClient;
  id: string;
}

interface StepTimes {
  started: number;
  finished: number;
  /** The materialisation's own time, without claiming the step and recording it. */
  materializeMs: number;
  counts: Record<string, number>;
}
interface RunTimes {
  id: string;
  created: number;
  finished: number;
  stream: StepTimes;
  nodes: StepTimes;
}

/** The runs of an instigator (or of every run when none), with their two steps' times (ms since the epoch). */
async function runTimes(pool: pg.Pool, streamKey: string, instigator?: string): Promise<RunTimes[]> {
  const { rows } = await pool.query(
    `select r.id, extract(epoch from r.created_at) * 1000 as created, extract(epoch from r.finished_at) * 1000 as finished,
       s.asset_key, extract(epoch from s.started_at) * 1000 as step_started, extract(epoch from s.finished_at) * 1000 as step_finished,
       m.duration_ms, m.counts
     from ingest.runs r join ingest.run_steps s on s.run_id = r.id left join ingest.materializations m on m.id = s.materialization_id
     where ($1::text is null or r.tags ->> 'ingest/instigator' = $1) and r.status = 'succeeded'
     order by r.created_at`,
    [instigator ?? null],
  );
  const runs = new Map<string, Partial<RunTimes> & { id: string }>();
  for (const row of rows) {
    const run = runs.get(row.id) ??
      { id: row.id as string, created: Number(row.created), finished: Number(row.finished) };
    runs.set(row.id, run);
    const step: StepTimes = {
      started: Number(row.step_started),
      finished: Number(row.step_finished),
      materializeMs: Number(row.duration_ms),
      counts: row.counts ?? {},
    };
    if (row.asset_key === streamKey) run.stream = step;
    else run.nodes = step;
  }
  return [...runs.values()].filter((r): r is RunTimes => r.stream !== undefined && r.nodes !== undefined);
}

/**
 * Latency from an event produced to its node visible in Neo4j, at `config.rate` events a second for
 * `config.seconds`: the order events stream asset over a topic of its own and its node asset, run by a stream
 * sensor in an `ingest daemon` process and an `ingest worker` process. The bench produces batches every 10 ms
 * (each event's `occurredAt` is when it was produced) and polls Neo4j every 50 ms for the events not yet seen.
 */
async function latency(scratch: Scratch): Promise<BenchResult[]> {
  const { cleanUp, pool, neo4j, kafka, id } = scratch;
  const name = "bench_latency";
  const label = `BenchStreamsLatency_${id}`;
  const topic = `bench.streams.latency.${id}`;
  const sensor = "bench_latency_stream";
  const streamKey = `${name}/order_events`;
  const folder = mkdtempSync(join(tmpdir(), "ingest-bench-streams-"));
  cleanUp.add("definitions folder", () => rmSync(folder, { recursive: true, force: true }));
  cleanUp.add(`label ${label}`, () => dropLabel(neo4j, label));
  const definitions = join(folder, "definitions.ts");
  writeFileSync(
    definitions,
    `import { streamProject } from ${JSON.stringify(join(packageRoot, "bench", "streams-project.ts"))};\n` +
      `export default streamProject(${JSON.stringify({ name, label, topic, maxMessages: 5_000, sensor })});\n`,
  );
  const env = { ...process.env, DATABASE_URL: scratch.url, LOG_LEVEL: "warn" };
  const logFile = join(folder, "processes.log");
  const tail = () => readFileSync(logFile, "utf8").split("\n").slice(-30).join("\n");

  const events = new OrderEvents("o", 7, [500, 3_000], [500, 3_000]);
  /** Events sent and not yet seen in Neo4j, by `orderId:stage`: when each was produced. */
  const unseen = new Map<string, { orderId: string; stage: Stage; producedAt: number; measured: boolean }>();
  const seen: { latency: number; producedAt: number; run: string }[] = [];
  let failure: unknown;
  const produce = (count: number, measured: boolean) => {
    const now = Date.now();
    const occurredAt = new Date(now).toISOString();
    const batch = Array.from({ length: count }, () => events.next(now, occurredAt));
    for (const e of batch) {
      unseen.set(`${e.orderId}:${stageOf(e)}`, { orderId: e.orderId, stage: stageOf(e), producedAt: now, measured });
    }
    return kafka.produce(topic, batch.map((e) => ({ key: e.orderId, value: JSON.stringify(e) }))).catch((error) => {
      failure ??= error;
    });
  };

  // Every 50 ms, which of the events not seen yet have reached their node (each stage's time is set once).
  let polling = true;
  let polls = 0;
  const poller = (async () => {
    while (polling) {
      const started = Date.now();
      if (unseen.size > 0) {
        const wanted = [...unseen.values()].map((u) => ({ id: u.orderId, stage: u.stage }));
        const { records } = await neo4j.executeQuery(
          `UNWIND $wanted AS w MATCH (n:${label} {orderId: w.id})
           WHERE (w.stage = 'placed' AND n.placedAt IS NOT NULL) OR (w.stage = 'paid' AND n.paidAt IS NOT NULL)
             OR (w.stage = 'shipped' AND n.shippedAt IS NOT NULL)
           RETURN w.id AS id, w.stage AS stage, n.ingestRunId AS run`,
          { wanted },
        );
        const at = Date.now();
        polls++;
        for (const r of records) {
          const key = `${r.get("id")}:${r.get("stage")}`;
          const u = unseen.get(key);
          if (!u) continue;
          unseen.delete(key);
          if (u.measured) seen.push({ latency: at - u.producedAt, producedAt: u.producedAt, run: r.get("run") });
        }
      }
      await sleep(Math.max(0, 50 - (Date.now() - started)));
    }
  })().catch((error) => {
    failure ??= error;
  });

  const waitSeen = async (what: string, ms: number) => {
    const deadline = Date.now() + ms;
    while (unseen.size > 0) {
      if (failure) throw failure;
      for (const child of [worker, daemon]) {
        if (child.exitCode !== null) throw new Error(`an ingest process exited (${child.exitCode}):\n${tail()}`);
      }
      if (Date.now() > deadline) {
        throw new Error(`${what}: ${unseen.size} events not in Neo4j within ${ms / 1000} s\n${tail()}`);
      }
      await sleep(100);
    }
  };

  // A first batch makes the topic; the processes start and consume it: that is their warm-up, not measured.
  await produce(100, false);
  const worker = ingest(cleanUp, env, logFile, "--definitions", definitions, "worker", "--concurrency", "2");
  const daemon = ingest(cleanUp, env, logFile, "--definitions", definitions, "daemon");
  try {
    await waitSeen("the first events", 120_000);
    await sleep(1_000);
    // 5 s at the rate before the measured ones, so the runs are in their steady state when measuring starts.
    const perTick = config.rate / 100;
    const warmTicks = 500;
    const ticks = warmTicks + config.seconds * 100;
    const inFlight = new Set<Promise<void>>();
    const started = Date.now();
    let measuredFrom = 0;
    for (let i = 0; i < ticks; i++) {
      if (failure) throw failure;
      const wait = started + i * 10 - Date.now();
      if (wait > 0) await sleep(wait);
      if (i === warmTicks) measuredFrom = Date.now();
      const sent = produce(perTick, i >= warmTicks);
      inFlight.add(sent);
      void sent.finally(() => inFlight.delete(sent));
      if (inFlight.size >= 50) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    const measuredTo = Date.now();
    await waitSeen("the measured events", 120_000);
    polling = false;
    await poller;

    const latencies = sortedOf(seen.map((s) => s.latency));
    const p50 = percentile(latencies, 50);
    const p95 = percentile(latencies, 95);
    const produced = seen.length;
    const rate = produced / ((measuredTo - measuredFrom) / 1000);

    // Where the time goes: each event's run (the one whose write made it visible) and that run's steps.
    const runs = await runTimes(pool, streamKey, sensor);
    const inWindow = runs.filter((r) => r.created >= measuredFrom && r.created <= measuredTo);
    const byId = new Map(runs.map((r) => [r.id, r]));
    const parts = {
      "produced → its run requested": [] as number[],
      "requested → stream step started": [] as number[],
      "stream step": [] as number[],
      "stream step done → node step started": [] as number[],
      "node step": [] as number[],
      "node step done → seen by the poll": [] as number[],
    };
    for (const s of seen) {
      const run = byId.get(s.run);
      if (!run) continue;
      const seenAt = s.producedAt + s.latency;
      const values = [
        run.created - s.producedAt,
        run.stream.started - run.created,
        run.stream.finished - run.stream.started,
        run.nodes.started - run.stream.finished,
        run.nodes.finished - run.nodes.started,
        seenAt - run.nodes.finished,
      ];
      Object.values(parts).forEach((list, i) => list.push(values[i]!));
    }
    const eventBreakdown = Object.entries(parts).map(([what, xs]) =>
      `${what} ${ms(mean(xs))} (median ${ms(median(xs))})`
    )
      .join("; ");
    const cycle = inWindow.slice(1).map((r, i) => ({
      gap: r.created - inWindow[i]!.finished,
      pickup: r.stream.started - r.created,
      stream: r.stream.finished - r.stream.started,
      streamMaterialize: r.stream.materializeMs,
      handoff: r.nodes.started - r.stream.finished,
      nodes: r.nodes.finished - r.nodes.started,
      nodesMaterialize: r.nodes.materializeMs,
      close: r.finished - r.nodes.finished,
      period: r.created - inWindow[i]!.created,
      batch: r.stream.counts.extracted ?? 0,
    }));
    const dist = (f: (c: (typeof cycle)[number]) => number) => {
      const xs = sortedOf(cycle.map(f));
      return `${ms(percentile(xs, 50))} (p95 ${ms(percentile(xs, 95))}, max ${ms(xs.at(-1)!)})`;
    };
    const runBreakdown = `previous run finished → next requested ${
      dist((c) => c.gap)
    }; requested → stream step started ${dist((c) => c.pickup)}; stream step ${
      dist((c) => c.stream)
    }, of which the materialisation ${dist((c) => c.streamMaterialize)}; → node step started ${
      dist((c) => c.handoff)
    }; node step ${dist((c) => c.nodes)}, of which the materialisation ${
      dist((c) => c.nodesMaterialize)
    }; → run finished ${dist((c) => c.close)}; a run every ${dist((c) => c.period)}; ${
      dist((c) => c.batch).replaceAll(" ms", "")
    } events a batch`;
    for (const c of [...cycle].sort((a, b) => b.period - a.period).slice(0, 5)) log(`a slow run: ${JSON.stringify(c)}`);
    const { rows: [ticksRow] } = await pool.query(
      `select coalesce(sum(evaluations), 0)::int as evaluations from ingest.ticks where instigator = $1`,
      [sensor],
    );
    const notes = `${thousands(produced)} events in ${config.seconds} s (${
      thousands(rate)
    }/s; batches of ${perTick} every 10 ms, after 5 s unmeasured at the same rate) from the bench to a topic of one partition; \`ingest worker --concurrency 2\` and \`ingest daemon\` (stream sensor, every 200 ms) in processes of their own; the stream asset's batch at its defaults (5,000 messages, 100 ms wait); Neo4j polled every 50 ms (${polls} polls), an event seen when its node holds its stage, latency = the poll's answer − produced. The daemon requested ${inWindow.length} runs during the ${config.seconds} s (${
      thousands(produced / Math.max(1, inWindow.length))
    } events a run; ${ticksRow.evaluations} sensor evaluations in all). Mean (median) per event: ${eventBreakdown}. Per run, median (p95, max): ${runBreakdown}.`;
    log(`latency p50 ${p50} ms, p95 ${p95} ms, max ${latencies.at(-1)} ms`);
    log(notes);
    const metric = `Kafka event produced → node visible in Neo4j (${
      thousands(config.rate)
    } events/s for ${config.seconds} s)`;
    return [
      result(`${metric}, p50`, p50, null, "ms", "<= 1000", notes),
      result(`${metric}, p95`, p95, null, "ms", "<= 2000", `max ${latencies.at(-1)} ms; see the p50's notes`),
    ];
  } finally {
    polling = false;
    await poller;
    await stop(daemon);
    await stop(worker);
  }
}

/** Counts and sums over a label's nodes: two graphs with the same summary hold the same orders in the same states. */
async function graphSummary(neo4j: Driver, label: string): Promise<string> {
  const { records } = await neo4j.executeQuery(
    `MATCH (n:${label}) RETURN n.status AS status, count(*) AS nodes, round(sum(n.total), 2) AS total,
       count(n.paidAt) AS paid, count(n.shippedAt) AS shipped, count(n.trackingNumber) AS tracked,
       min(n.updatedAt) AS first, max(n.updatedAt) AS last ORDER BY status`,
  );
  return JSON.stringify(records.map((r) => r.toObject()), (_, v) => (typeof v === "bigint" ? Number(v) : v));
}

/**
 * Throughput: the same `config.events` order events consumed (a) from a Kafka topic by the stream asset at its
 * default batches (100,000 messages while a backlog waits), runs one after another until the topic is drained, and (b) from a
 * Postgres table by a staged asset folding them in order id order; each into its node asset. Produced and
 * inserted beforehand; only the runs are timed. Both run in this process with one worker (concurrency 2).
 */
async function throughput(scratch: Scratch): Promise<BenchResult[]> {
  const { cleanUp, pool, neo4j, kafka, id, url } = scratch;
  const total = config.events;
  const topic = `bench.streams.throughput.${id}`;
  const labels = { kafka: `BenchStreamsKafka_${id}`, table: `BenchStreamsTable_${id}` };
  cleanUp.add(`label ${labels.kafka}`, () => dropLabel(neo4j, labels.kafka));
  cleanUp.add(`label ${labels.table}`, () => dropLabel(neo4j, labels.table));

  // The same events to the topic and the table, in the same order (untimed).
  const filling = Date.now();
  await pool.query("create schema bench_source");
  await pool.query(
    "create table bench_source.order_events (seq bigint primary key, order_id text not null, body jsonb not null)",
  );
  const events = new OrderEvents("o", 42, [500, 5_000], [1_000, 10_000]);
  const t0 = Date.parse("2026-12-01T00:00:00Z");
  let bytes = 0;
  for (let from = 0; from < total; from += 10_000) {
    const chunk = Array.from({ length: Math.min(10_000, total - from) }, (_, i) => {
      const e = events.next(from + i, new Date(t0 + (from + i) * 10).toISOString());
      return { seq: from + i, orderId: e.orderId, body: JSON.stringify(e) };
    });
    bytes += chunk.reduce((sum, c) => sum + c.body.length, 0);
    const sends = [];
    for (let i = 0; i < chunk.length; i += 2_000) {
      sends.push(kafka.produce(topic, chunk.slice(i, i + 2_000).map((c) => ({ key: c.orderId, value: c.body }))));
    }
    await Promise.all([
      ...sends,
      pool.query(
        "insert into bench_source.order_events select * from unnest($1::bigint[], $2::text[], $3::jsonb[])",
        [chunk.map((c) => c.seq), chunk.map((c) => c.orderId), chunk.map((c) => c.body)],
      ),
    ]);
  }
  await pool.query("create index order_events_by_order on bench_source.order_events (order_id, seq)");
  await pool.query("vacuum analyze bench_source.order_events");
  const orders = events.orders;
  log(
    `${thousands(total)} events (${thousands(orders)} orders, ${
      Math.round(bytes / 2 ** 20)
    } MiB of JSON) produced and inserted in ${Math.round((Date.now() - filling) / 1000)} s`,
  );

  const db = metadataDb(pool);
  const side = async (definitions: ReturnType<typeof streamProject>, until: (extracted: number) => boolean) => {
    const graph = buildAssetGraph(definitions);
    const worker = await startWorker({ graph, pool, concurrency: 2, pollIntervalMs: 100 });
    try {
      const cpu = process.cpuUsage();
      const started = performance.now();
      const runIds: string[] = [];
      let extracted = 0;
      do {
        const runId = await requestRun(db, graph, { selection: graph.order.join(" "), keys: graph.order });
        runIds.push(runId);
        const { run } = await waitForRun(db, runId, 25);
        if (run.status !== "succeeded") throw new Error(`run ${runId} ${run.status}: ${run.error}`);
        const { rows } = await pool.query(
          "select coalesce(sum((counts ->> 'extracted')::int), 0)::int as n from ingest.materializations where run_id = $1 and asset_key = $2",
          [runId, graph.order[0]],
        );
        if (rows[0].n === 0) throw new Error(`run ${runId} extracted nothing, ${extracted} of ${total} consumed`);
        extracted += rows[0].n;
      } while (!until(extracted));
      const seconds = (performance.now() - started) / 1000;
      const used = process.cpuUsage(cpu);
      const { rows } = await pool.query(
        `select asset_key, sum(duration_ms)::int as ms, sum((counts ->> 'written')::int)::int as written,
           (percentile_disc(0.5) within group (order by duration_ms))::int as median
         from ingest.materializations where run_id = any($1) group by asset_key`,
        [runIds],
      );
      const byAsset = Object.fromEntries(rows.map((r) => [r.asset_key, r]));
      const [source, nodes] = graph.order.map((key) => byAsset[key]);
      return {
        seconds,
        runs: runIds.length,
        cpuSeconds: (used.user + used.system) / 1e6,
        stagedMs: source.ms as number,
        stagedMedianMs: source.median as number,
        staged: source.written as number,
        nodesMs: nodes.ms as number,
        nodesMedianMs: nodes.median as number,
        nodes: nodes.written as number,
      };
    } finally {
      await worker.stop();
    }
  };
  const consumeKafka = () =>
    side(
      streamProject({ name: "bench_kafka", label: labels.kafka, topic, maxMessages: config.batch, databaseUrl: url }),
      (extracted) => extracted >= total,
    );
  const consumeTable = () =>
    side(
      tableProject({
        name: "bench_table",
        label: labels.table,
        sourceUrl: url,
        table: "bench_source.order_events",
        databaseUrl: url,
      }),
      () => true,
    );
  // Which goes first alternates from run to run.
  const kafkaFirst = Number(process.env.BENCH_RUN_INDEX ?? 1) % 2 === 1;
  let k: Awaited<ReturnType<typeof consumeKafka>>;
  let t: Awaited<ReturnType<typeof consumeTable>>;
  if (kafkaFirst) {
    k = await consumeKafka();
    t = await consumeTable();
  } else {
    t = await consumeTable();
    k = await consumeKafka();
  }
  const [kafkaGraph, tableGraph] = [await graphSummary(neo4j, labels.kafka), await graphSummary(neo4j, labels.table)];
  if (kafkaGraph !== tableGraph) {
    throw new Error(`the two graphs differ:\nKafka ${kafkaGraph}\ntable ${tableGraph}`);
  }
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const perRun = (x: typeof k, median: number) => (x.runs > 1 ? `, median ${seconds(median)} a run` : "");
  const describe = (x: typeof k) =>
    `${x.seconds.toFixed(1)} s, ${x.runs} run${x.runs === 1 ? "" : "s"}; staging step ${seconds(x.stagedMs)}${
      perRun(x, x.stagedMedianMs)
    } (${thousands(x.staged)} rows written), node step ${seconds(x.nodesMs)}${perRun(x, x.nodesMedianMs)} (${
      thousands(x.nodes)
    } nodes written); CPU of this process ${x.cpuSeconds.toFixed(1)} s`;
  const notes = `${thousands(total)} order events (${
    thousands(orders)
  } orders: placed, 80% paid 500–5,000 events later, 75% of those shipped 1,000–10,000 after that) produced to a topic of one partition and inserted into a table (seq, order_id, body jsonb; index on (order_id, seq); vacuumed) beforehand; only the runs timed, ${
    kafkaFirst ? "Kafka" : "the table"
  } first. Kafka: the stream asset (${
    config.batch === undefined
      ? "its default batches: 5,000 messages, 100,000 while more than 5,000 wait, as in this backlog"
      : `batches of ${thousands(config.batch)}`
  }; each event parsed with OrderEvent, de-duplicated by id, folded into its order's staged record) and its node asset, a run after another until drained: ${
    describe(k)
  }. Table (reference): a staged asset reading \`select body … order by order_id, seq\` with readTable, each event parsed with OrderEvent and folded with the same foldOrderStatus (an order's events come together), so it stages one record an order, then the same node asset: ${
    describe(t)
  }. The two graphs were compared by status, count, sum of totals, paid, shipped and time range: equal. Both in the bench process, one worker of concurrency 2.`;
  log(`throughput: Kafka ${describe(k)}; table ${describe(t)}`);
  return [
    result(
      `order events into Neo4j: Kafka stream asset vs Postgres table (${thousands(total)} events)`,
      total / k.seconds,
      total / t.seconds,
      "events/s",
      ">= 0.8",
      notes,
    ),
  ];
}

/** Labels of this bench left by a run that was killed before it cleaned up: their nodes, constraints and indexes. */
async function dropLeftovers(neo4j: Driver): Promise<void> {
  const leftovers = new Set<string>();
  for (
    const query of [
      "CALL db.labels() YIELD label RETURN [label] AS labels",
      "SHOW INDEXES YIELD labelsOrTypes RETURN labelsOrTypes AS labels",
    ]
  ) {
    const { records } = await neo4j.executeQuery(query);
    for (const label of records.flatMap((r) => (r.get("labels") as string[] | null) ?? [])) {
      if (label.startsWith("BenchStreams")) leftovers.add(label);
    }
  }
  for (const label of leftovers) {
    log(`deleting what an earlier run left under :${label}`);
    await dropLabel(neo4j, label);
  }
}

export async function streamsBench(): Promise<BenchResult[]> {
  const cleanUp = new CleanUp();
  const admin = createPool(settings().databaseUrl, 1);
  const database = "ingest_streams_bench";
  const id = Date.now().toString(36);
  // The worker of the throughput measurement runs in this process: its materialisations log at info.
  logger.level = process.env.LOG_LEVEL ?? "warn";
  const cleaned = async () => {
    // Children first, then the labels, the connections, the database and the folder.
    await Promise.all([...cleanUp.children].map(stop));
    await cleanUp.run();
  };
  const interrupted = (signal: NodeJS.Signals) => {
    log(`${signal}: cleaning up`);
    void cleaned().finally(() => process.exit(1));
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  try {
    // An earlier run killed outright (SIGKILL) left its database (dropped here) and maybe its labels.
    await admin.query(`drop database if exists ${database} with (force)`);
    await admin.query(`create database ${database}`);
    cleanUp.add("database", () => admin.query(`drop database if exists ${database} with (force)`));
    const url = new URL(settings().databaseUrl);
    url.pathname = `/${database}`;
    const pool = createPool(url.toString(), 20);
    cleanUp.add("pool", () => pool.end());
    await prepareDatabase(pool);
    const neo4j = connectNeo4j();
    cleanUp.add("neo4j", () => neo4j.close());
    await dropLeftovers(neo4j);
    const kafka = openKafka();
    cleanUp.add("kafka", () => kafka.close());
    const scratch: Scratch = { cleanUp, url: url.toString(), pool, neo4j, kafka, id };
    const only = (name: string) => config.only === undefined || config.only === name;
    return [
      ...(only("latency") ? await latency(scratch) : []),
      ...(only("throughput") ? await throughput(scratch) : []),
      ...(only("webhooks") ? await webhooksBench() : []),
    ];
  } finally {
    await cleaned();
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
    await admin.end();
  }
}
