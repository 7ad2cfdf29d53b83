import type { pg } from "../../resources/postgres.ts";
import type { RejectionReason } from "./source.ts";

/** A delivery to store: what {@link WebhookDeliveries.append} takes. */
export interface NewDelivery {
  /** The webhook source's name. */
  source: string;
  /** The sender's id of the delivery (its retries carry the same), or the body's sha256. */
  deliveryId: string;
  /** The request's `Content-Type`, as sent. */
  contentType?: string | null;
  /** The raw body, exactly as received and signed. */
  body: Uint8Array;
}

/** A delivery waiting for its stream asset: what {@link WebhookDeliveries.unconsumed} returns. */
export interface StoredDelivery {
  /** The row's id (a bigint, as a string): arrival order within the table. */
  id: string;
  /** The sender's id of the delivery, or the body's sha256. */
  deliveryId: string;
  /** When it was stored. */
  receivedAt: Date;
  /** The request's `Content-Type`, as sent. */
  contentType: string | null;
  /** The raw body, exactly as received. */
  body: Buffer;
}

/** How far a source's stream asset is behind: what {@link WebhookDeliveries.lag} returns. */
export interface DeliveryLag {
  /** Deliveries stored and not yet consumed. */
  messages: number;
  /** How long ago the oldest of them arrived, in milliseconds; null when there is none. */
  oldestAgeMs: number | null;
}

/** Deliveries refused for one reason: a row of {@link WebhookDeliveries.rejections}. */
export interface RejectionCount {
  /** The webhook source's name. */
  source: string;
  /** Why they were refused: a bad or missing signature, a stale timestamp, a body too large. */
  reason: RejectionReason;
  /** How many, since the table was made. */
  count: number;
  /** When the latest was. */
  lastAt: Date;
}

/**
 * The webhook deliveries stored in `ingest.webhook_deliveries` (by `ingest webhooks`), and the count of
 * those refused: what a stream asset reads in micro-batches and marks consumed.
 *
 * @example
 * ```ts
 * const deliveries = new WebhookDeliveries(pool);
 * const client = await pool.connect();
 * try {
 *   await client.query("begin");
 *   const batch = await deliveries.unconsumed("chat", 500, client);
 *   // … stage each delivery's body, on `client` …
 *   await deliveries.markConsumed(client, batch.map((d) => d.id));
 *   await client.query("commit");
 * } catch (error) {
 *   await client.query("rollback");
 *   throw error;
 * } finally {
 *   client.release();
 * }
 * ```
 */
export class WebhookDeliveries {
  private readonly pool: pg.Pool;

  /** Deliveries are stored and read on `pool` (the framework's database, migrated); the caller ends it. */
  constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  /**
   * Stores a delivery once: a second one of the same source and delivery id is not stored again, and
   * comes back as `duplicate` with the first one's id. Resolves once the row is committed.
   */
  async append(delivery: NewDelivery): Promise<{ id: string; duplicate: boolean }> {
    const { source, deliveryId, contentType = null, body } = delivery;
    const { rows } = await this.pool.query<{ id: string }>(
      `insert into ingest.webhook_deliveries (source, delivery_id, content_type, body) values ($1, $2, $3, $4)
       on conflict (source, delivery_id) do nothing returning id::text`,
      [source, deliveryId, contentType, Buffer.from(body.buffer, body.byteOffset, body.byteLength)],
    );
    if (rows[0]) return { id: rows[0].id, duplicate: false };
    // Stored before, or by a transaction that committed while this insert waited on it: a new statement sees it.
    const existing = await this.pool.query<{ id: string }>(
      "select id::text from ingest.webhook_deliveries where source = $1 and delivery_id = $2",
      [source, deliveryId],
    );
    if (!existing.rows[0]) throw new Error(`webhook delivery ${source}/${deliveryId} conflicted and is gone`);
    return { id: existing.rows[0].id, duplicate: true };
  }

  /**
   * The oldest `limit` deliveries of `source` not consumed yet, in order of arrival. Given `client` (in a
   * transaction), they are read on it and locked (`for update skip locked`): a second consumer in its own
   * transaction takes the next ones instead of the same.
   */
  async unconsumed(source: string, limit: number, client?: pg.ClientBase): Promise<StoredDelivery[]> {
    const { rows } = await (client ?? this.pool).query<StoredDelivery>(
      `select d.id::text as id, d.delivery_id as "deliveryId", d.received_at as "receivedAt",
         d.content_type as "contentType", d.body
       from ingest.webhook_deliveries d where d.source = $1 and d.consumed_at is null
       order by d.id limit $2${client ? " for update skip locked" : ""}`,
      [source, limit],
    );
    return rows;
  }

  /**
   * Marks deliveries consumed, on the caller's `client`: in the caller's transaction, so they count as
   * consumed exactly when what was staged from them commits. Returns how many were not consumed before.
   */
  async markConsumed(client: pg.ClientBase, ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const { rowCount } = await client.query(
      `update ingest.webhook_deliveries set consumed_at = now()
       where id = any($1::bigint[]) and consumed_at is null`,
      [ids],
    );
    return rowCount ?? 0;
  }

  /** How many deliveries of `source` wait, and how long the oldest has. */
  async lag(source: string): Promise<DeliveryLag> {
    const { rows } = await this.pool.query<{ messages: number; oldest_age_ms: number | null }>(
      `select count(*)::int as messages,
         (extract(epoch from clock_timestamp() - min(received_at)) * 1000)::float8 as oldest_age_ms
       from ingest.webhook_deliveries where source = $1 and consumed_at is null`,
      [source],
    );
    const row = rows[0]!;
    return { messages: row.messages, oldestAgeMs: row.oldest_age_ms === null ? null : Math.max(0, row.oldest_age_ms) };
  }

  /** Counts one refused delivery of `source`. */
  async reject(source: string, reason: RejectionReason): Promise<void> {
    await this.pool.query(
      `insert into ingest.webhook_rejections (source, reason, count, last_at) values ($1, $2, 1, now())
       on conflict (source, reason) do update set count = webhook_rejections.count + 1, last_at = now()`,
      [source, reason],
    );
  }

  /** The refused deliveries, by source and reason (only `source`'s when given). */
  async rejections(source?: string): Promise<RejectionCount[]> {
    const { rows } = await this.pool.query<RejectionCount>(
      `select source, reason, count::float8 as count, last_at as "lastAt" from ingest.webhook_rejections
       where $1::text is null or source = $1 order by source, reason`,
      [source ?? null],
    );
    return rows;
  }

  /** Deletes the deliveries consumed more than `olderThanMs` ago; returns how many. */
  async purgeConsumed(olderThanMs: number): Promise<number> {
    const { rowCount } = await this.pool.query(
      `delete from ingest.webhook_deliveries
       where consumed_at is not null and consumed_at < now() - make_interval(secs => $1::float8 / 1000)`,
      [olderThanMs],
    );
    return rowCount ?? 0;
  }
}
