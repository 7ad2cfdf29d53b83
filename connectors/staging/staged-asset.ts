import type { z } from "zod";
import {
  type AssetDefinition,
  type AssetKindSpec,
  checkAssetDefinition,
  defineAsset,
  type MaterializeContext,
} from "../../engine/asset.ts";
import { isBadRow } from "../bad-rows.ts";
import { withDbSpan, withSpan } from "../../resources/spans.ts";
import { assertIdentifier } from "../identifiers.ts";
import type { Staging } from "./staging.ts";
import {
  deadLetterPayload,
  maxRecordDepth,
  nestedDeeperThan,
  shallowFields,
  tooDeep,
  unstorableKey,
} from "./records.ts";
import { stagingKind } from "./resource.ts";
import type { ResourceNeed } from "../../engine/resource.ts";
import { fullRefreshTag } from "../../engine/run-tags.ts";
import { type KnownFields, type SchemaContract, SchemaTracker } from "./schema-drift.ts";
import {
  comparable,
  compareCursors,
  cursorText,
  type CursorValue,
  type ExtractCursorState,
  minusLag,
} from "./extract-cursor.ts";

/**
 * A staged source asset: what node, relationship and collection assets read (their `from`), typed by
 * its model. Made by {@link defineStagedAsset}.
 */
// deno-lint-ignore no-explicit-any -- a staged asset reads whatever resources its extract needs
export interface StagedAsset<T> extends AssetDefinition<any> {
  /** Where its records are staged and how they are keyed: what the assets reading it need. */
  staged: {
    /** The staging table (schema `staging`). */
    table: string;
    /** Where the records come from, recorded on every node and document built from them. */
    source: string;
    /** The zod model every staged record passed. */
    model: z.ZodType<T>;
    /** A record's source key. */
    sourceKey(record: T): string;
  };
}

/**
 * An incremental source: each read asks only for what changed since the last one (`ctx.since` in
 * `extract`), as dlt's `incremental` does. The only state is the greatest cursor staged, kept in the
 * staging schema and moved in the transaction that stages the read; the records a lag window reads
 * again are found unchanged by their content hash, so the boundary needs no list of seen keys.
 * An incremental read cannot see deletes: the source is read whole on the first run, on a new code
 * version, on `--full-refresh`, every `fullReadEveryMs`, whenever `latest` shows the cursor moved
 * backwards (a restored or truncated table), `count` shows fewer records than staged, or `identity` shows
 * the source was replaced — with a warning, never a silent 0-record success.
 */
export interface IncrementalSpec<T, R> {
  /**
   * The cursor of a validated record: a value the source raises on every insert and update — an
   * `updated_at` as a `Date`, a sequence number, or ISO 8601 text of one zone.
   */
  cursor(record: T): CursorValue;
  /**
   * How far before the last cursor each read starts again, for changes committed late with an earlier
   * cursor (a long transaction's `updated_at`): milliseconds for a `Date` cursor, units for a number;
   * text cursors take none. Default 0.
   */
  lag?: number;
  /** Read the source whole (finding what was deleted) when the last whole read is older than this (ms). */
  fullReadEveryMs?: number;
  /**
   * The greatest cursor the source holds now, or null when it holds nothing: cheap, checked before each
   * incremental read. Below the last cursor staged, the source went back in time (restored, truncated,
   * replaced) and is read whole, with a warning.
   */
  latest?(ctx: MaterializeContext<R>): Promise<CursorValue | null>;
  /**
   * How many records the source holds now (a `count(*)`): checked before each incremental read. Fewer
   * than are staged means some were deleted (a source never has fewer records than passed into staging),
   * and the source is read whole, so they are removed without waiting for `fullReadEveryMs`.
   */
  count?(ctx: MaterializeContext<R>): Promise<number>;
  /**
   * What the source is, as opposed to what it holds: a value that changes when it is replaced — a table's
   * OID (dropped and created again), a file's inode. Asked before each read and recorded with it; a
   * different one reads the source whole, with a warning. For a replacement the cursor and the count can
   * miss: a table made again from other data, with as many rows or more and the same latest `updated_at`.
   */
  identity?(ctx: MaterializeContext<R>): Promise<string | null>;
}

/** What a staged asset's `extract` receives: the materialisation's context and, for an incremental source, where to read from. */
export interface ExtractContext<R> extends MaterializeContext<R> {
  /**
   * Only for an asset with `incremental`: read the records whose cursor is at or after this (the last
   * cursor staged, less the lag); undefined when this read must be of the whole source.
   */
  since?: CursorValue;
}

/**
 * What {@link defineStagedAsset} takes: where records come from (`extract`), the model that validates
 * them, how they are keyed, and the staging table they go to. `T` is the model's output, `R` the
 * resources `extract` receives beside `staging`.
 */
export interface StagedAssetSpec<T, R> extends AssetKindSpec<R> {
  /** The staging table (schema `staging`), one row per source key. */
  table: string;
  /** Where the records come from, as recorded on every node and document: `shop.products`. */
  source: string;
  /**
   * The zod model each raw record is parsed with: what it outputs is staged (coercions and
   * normalisation included); a record it rejects is dead-lettered as `invalid`, with zod's issues.
   */
  model: z.ZodType<T>;
  /**
   * The unique key of a validated record in the source (`p.productId`): one staged row per key, the
   * latest winning when a key comes twice. Nodes and documents built from the record carry it.
   */
  sourceKey(record: T): string;
  /**
   * The source key read from a raw record, in the source's own field names: the dead letter of a record
   * that fails the model carries it, so it can be found. A throw or an empty value leaves it without one.
   */
  // deno-lint-ignore no-explicit-any -- a raw record is whatever the source gives
  rawKey(raw: any): unknown;
  /**
   * When a source key comes more than once, the record with the latest of this wins (compared as text,
   * so give ISO 8601 timestamps of one zone); without it, the last one extracted. The rest are counted deduplicated.
   */
  updatedAt?(record: T): string;
  /** Other resources `extract` needs, beside `staging`. */
  resources?: (keyof R & string)[];
  /** Upstream assets, if the source is itself built by another asset (usually none). */
  deps?: string[];
  /**
   * Read only what changed since the last read (see {@link IncrementalSpec}); `extract` then gets
   * `ctx.since`. Not for partitioned assets.
   *
   * @example
   * ```ts
   * incremental: { cursor: (o) => new Date(o.updatedAt), lag: 60_000, fullReadEveryMs: 24 * 3600_000 },
   * extract: ({ resources: { shop }, since }) =>
   *   since === undefined
   *     ? readTable(shop, "select * from shop.orders order by order_id")
   *     : readTable(shop, "select * from shop.orders where updated_at >= $1 order by order_id", [since]),
   * ```
   */
  incremental?: IncrementalSpec<T, R>;
  /**
   * What to do with a field the source did not have before (schema drift, judged on raw records'
   * top-level fields against those of earlier reads): `discard` (default) lets the model drop it;
   * `evolve` keeps it on the staged record as an extra property (and so on nodes whose properties
   * spread the record); `freeze` dead-letters each record that has one (reason `schema`). Fields added,
   * gone and with a new kind of value are reported on the materialisation (`schemaDrift`) and by
   * `ingest status` under every contract. A new code version starts what is known afresh.
   */
  schema?: SchemaContract;
  /**
   * Raw source records: an iterable, an async iterable (a reader such as `readCsv`, `readTable`, or an
   * async generator) or a promise of either. A reader's `BadRow` (input that is not a record at all) is
   * dead-lettered as `unparseable`. Unpartitioned, what it yields is the source's whole content: a staged
   * record it no longer yields becomes a tombstone, and what was built from it is removed downstream.
   * A throw aborts the load and nothing is staged.
   */
  extract(
    ctx: ExtractContext<R>,
  ): AsyncIterable<unknown> | Iterable<unknown> | Promise<AsyncIterable<unknown> | Iterable<unknown>>;
}

/** zod issues as dead-letter issues: the path into the record and the message. */
export function issuesOf(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join(".") || "(record)", message: i.message }));
}

/**
 * The source key of a record that failed validation, when it has one, so its dead letter can be found: what
 * the asset's `rawKey` reads from it, or undefined when that throws or is empty.
 */
export function rawKeyOf(spec: { rawKey(raw: unknown): unknown }, raw: unknown): string | undefined {
  try {
    const key = spec.rawKey(raw);
    return key === undefined || key === null || key === "" ? undefined : String(key);
  } catch {
    return undefined;
  }
}

/**
 * Extracts records, validates each with the model and stages it by source key with a content hash,
 * so unchanged records are neither rewritten nor re-embedded downstream. A record that fails the
 * model goes to the dead-letter table with its issues and payload; of several records with one
 * source key the latest is kept. The counts always reconcile: extracted = loaded + dead-lettered + deduplicated.
 *
 * The asset needs a staging resource (`stagingResource()`), found by name `staging` or as the project's
 * one resource of that kind. An invalid table name throws a `DefinitionError` naming the asset.
 *
 * @example
 * ```ts
 * export const stagedProducts = defineStagedAsset({
 *   key: "shop/products",
 *   codeVersion: "1",
 *   table: "shop_products",
 *   source: "data/products.csv",
 *   model: Product, // a zod object
 *   sourceKey: (p) => p.sku,
 *   rawKey: (row) => row.sku,
 *   extract: () => readCsv(productsFile),
 * });
 * ```
 *
 * @example From a database of your own, received as the resource `shop` (a pg.Pool)
 * ```ts
 * export const stagedCustomers = defineStagedAsset<Customer, { shop: pg.Pool }>({
 *   key: "ec/customers",
 *   codeVersion: "1",
 *   table: "ec_customers",
 *   source: "shop.customers",
 *   model: Customer,
 *   sourceKey: (c) => c.customerId,
 *   rawKey: (row) => row.customer_id,
 *   updatedAt: (c) => c.updatedAt,
 *   resources: ["shop"],
 *   extract: ({ resources: { shop } }) => readTable(shop, "select * from shop.customers order by customer_id"),
 * });
 * ```
 */
export function defineStagedAsset<T, R extends Record<string, unknown> = Record<string, unknown>>(
  spec: StagedAssetSpec<T, R>,
): StagedAsset<T> {
  checkAssetDefinition(spec.key, () => {
    assertIdentifier("staging table", spec.table);
    if (spec.incremental && spec.partitions) throw new Error("an incremental source cannot be partitioned");
    const lag = spec.incremental?.lag ?? 0;
    if (!Number.isFinite(lag) || lag < 0) throw new Error(`incremental.lag must be a number ≥ 0, not ${lag}`);
  });
  const asset = defineAsset<R & { staging: Staging }>({
    ...spec,
    resources: [stagingKind, ...(spec.resources ?? [])] as ResourceNeed<keyof (R & { staging: Staging }) & string>[],
    target: { kind: "staging-table", table: spec.table },
    async materialize(ctx) {
      const { staging } = ctx.resources;
      const read = spec.incremental
        ? await planRead(spec, ctx, await staging.extractCursor(spec.table), () => staging.count(spec.table))
        : { since: undefined, reason: "", identity: null };
      const contract = spec.schema ?? "discard";
      const known = await staging.knownFields(spec.table);
      const fields = new SchemaTracker(known?.codeVersion === spec.codeVersion ? known.known : undefined);
      const load = await staging.begin(spec.table, ctx.runId);
      let extracted = 0;
      let invalid = 0;
      let greatest: CursorValue | null = read.since === undefined ? null : read.previous ?? null;
      let knownFields: { known: KnownFields; codeVersion: string } | undefined;
      // One span for the stream: reading the source, validating each record, copying it into the load's table.
      const extract = async () => {
        for await (const raw of await spec.extract({ ...ctx, since: read.since })) {
          extracted += 1;
          if (extracted % 1_000 === 0) ctx.progress(extracted);
          if (isBadRow(raw)) {
            invalid += 1;
            await ctx.deadLetter(raw.toDeadLetter(spec.source));
            continue;
          }
          const { unexpected, extra } = fields.see(raw, () => rawKeyOf(spec, raw));
          if (contract === "freeze" && unexpected.length > 0) {
            invalid += 1;
            await ctx.deadLetter({
              source: spec.source,
              sourceKey: rawKeyOf(spec, raw),
              reason: "schema",
              issues: unexpected.map((field) => ({
                path: field,
                message: "a field the source did not have before (the asset's schema is frozen)",
              })),
              payload: deadLetterPayload(raw),
            });
            continue;
          }
          const parsed = spec.model.safeParse(raw);
          if (!parsed.success) {
            invalid += 1;
            await ctx.deadLetter({
              source: spec.source,
              sourceKey: rawKeyOf(spec, raw),
              reason: "invalid",
              issues: issuesOf(parsed.error),
              payload: deadLetterPayload(raw),
            });
            continue;
          }
          const sourceKey = spec.sourceKey(parsed.data);
          const badKey = unstorableKey(spec.source, sourceKey, deadLetterPayload(raw));
          if (badKey) {
            invalid += 1;
            await ctx.deadLetter(badKey);
            continue;
          }
          if (spec.incremental) greatest = greater(greatest, spec.incremental.cursor(parsed.data));
          const record = contract === "evolve" && extra.length > 0 ? withExtra(parsed.data, raw, extra) : parsed.data;
          if (nestedDeeperThan(record, maxRecordDepth)) {
            invalid += 1;
            await ctx.deadLetter(tooDeep(spec.source, sourceKey, shallowFields(raw)));
            continue;
          }
          await load.add(sourceKey, record, spec.updatedAt?.(parsed.data));
        }
      };
      try {
        await withSpan(`extract ${spec.source}`, { attributes: { "ingest.source": spec.source } }, async (span) => {
          await extract();
          span.setAttributes({ "ingest.records.extracted": extracted, "ingest.records.dead_lettered": invalid });
        });
        // here, where a throw aborts the load: one that does not gives its connection back only in finish
        knownFields = { known: fields.nextKnown(contract, read.since === undefined), codeVersion: spec.codeVersion };
      } catch (error) {
        await load.abort();
        throw error;
      }
      // An unpartitioned extract is the source's full content: what it no longer has becomes a
      // tombstone. (A partition's extract is only part of it, so partitioned assets keep what they staged;
      // an incremental read is only what changed, so it removes nothing.)
      const staged = await withDbSpan(
        { system: "postgresql", operation: "MERGE", collection: `staging.${spec.table}`, client: staging },
        async (span) => {
          const counts = await load.finish({
            complete: !spec.partitions && read.since === undefined,
            extractCursor: spec.incremental &&
              {
                cursor: greatest,
                fullRead: read.since === undefined,
                codeVersion: spec.codeVersion,
                sourceIdentity: read.identity,
              },
            knownFields,
          });
          span.setAttributes({
            "ingest.records.written": counts.written,
            "ingest.records.unchanged": counts.unchanged,
            "ingest.records.removed": counts.removed,
            "ingest.records.deduplicated": counts.deduplicated,
          });
          return counts;
        },
      );
      const drift = fields.drift(read.since === undefined);
      if (drift) ctx.log.warn({ source: spec.source, schemaDrift: drift }, "the source's fields changed");
      return {
        counts: {
          extracted,
          loaded: staged.received - staged.deduplicated,
          deduplicated: staged.deduplicated,
          written: staged.written,
          unchanged: staged.unchanged,
          removed: staged.removed,
        },
        metadata: {
          ...(spec.incremental && {
            read: read.since === undefined ? "whole source" : "incremental",
            ...(read.since !== undefined && { since: cursorText(read.since) }),
            ...(read.reason && { why: read.reason }),
            cursor: cursorText(greatest),
          }),
          ...(drift && { schemaDrift: drift }),
        },
        partialExtract: read.since !== undefined,
        dataVersion: await staging.dataVersion(spec.table),
      };
    },
  });
  return Object.assign(asset, {
    staged: { table: spec.table, source: spec.source, model: spec.model, sourceKey: spec.sourceKey },
  });
}

/** The greater of two cursors (a cursor of another kind than the one before replaces it). */
function greater(a: CursorValue | null, b: CursorValue): CursorValue {
  if (a === null || !comparable(a, b)) return b;
  return compareCursors(b, a) > 0 ? b : a;
}

/**
 * Whether this read of an incremental source is of what changed (from `since`) or of the whole source,
 * and why: a whole read the first time, after a new code version, when the run is a full refresh, when
 * the last whole read is older than `fullReadEveryMs`, and when the source's latest cursor went back.
 */
async function planRead<T, R>(
  spec: StagedAssetSpec<T, R>,
  ctx: MaterializeContext<R>,
  state: ExtractCursorState | undefined,
  stagedCount: () => Promise<number>,
): Promise<{ since?: CursorValue; previous?: CursorValue; reason: string; identity: string | null }> {
  const incremental = spec.incremental!;
  // asked before the read, so a source replaced while it is read is read whole the next time
  const identity = incremental.identity ? await incremental.identity(ctx) : null;
  const whole = (reason: string) => ({ reason, identity });
  if (!state || state.cursor === null) return whole("first read");
  if (state.codeVersion !== spec.codeVersion) {
    return whole(`code version changed (${state.codeVersion} → ${spec.codeVersion})`);
  }
  if ((await ctx.runs()).some((run) => run.tags[fullRefreshTag] === "true")) return whole("full refresh");
  if (identity !== null && state.sourceIdentity !== null && identity !== state.sourceIdentity) {
    ctx.log.warn(
      { source: spec.source, identity, staged: state.sourceIdentity },
      "the source was replaced since it was last read: reading it whole",
    );
    return whole(`the source was replaced (${state.sourceIdentity} → ${identity})`);
  }
  const every = incremental.fullReadEveryMs;
  if (every !== undefined && (state.fullReadAt === null || Date.now() - state.fullReadAt.getTime() >= every)) {
    return whole(`last whole read ${state.fullReadAt?.toISOString() ?? "never"}: more than ${every} ms ago`);
  }
  if (incremental.latest) {
    const latest = await incremental.latest(ctx);
    const back = latest === null
      ? "the source holds nothing now"
      : !comparable(latest, state.cursor)
      ? `its latest cursor ${cursorText(latest)} is not of the kind staged (${cursorText(state.cursor)})`
      : compareCursors(latest, state.cursor) < 0
      ? `its latest cursor ${cursorText(latest)} is before the last one staged, ${cursorText(state.cursor)}`
      : undefined;
    if (back) {
      ctx.log.warn(
        { source: spec.source, latest: cursorText(latest), staged: cursorText(state.cursor) },
        `the source's cursor moved backwards (${back}): reading it whole`,
      );
      return whole(`cursor moved backwards: ${back}`);
    }
  }
  if (incremental.count) {
    const [now, staged] = await Promise.all([incremental.count(ctx), stagedCount()]);
    if (now < staged) {
      ctx.log.info(
        { source: spec.source, records: now, staged },
        "the source has fewer records than staged: reading it whole",
      );
      return whole(`the source has fewer records than staged (${now} < ${staged}): some were deleted`);
    }
  }
  return { since: minusLag(state.cursor, incremental.lag ?? 0), previous: state.cursor, reason: "", identity };
}

/** A validated record with the raw record's `extra` fields beside the model's (which win on a clash). */
function withExtra<T>(record: T, raw: unknown, extra: string[]): T {
  const source = raw as Record<string, unknown>;
  const kept = Object.fromEntries(extra.filter((field) => !(field in (record as object))).map((f) => [f, source[f]]));
  return { ...kept, ...record };
}
