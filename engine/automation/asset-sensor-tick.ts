import { sql } from "kysely";
import { plan } from "../planner.ts";
import { selectAssets } from "../selection.ts";
import { VersionIndex } from "../versions.ts";
import type { AssetSensorDefinition } from "./asset-sensor.ts";
import { type EvaluationContext, type Evaluator, readsOf } from "./evaluation.ts";
import { recordTick } from "./run-requests.ts";

interface AssetSensorCursor {
  /** The latest materialisation id looked at. */
  materializationId: number;
}

/**
 * Evaluates a sensor on upstream materialisations. Its cursor is a materialisation id: each
 * evaluation reads the successful materialisations of the watched assets after it, and advances it
 * with a compare-and-set in the transaction that records the tick and its run, so two daemons
 * cannot both act on the same materialisations.
 */
export class AssetSensorEvaluator implements Evaluator {
  readonly name: string;
  readonly kind = "asset-sensor";
  readonly #sensor: AssetSensorDefinition;
  readonly #ctx: EvaluationContext;
  readonly #watch: string[];
  readonly #keys: string[];
  readonly #reads: string[];
  #cursor: number | undefined;
  #next = Date.now();

  constructor(sensor: AssetSensorDefinition, ctx: EvaluationContext) {
    this.name = sensor.name;
    this.#sensor = sensor;
    this.#ctx = ctx;
    this.#watch = [...selectAssets(ctx.graph, sensor.watch)];
    this.#keys = [...selectAssets(ctx.graph, sensor.select)];
    this.#reads = readsOf(ctx.graph, this.#keys);
  }

  nextAt(): number {
    return this.#next;
  }

  /**
   * A sensor seen for the first time starts from the materialisations there are when the daemon starts,
   * not when it first evaluates: one that lands while the daemon is starting is acted on.
   */
  async start(): Promise<void> {
    this.#cursor ??= await this.#load();
  }

  async evaluate(): Promise<void> {
    this.#next = Date.now() + this.#sensor.intervalMs;
    const { db, ticks } = this.#ctx;
    const tickTime = this.#ctx.clock.now();
    const record = (status: "skipped" | "evaluated", reason: string) =>
      ticks.record({
        instigator: this.name,
        kind: "asset-sensor",
        tickTime,
        status,
        reason,
        cursor: { materializationId: this.#cursor },
      });
    const cursor = this.#cursor ?? (this.#cursor = await this.#load());
    const { rows } = await sql<{ last: number | null; assets: string[] | null }>`
      select max(id)::bigint as last, array_agg(distinct asset_key order by asset_key) as assets from ingest.materializations
      where id > ${cursor} and status = 'succeeded' and asset_key = any(${this.#watch}::text[])`.execute(db);
    const { last, assets } = rows[0]!;
    if (last === null) return record("skipped", "no new materialisations of the watched assets");
    const upstream = assets!.join(", ");

    if (this.#sensor.waitForUpstreamRuns) {
      const busy = await sql<{ asset_key: string }>`
        select distinct s.asset_key from ingest.runs r join ingest.run_steps s on s.run_id = r.id
        where r.status in ('queued', 'running') and s.status in ('planned', 'queued', 'running') and s.asset_key = any(${this.#watch}::text[])
        order by s.asset_key`.execute(db);
      if (busy.rows.length > 0) {
        return record(
          "evaluated",
          `waiting: runs are still materialising ${busy.rows.map((r) => r.asset_key).join(", ")}`,
        );
      }
    }
    const staleOnly = this.#sensor.staleOnly;
    if (staleOnly) await this.#ctx.observe?.(this.#keys);
    const nothingStale = staleOnly &&
      plan(this.#ctx.graph, { keys: this.#keys, staleOnly, index: await VersionIndex.load(db, this.#reads) }).length ===
        0;

    const runIds = await db.transaction().execute(async (tx) => {
      const advanced = await tx
        .updateTable("ingest.instigator_state")
        .set({
          cursor: JSON.stringify({ materializationId: Number(last) } satisfies AssetSensorCursor),
          updated_at: sql`now()`,
        })
        .where("instigator", "=", this.name)
        .where(sql<boolean>`(cursor->>'materializationId')::bigint = ${cursor}`)
        .executeTakeFirst();
      if (advanced.numUpdatedRows === 0n) return undefined;
      return recordTick(
        tx,
        {
          instigator: this.name,
          kind: "asset-sensor",
          tickTime,
          status: nothingStale ? "skipped" : "requested",
          reason: nothingStale
            ? `nothing stale after new materialisations of ${upstream}`
            : `new materialisations of ${upstream}`,
          cursor: { materializationId: Number(last) },
          requests: nothingStale ? [] : [{
            selection: this.#sensor.select,
            keys: this.#keys,
            staleOnly,
            tags: { ...this.#sensor.tags, "ingest/upstream": upstream },
          }],
        },
        this.#ctx.daemon,
      );
    });
    // Another daemon moved the cursor first: start again from where it left it.
    if (runIds === undefined) {
      this.#cursor = undefined;
      return;
    }
    this.#cursor = Number(last);
    await ticks.interrupt(this.name);
    await this.#ctx.submit(runIds);
  }

  /** The sensor's cursor; a sensor seen for the first time starts at the latest materialisation, and does not act on the past. */
  async #load(): Promise<number> {
    const { db } = this.#ctx;
    await sql`insert into ingest.instigator_state (instigator, kind, cursor)
      select ${this.name}, 'asset-sensor', jsonb_build_object('materializationId', coalesce(max(id), 0)) from ingest.materializations
      on conflict (instigator) do nothing`.execute(db);
    const row = await db.selectFrom("ingest.instigator_state").select("cursor").where("instigator", "=", this.name)
      .executeTakeFirstOrThrow();
    return Number((row.cursor as unknown as AssetSensorCursor).materializationId);
  }
}
