import { sql } from "kysely";
import type { AssetDefinition, SourceLag } from "../asset.ts";
import { logger } from "../../resources/logger.ts";
import type { ResourcePool } from "../resource.ts";
import { metrics } from "../../resources/metrics.ts";
import { selectAssets } from "../selection.ts";
import { type EvaluationContext, type Evaluator } from "./evaluation.ts";
import { recordTick } from "./run-requests.ts";
import type { StreamSensorDefinition } from "./stream-sensor.ts";

/**
 * How long a stream sensor waits after its last run failed, by how many of its latest runs failed in a row:
 * a stream whose batches fail (a broker down, a fold that throws) is retried, not hammered five times a second.
 */
const backoffAfter = [1_000, 2_000, 5_000, 10_000, 30_000, 60_000];

/**
 * How far behind a stream asset's consumption is, asked with the resources it reads with; a broker that
 * does not answer within `timeoutMs` fails it, naming the asset, rather than holding up a sensor's tick.
 */
export async function streamLag(
  asset: AssetDefinition,
  resources: ResourcePool,
  withAge: boolean,
  timeoutMs = 10_000,
): Promise<SourceLag> {
  const signal = AbortSignal.timeout(timeoutMs);
  const late = new Promise<never>((_, reject) =>
    signal.addEventListener(
      "abort",
      () => reject(new Error(`${asset.key}: its stream did not say how far behind it is within ${timeoutMs / 1000} s`)),
      { once: true },
    )
  );
  late.catch(() => {});
  const asking = (async () =>
    asset.lag!({
      assetKey: asset.key,
      resources: await resources.pick(asset.resources),
      log: logger.child({ asset: asset.key }),
      signal,
    }, withAge))();
  return await Promise.race([asking, late]);
}

/**
 * Evaluates a stream sensor: while a run it requested is still queued or running, it waits (that run takes
 * what came meanwhile in its batch, or the next one does); after failed runs it backs off (1 s, then up to a
 * minute as failures follow one another); otherwise it asks each stream how far behind it is
 * and requests one run of those with messages waiting and of what is downstream of them. No cursor: the
 * streams' positions, moved by the runs, are the state, and a leader daemon alone evaluates.
 */
export class StreamSensorEvaluator implements Evaluator {
  readonly name: string;
  readonly kind = "stream-sensor";
  readonly #sensor: StreamSensorDefinition;
  readonly #ctx: EvaluationContext;
  readonly #resources: ResourcePool;
  readonly #streams: AssetDefinition[];
  readonly #select: Set<string> | undefined;
  #next = Date.now();

  constructor(sensor: StreamSensorDefinition, ctx: EvaluationContext, resources: ResourcePool) {
    this.name = sensor.name;
    this.#sensor = sensor;
    this.#ctx = ctx;
    this.#resources = resources;
    this.#streams = [...selectAssets(ctx.graph, sensor.streams)].map((key) => ctx.graph.byKey.get(key)!).filter(
      (asset) => asset.lag !== undefined,
    );
    this.#select = sensor.select === undefined ? undefined : selectAssets(ctx.graph, sensor.select);
  }

  nextAt(): number {
    return this.#next;
  }

  async evaluate(): Promise<void> {
    this.#next = Date.now() + this.#sensor.intervalMs;
    const { db, ticks, graph } = this.#ctx;
    const tickTime = this.#ctx.clock.now();
    const record = (status: "skipped" | "evaluated", reason: string) =>
      ticks.record({ instigator: this.name, kind: "stream-sensor", tickTime, status, reason });
    const pending = await sql<{ id: string }>`
      select run_id from ingest.run_requests where instigator = ${this.name} and status = 'pending' limit 1`.execute(
      db,
    );
    if (pending.rows.length > 0) return record("skipped", "waiting: its run is still consuming");
    // Its latest runs, newest first: one still going is waited for; failed ones are backed off from.
    const { rows: latest } = await sql<{ status: string; finished_at: Date | null }>`
      select status, finished_at from ingest.runs where tags ->> 'ingest/instigator' = ${this.name}
      order by created_at desc limit ${backoffAfter.length}`.execute(db);
    if (latest[0] && ["queued", "running", "canceling"].includes(latest[0].status)) {
      return record("skipped", "waiting: its run is still consuming");
    }
    const failed = latest.findIndex((run) => run.status !== "failed");
    const failures = failed === -1 ? latest.length : failed;
    if (failures > 0) {
      const wait = backoffAfter[failures - 1]!;
      if (Date.now() - latest[0]!.finished_at!.getTime() < wait) {
        return record(
          "skipped",
          `backing off: its last ${failures} run(s) failed; the next in ${wait / 1000} s at most`,
        );
      }
    }
    const lags = await Promise.all(this.#streams.map((s) => streamLag(s, this.#resources, false)));
    this.#streams.forEach((s, i) => metrics.streamLagMessages.set({ asset: s.key }, lags[i]!.messages));
    const behind = this.#streams.filter((_, i) => lags[i]!.messages > 0).map((s) => s.key);
    if (behind.length === 0) return record("skipped", "no messages waiting");
    const downstream = selectAssets(graph, behind.map((key) => `${key}+`).join(" or "));
    const keys = graph.order.filter((key) =>
      behind.includes(key) || (downstream.has(key) && (this.#select?.has(key) ?? true))
    );
    const waiting = behind.map((key) => `${key}: ${lags[this.#streams.findIndex((s) => s.key === key)]!.messages}`);
    const runIds = await db.transaction().execute((tx) =>
      recordTick(
        tx,
        {
          instigator: this.name,
          kind: "stream-sensor",
          tickTime,
          status: "requested",
          reason: `messages waiting (${waiting.join(", ")})`,
          requests: [{
            selection: keys.join(" "),
            keys,
            staleOnly: false,
            tags: { ...this.#sensor.tags, "ingest/streams": behind.join(" ") },
          }],
        },
        this.#ctx.daemon,
      )
    );
    await ticks.interrupt(this.name);
    if (runIds) await this.#ctx.submit(runIds);
  }
}
