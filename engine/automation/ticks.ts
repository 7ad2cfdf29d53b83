import { metrics } from "../../resources/metrics.ts";
import { camelCased } from "../../db/camel-case.ts";
import { sql } from "kysely";
import type { InstigatorKind, MetadataStore, Tick, TickStatus } from "../../db/schema.ts";

export interface TickRecord {
  instigator: string;
  kind: InstigatorKind;
  tickTime: Date;
  status: TickStatus;
  reason: string | null;
  cursor?: unknown;
}

interface Folding {
  id: number;
  status: TickStatus;
  reason: string | null;
  /** Evaluations folded in since the row was last written, and the latest one's time. */
  unwritten: number;
  lastTickTime: Date;
  writtenAt: number;
}

/**
 * Records ticks that request nothing. A sensor scanning every 250 ms would write a row each time;
 * instead an evaluation with the same status and reason as its instigator's previous one is folded
 * into that row (`evaluations` counts them), written at most every `flushMs`, so the table grows by
 * what changed, not by how often the daemon looked. Memory is one entry per instigator.
 */
export class TickLog {
  readonly #db: MetadataStore;
  readonly #daemon: string;
  readonly #flushMs: number;
  readonly #folding = new Map<string, Folding>();

  constructor(db: MetadataStore, daemon: string, flushMs = 2_000) {
    this.#db = db;
    this.#daemon = daemon;
    this.#flushMs = flushMs;
  }

  async record(tick: TickRecord): Promise<void> {
    metrics.ticks.inc({ instigator: tick.instigator, status: tick.status });
    const previous = this.#folding.get(tick.instigator);
    if (previous && previous.status === tick.status && previous.reason === tick.reason) {
      previous.unwritten++;
      previous.lastTickTime = tick.tickTime;
      if (Date.now() - previous.writtenAt >= this.#flushMs) await this.#write(previous);
      return;
    }
    if (previous) await this.#write(previous);
    const row = await this.#db
      .insertInto("ingest.ticks")
      .values({
        instigator: tick.instigator,
        kind: tick.kind,
        tick_key: null,
        tick_time: tick.tickTime,
        last_tick_time: tick.tickTime,
        status: tick.status,
        reason: tick.reason,
        cursor: tick.cursor === undefined ? null : JSON.stringify(tick.cursor),
        daemon: this.#daemon,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    this.#folding.set(tick.instigator, {
      id: row.id,
      status: tick.status,
      reason: tick.reason,
      unwritten: 0,
      lastTickTime: tick.tickTime,
      writtenAt: Date.now(),
    });
  }

  /** A tick row was written elsewhere (a run was requested): later idle evaluations start a new row. */
  async interrupt(instigator: string): Promise<void> {
    const previous = this.#folding.get(instigator);
    if (previous) await this.#write(previous);
    this.#folding.delete(instigator);
  }

  async flush(): Promise<void> {
    for (const folding of this.#folding.values()) await this.#write(folding);
  }

  async #write(folding: Folding): Promise<void> {
    folding.writtenAt = Date.now();
    if (folding.unwritten === 0) return;
    const added = folding.unwritten;
    folding.unwritten = 0;
    await this.#db
      .updateTable("ingest.ticks")
      .set({ evaluations: sql`evaluations + ${added}`, last_tick_time: folding.lastTickTime })
      .where("id", "=", folding.id)
      .execute();
  }
}

/**
 * Recent ticks, newest first, optionally of one instigator or with one status: what `ingest ticks` shows.
 *
 * @example
 * ```ts
 * for (const tick of await listTicks(db, { instigator: "nightly", limit: 5 })) console.log(tick.status, tick.reason);
 * ```
 */
export async function listTicks(
  db: MetadataStore,
  filter: {
    /** Only the ticks of this schedule or sensor (by name). */
    instigator?: string;
    /** Only ticks with this status. */
    status?: TickStatus;
    /** At most this many (default 20). */
    limit?: number;
  } = {},
): Promise<Tick[]> {
  let query = db.selectFrom("ingest.ticks").selectAll().orderBy("id", "desc").limit(filter.limit ?? 20);
  if (filter.instigator) query = query.where("instigator", "=", filter.instigator);
  if (filter.status) query = query.where("status", "=", filter.status);
  return (await query.execute()).map(camelCased);
}
