import type pg from "pg";
import type { ResourceNeed } from "../../engine/resource.ts";
import type { WebhookSource } from "../webhooks/source.ts";

/** One message of a stream, as the broker (or the webhook receiver) kept it. */
export interface StreamMessage {
  /** The body, as sent. */
  body: Buffer;
  /** Where it is in the stream, for dead letters and logs: `shop.order-events[0]@1234`, a delivery id. */
  position: string;
  /** When the broker received it (ms since the epoch), when it says. */
  timestamp?: number;
}

/**
 * A micro-batch read from a stream. It is consumed in the transaction that stages it (`commitIn`: a Kafka
 * partition's next offset, webhook deliveries marked consumed) and, for a broker that wants it,
 * acknowledged once that transaction committed (`acknowledge`: RabbitMQ). A crash in between repeats the
 * batch, and the events it applied are found applied: at-least-once transport, exactly-once effect.
 */
export interface StreamBatch {
  /** The messages read, in the stream's order (within each part); none when nothing came in time. */
  messages: StreamMessage[];
  /** Records the batch as consumed, on the staging transaction's connection. */
  commitIn?(client: pg.PoolClient): Promise<void>;
  /** After the staging transaction committed: tells the broker the messages are done with. */
  acknowledge?(): Promise<void>;
  /** The batch could not be staged: gives its messages back for a later batch. */
  release?(): Promise<void>;
}

/** How far a stream's consumption is behind what was sent. */
export interface StreamLag {
  /** Messages sent and not yet consumed. */
  messages: number;
  /** Age (ms) of the oldest of them, when known; null when there are none or the broker cannot say. */
  oldestAgeMs: number | null;
}

/**
 * Where a stream asset's messages come from: a Kafka topic, a RabbitMQ queue, a webhook source's
 * deliveries. `R` is the resources it reads with. Made by `kafkaTopic`, `rabbitmqQueue`, `webhookDeliveries`;
 * a source of your own implements the same three members.
 */
export interface StreamSource<R = Record<string, unknown>> {
  /** What is read, recorded on every node and document built from it: `kafka:shop.order-events`. */
  name: string;
  /** The resources `read` and `lag` receive. */
  resources: ResourceNeed<keyof R & string>[];
  /** The webhook source whose deliveries it reads, for `ingest webhooks` to serve. */
  webhook?: WebhookSource;
  /**
   * Reads at most `max` messages after `positions` (what the last committed batch recorded, by part:
   * empty the first time), waiting at most `waitMs` for the first one. The messages' `commitIn` must
   * record the positions after them, in the same form, with {@link writePositions}.
   */
  read(
    resources: R,
    from: {
      /** The stream asset's staging table, which its positions are kept under: what `writePositions` takes. */
      stream: string;
      /**
       * Where the last committed batch left each part (a Kafka partition `"0"` → its next offset `"1234"`);
       * empty the first time.
       */
      positions: Map<string, string>;
      /** The most messages to return (the asset's `batch.maxMessages`). */
      max: number;
      /** How long to wait (ms) for a first message when none is waiting (the asset's `batch.maxWaitMs`). */
      waitMs: number;
    },
  ): Promise<StreamBatch>;
  /** How far behind the consumption is; `withAge` asks for the oldest message's age, which may cost a read. */
  lag(
    resources: R,
    from: {
      /** The stream asset's staging table, as `read` gets it. */
      stream: string;
      /** Where the last committed batch left each part, as `read` gets them; empty before the first. */
      positions: Map<string, string>;
      /** Whether to find the oldest waiting message's age (`oldestAgeMs`) too, not only the count. */
      withAge: boolean;
    },
  ): Promise<StreamLag>;
}

/**
 * Records where a stream's consumption got to, by part, on the staging transaction's connection: what a
 * {@link StreamSource} of your own calls in its batch's `commitIn`, so that the positions commit with the
 * records the batch staged and the next `read` receives them. Parts not named keep their positions.
 *
 * @example A source of your own reading an outbox table in order of its ids, as one part `outbox`
 * ```ts
 * async read({ shop }, { stream, positions, max }) {
 *   const after = Number(positions.get("outbox") ?? 0);
 *   const { rows } = await shop.query("select id, payload from outbox where id > $1 order by id limit $2", [after, max]);
 *   const next = new Map([["outbox", String(rows.at(-1)?.id ?? after)]]);
 *   return {
 *     messages: rows.map((r) => ({ body: Buffer.from(JSON.stringify(r.payload)), position: `outbox#${r.id}` })),
 *     commitIn: (client) => writePositions(client, stream, next),
 *   };
 * },
 * ```
 */
export async function writePositions(client: pg.ClientBase, stream: string, positions: Map<string, string>) {
  if (positions.size === 0) return;
  await client.query(
    `insert into staging.stream_positions (stream, part, position)
     select $1, part, position from unnest($2::text[], $3::text[]) as p(part, position)
     on conflict (stream, part) do update set position = excluded.position, updated_at = now()`,
    [stream, [...positions.keys()], [...positions.values()]],
  );
}
