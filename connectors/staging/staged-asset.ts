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
import { stagingKind } from "./resource.ts";
import type { ResourceNeed } from "../../engine/resource.ts";

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
   * Raw source records: an iterable, an async iterable (a reader such as `readCsv`, `readTable`, or an
   * async generator) or a promise of either. A reader's `BadRow` (input that is not a record at all) is
   * dead-lettered as `unparseable`. Unpartitioned, what it yields is the source's whole content: a staged
   * record it no longer yields becomes a tombstone, and what was built from it is removed downstream.
   * A throw aborts the load and nothing is staged.
   */
  extract(
    ctx: MaterializeContext<R>,
  ): AsyncIterable<unknown> | Iterable<unknown> | Promise<AsyncIterable<unknown> | Iterable<unknown>>;
}

/** zod issues as dead-letter issues: the path into the record and the message. */
export function issuesOf(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join(".") || "(record)", message: i.message }));
}

/** The source key of a record that failed validation, when it has one, so its dead letter can be found. */
function rawKey<T>(spec: StagedAssetSpec<T, never>, raw: unknown): string | undefined {
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
  checkAssetDefinition(spec.key, () => assertIdentifier("staging table", spec.table));
  const asset = defineAsset<R & { staging: Staging }>({
    ...spec,
    resources: [stagingKind, ...(spec.resources ?? [])] as ResourceNeed<keyof (R & { staging: Staging }) & string>[],
    target: { kind: "staging-table", table: spec.table },
    async materialize(ctx) {
      const { staging } = ctx.resources;
      const load = await staging.begin(spec.table, ctx.runId);
      let extracted = 0;
      let invalid = 0;
      // One span for the stream: reading the source, validating each record, copying it into the load's table.
      const extract = async () => {
        for await (const raw of await spec.extract(ctx)) {
          extracted += 1;
          if (extracted % 1_000 === 0) ctx.progress(extracted);
          if (isBadRow(raw)) {
            invalid += 1;
            await ctx.deadLetter(raw.toDeadLetter(spec.source));
            continue;
          }
          const parsed = spec.model.safeParse(raw);
          if (!parsed.success) {
            invalid += 1;
            await ctx.deadLetter({
              source: spec.source,
              sourceKey: rawKey(spec, raw),
              reason: "invalid",
              issues: issuesOf(parsed.error),
              payload: raw,
            });
            continue;
          }
          await load.add(spec.sourceKey(parsed.data), parsed.data, spec.updatedAt?.(parsed.data));
        }
      };
      try {
        await withSpan(`extract ${spec.source}`, { attributes: { "ingest.source": spec.source } }, async (span) => {
          await extract();
          span.setAttributes({ "ingest.records.extracted": extracted, "ingest.records.dead_lettered": invalid });
        });
      } catch (error) {
        await load.abort();
        throw error;
      }
      // An unpartitioned extract is the source's full content: what it no longer has becomes a
      // tombstone. (A partition's extract is only part of it, so partitioned assets keep what they staged.)
      const staged = await withDbSpan(
        { system: "postgresql", operation: "MERGE", collection: `staging.${spec.table}`, client: staging },
        async (span) => {
          const counts = await load.finish({ complete: !spec.partitions });
          span.setAttributes({
            "ingest.records.written": counts.written,
            "ingest.records.unchanged": counts.unchanged,
            "ingest.records.removed": counts.removed,
            "ingest.records.deduplicated": counts.deduplicated,
          });
          return counts;
        },
      );
      return {
        counts: {
          extracted,
          loaded: staged.received - staged.deduplicated,
          deduplicated: staged.deduplicated,
          written: staged.written,
          unchanged: staged.unchanged,
          removed: staged.removed,
        },
        dataVersion: await staging.dataVersion(spec.table),
      };
    },
  });
  return Object.assign(asset, {
    staged: { table: spec.table, source: spec.source, model: spec.model, sourceKey: spec.sourceKey },
  });
}
