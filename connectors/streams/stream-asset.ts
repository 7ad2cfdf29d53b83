import type pg from "pg";
import type { z } from "zod";
import { type AssetKindSpec, checkAssetDefinition, defineAsset, type MaterializeContext } from "../../engine/asset.ts";
import type { ResourceNeed } from "../../engine/resource.ts";
import { withSpan } from "../../resources/spans.ts";
import { assertIdentifier } from "../identifiers.ts";
import { stagingKind } from "../staging/resource.ts";
import { issuesOf, rawKeyOf, type StagedAsset } from "../staging/staged-asset.ts";
import { maxRecordDepth, nestedDeeperThan, tooDeep, unstorableKey } from "../staging/records.ts";
import type { Staging } from "../staging/staging.ts";
import type { StreamMessage, StreamSource } from "./stream.ts";
import { storable } from "../../engine/canonical-json.ts";

/**
 * What {@link defineStreamAsset} takes: the stream, the model of one event, how events are keyed and
 * identified, and how the events of one key fold into the record staged for it. `E` is an event, `T` the
 * staged record, `R` the resources the stream reads with.
 */
export interface StreamAssetSpec<E, T, R> extends AssetKindSpec<R> {
  /** The staging table (schema `staging`), one row per source key: what node and collection assets read. */
  table: string;
  /** Where the events come from: `kafkaTopic(…)`, `rabbitmqQueue(…)`, `webhookDeliveries(…)`. */
  stream: StreamSource<R>;
  /** The zod model each event (a message's JSON body) is parsed with; one it rejects is dead-lettered as `invalid`. */
  model: z.ZodType<E>;
  /**
   * The event's own id: an event applied once is never applied again, whether the sender sent it twice or
   * a batch was repeated after a crash (it is counted `deduplicated`).
   */
  eventId(event: E): string;
  /** The key of the record the event is about (`o.orderId`): one staged row per key. */
  sourceKey(event: E): string;
  /** The source key read from a raw event, for the dead letter of one the model rejects. */
  // deno-lint-ignore no-explicit-any -- a raw event is whatever was sent
  rawKey(raw: any): unknown;
  /**
   * Folds an event into the record staged for its key (undefined for the first): events come late, out of
   * order and more than once, so make it order-independent — keep the furthest state, the latest value by
   * the event's own time. Without it, the event with the latest `updatedAt` is the record.
   */
  fold?(record: T | undefined, event: E): T;
  /** Without `fold`: the event's time (ISO 8601 of one zone): an older event never replaces a newer one. */
  updatedAt?(event: E): string;
  /**
   * One materialisation consumes one micro-batch: at most `maxMessages` (default 5,000), waiting at most
   * `maxWaitMs` (default 100) for the first.
   */
  batch?: {
    /** The most messages one batch consumes (default 5,000): a whole number, at least 1. */
    maxMessages?: number;
    /**
     * The most messages one batch consumes when more than `maxMessages` wait (default 100,000, at least
     * `maxMessages`): a stream that fell behind (a backlog after a pause, a first read) catches up in large
     * batches, each of an order's events folded once per batch rather than once per small one; one that keeps
     * up stays in small, quick batches.
     */
    backlogMessages?: number;
    /** How long (ms) a batch waits for a first message when none is waiting (default 100). */
    maxWaitMs?: number;
  };
}

/** A stream asset: a staged asset (what node, relationship and collection assets read) fed by a stream. */
export interface StreamAsset<T> extends StagedAsset<T> {
  /** Its stream, for `ingest status` and the stream sensor. */
  // deno-lint-ignore no-explicit-any -- a stream reads whatever resources it needs
  stream: StreamSource<any>;
  /**
   * Applies events (parsed by the model) as a batch would, without moving the stream: what a dead-letter
   * replay does with events that pass the model after a fix.
   */
  applyEvents(staging: Staging, events: unknown[], runId: string): Promise<{ applied: number; failed: unknown[] }>;
}

/**
 * True for an asset made by {@link defineStreamAsset}, which then has its `stream` and `applyEvents`.
 *
 * @example
 * ```ts
 * import definitions from "./definitions.ts";
 *
 * for (const asset of definitions.assets.filter(isStreamAsset)) console.log(asset.key, asset.stream.name);
 * ```
 */
export function isStreamAsset(asset: unknown): asset is StreamAsset<unknown> {
  return typeof asset === "object" && asset !== null && "stream" in asset && "staged" in asset;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A message body as a dead letter keeps it: its text, or base64 when it is not UTF-8. */
function bodyPayload(body: Buffer): unknown {
  try {
    return utf8.decode(body);
  } catch {
    return { base64: body.toString("base64") };
  }
}

/**
 * Declares a stream asset: each materialisation consumes one micro-batch of its stream — reads it,
 * validates each event, folds the new ones into the records of their keys and stages those, recording the
 * stream's new position, the applied event ids and the batch's dead letters in the same transaction —
 * then acknowledges the batch to the broker. A crash anywhere repeats the batch, whose events are then
 * found applied: Neo4j and Chroma get each event's effect once. Counts reconcile per batch:
 * consumed = loaded + dead-lettered + deduplicated.
 *
 * A stream sensor ({@link defineStreamSensor}) materialises it, and what is downstream, whenever the stream
 * has messages waiting.
 *
 * @example
 * ```ts
 * export const orderEvents = defineStreamAsset<OrderEvent, OrderStatus, { kafka: KafkaClient }>({
 *   key: "stream/order_events",
 *   codeVersion: "1",
 *   table: "stream_order_events",
 *   stream: kafkaTopic({ topic: "shop.order-events" }),
 *   model: OrderEvent,
 *   eventId: (e) => e.eventId,
 *   sourceKey: (e) => e.orderId,
 *   rawKey: (raw) => raw.orderId,
 *   fold: foldOrderStatus,
 * });
 * ```
 */
export function defineStreamAsset<E, T = E, R extends Record<string, unknown> = Record<string, unknown>>(
  spec: StreamAssetSpec<E, T, R>,
): StreamAsset<T> {
  const max = spec.batch?.maxMessages ?? 5_000;
  const backlog = spec.batch?.backlogMessages ?? Math.max(max, 100_000);
  const waitMs = spec.batch?.maxWaitMs ?? 100;
  checkAssetDefinition(spec.key, () => {
    assertIdentifier("staging table", spec.table);
    if (spec.partitions) throw new Error("a stream asset cannot be partitioned");
    if (!Number.isInteger(max) || max < 1) throw new Error(`batch.maxMessages must be a whole number ≥ 1, not ${max}`);
    if (!Number.isInteger(backlog) || backlog < max) {
      throw new Error(`batch.backlogMessages must be a whole number ≥ batch.maxMessages (${max}), not ${backlog}`);
    }
  });
  const source = spec.stream.name;
  // The latest by `updatedAt` (then by event id, so the winner does not depend on the order they came in).
  const fold = spec.fold ??
    ((record: T | undefined, event: E): T => {
      if (record === undefined || !spec.updatedAt) return event as unknown as T;
      const [a, b] = [spec.updatedAt(event), spec.updatedAt(record as unknown as E)];
      const later = a > b || (a === b && spec.eventId(event) > spec.eventId(record as unknown as E));
      return later ? event as unknown as T : record;
    });

  /**
   * An event's id as applied ids are kept, in Postgres text: as it is, or, holding a NUL or half a character
   * (which text cannot hold, or holds as U+FFFD), its JSON escape. As it was, a NUL failed every batch holding
   * the event, for ever, and an id with a lone surrogate came back from the lookup changed: sent twice, its event
   * was applied twice.
   */
  const idOf = (event: E) => {
    const id = spec.eventId(event);
    return !id.includes("\u0000") && id.isWellFormed() ? id : JSON.stringify(id);
  };

  /** An event's key as the staging table holds it (half a character as U+FFFD), so its staged record is found. */
  const keyOf = (event: E) => storable(spec.sourceKey(event));

  /** Folds fresh events into the staged records of their keys: the records to stage, by key. */
  async function folded(staging: Staging, events: E[]): Promise<Map<string, T>> {
    const keys = [...new Set(events.map(keyOf))];
    const records = await staging.recordsByKey<T>(spec.table, keys);
    const changed = new Map<string, T>();
    for (const event of events) {
      const key = keyOf(event);
      const record = fold(changed.get(key) ?? records.get(key), event);
      changed.set(key, record);
    }
    return changed;
  }

  /** The events not applied before, and not twice in this batch. */
  async function fresh(staging: Staging, events: E[]): Promise<E[]> {
    const applied = await staging.appliedEvents(spec.table, events.map(idOf));
    const seen = new Set<string>();
    return events.filter((e) => {
      const id = idOf(e);
      if (applied.has(id) || seen.has(id)) return false;
      seen.add(id);
      return true;
    });
  }

  async function stage(
    staging: Staging,
    runId: string,
    events: E[],
    within: (client: pg.PoolClient) => Promise<void>,
  ) {
    const records = await folded(staging, events);
    const load = await staging.begin(spec.table, runId);
    try {
      for (const [key, record] of records) await load.add(key, record);
    } catch (error) {
      await load.abort();
      throw error;
    }
    return load.finish({
      complete: false,
      within: async (client) => {
        const ids = events.map(idOf);
        if (ids.length > 0) {
          await client.query(
            `insert into staging.stream_events (stream, event_key) select $1, md5(id)::uuid from unnest($2::text[]) as id
             on conflict do nothing`,
            [spec.table, ids],
          );
        }
        await within(client);
      },
    });
  }

  const asset = defineAsset<R & { staging: Staging }>({
    ...spec,
    resources: [stagingKind, ...spec.stream.resources] as ResourceNeed<keyof (R & { staging: Staging }) & string>[],
    target: { kind: "staging-table", table: spec.table },
    lag: async ({ resources }, withAge) =>
      spec.stream.lag(resources, {
        stream: spec.table,
        positions: await resources.staging.streamPositions(spec.table),
        withAge,
      }),
    materialize: (ctx) =>
      ctx.resources.staging.withStreamLock(
        spec.table,
        () => consumeBatch(ctx as MaterializeContext<R & { staging: Staging }>),
      ),
  });

  async function consumeBatch(ctx: MaterializeContext<R & { staging: Staging }>) {
    const { staging } = ctx.resources;
    const positions = await staging.streamPositions(spec.table);
    // Behind by more than a batch: a large one.
    const behind = backlog > max &&
      (await spec.stream.lag(ctx.resources, { stream: spec.table, positions, withAge: false })).messages > max;
    const size = behind ? backlog : max;
    const batch = await withSpan(`read ${source}`, { attributes: { "ingest.source": source } }, async (span) => {
      const read = await spec.stream.read(ctx.resources, { stream: spec.table, positions, max: size, waitMs });
      span.setAttribute("ingest.records.extracted", read.messages.length);
      return read;
    });
    let counts;
    let valid: E[];
    let applied: E[];
    try {
      valid = [];
      for (const message of batch.messages) {
        const event = await parseMessage(ctx, message);
        if (event !== undefined) valid.push(event);
      }
      applied = await fresh(staging, valid);
      counts = await stage(staging, ctx.runId, applied, async (client) => {
        await batch.commitIn?.(client);
        await ctx.commitDeadLettersWith(client);
        // Applied ids are kept a week: a sender's retries and a repeated batch come well within it.
        await client.query(
          "delete from staging.stream_events where stream = $1 and applied_at < now() - interval '7 days'",
          [spec.table],
        );
      });
    } catch (error) {
      await batch.release?.();
      throw error;
    }
    // Committed: a failure to acknowledge only means the broker sends the batch again, found applied.
    await batch.acknowledge?.().catch((error: unknown) =>
      ctx.log.warn({ err: error, source }, "could not acknowledge a staged batch: the broker will send it again")
    );
    return {
      counts: {
        extracted: batch.messages.length,
        loaded: applied.length,
        deduplicated: valid.length - applied.length,
        written: counts.written,
        unchanged: counts.unchanged,
      },
      metadata: { stream: source, ...(batch.messages.length > 0 && { last: batch.messages.at(-1)!.position }) },
      partialExtract: true,
      dataVersion: await staging.dataVersion(spec.table),
    };
  }

  /** The message's event, or undefined once it is dead-lettered (not JSON, nested too deeply, or rejected by the model). */
  async function parseMessage(ctx: MaterializeContext<unknown>, message: StreamMessage): Promise<E | undefined> {
    let raw: unknown;
    try {
      raw = JSON.parse(message.body.toString("utf8"));
    } catch (error) {
      await ctx.deadLetter({
        source,
        sourceKey: message.position,
        reason: "unparseable",
        issues: [{ path: "(message)", message: `not JSON: ${(error as Error).message}` }],
        payload: bodyPayload(message.body),
      });
      return undefined;
    }
    // a raw event too deep to store is kept as the body it came in
    const payload = nestedDeeperThan(raw, maxRecordDepth) ? bodyPayload(message.body) : raw;
    const parsed = spec.model.safeParse(raw);
    if (!parsed.success) {
      await ctx.deadLetter({
        source,
        sourceKey: rawKeyOf(spec, raw) ?? message.position,
        reason: "invalid",
        issues: issuesOf(parsed.error),
        payload,
      });
      return undefined;
    }
    if (nestedDeeperThan(parsed.data, maxRecordDepth)) {
      await ctx.deadLetter(tooDeep(source, message.position, bodyPayload(message.body)));
      return undefined;
    }
    const badKey = unstorableKey(source, spec.sourceKey(parsed.data), payload);
    if (badKey) {
      await ctx.deadLetter(badKey);
      return undefined;
    }
    return parsed.data;
  }

  return Object.assign(asset, {
    staged: {
      table: spec.table,
      source,
      model: spec.model as unknown as z.ZodType<T>,
      sourceKey: spec.sourceKey as unknown as (record: T) => string,
    },
    stream: spec.stream,
    async applyEvents(staging: Staging, raws: unknown[], runId: string) {
      const events: E[] = [];
      const failed: unknown[] = [];
      for (const raw of raws) {
        const parsed = spec.model.safeParse(raw);
        if (parsed.success) events.push(parsed.data);
        else failed.push(raw);
      }
      const applied = await fresh(staging, events);
      await stage(staging, runId, applied, async () => {});
      return { applied: applied.length, failed };
    },
  });
}
