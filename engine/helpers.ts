import type { z } from "zod";
import type { ChromaResource } from "../resources/chroma.ts";
import type { Embedder } from "../resources/embedder.ts";
import { assertCollectionName, assertIdentifier } from "../resources/identifiers.ts";
import {
  assertRelationshipIdentifiers,
  deleteNodes,
  deleteRelationshipsOf,
  type Driver,
  ensureIndex,
  ensureUniqueKey,
  mergeNodes,
  mergeRelationships,
  type RelationshipEnd,
  sweep,
  unwrittenRelationships,
} from "../resources/neo4j.ts";
import { isBadRow } from "../resources/sources/bad-rows.ts";
import type { StagedRecord, Staging } from "../resources/staging.ts";
import { type AssetDefinition, type AssetSpec, defineAsset, type MaterializeContext } from "./asset.ts";
import { DefinitionError } from "./definitions.ts";
import { derivedVersion, loadChanges } from "./incremental.ts";

/** A staged source asset: what node, relationship and collection assets read, typed by its model. */
export interface StagedAsset<T> extends AssetDefinition<any> {
  staged: { table: string; source: string; model: z.ZodType<T>; sourceKey(record: T): string };
}

type Common<R> = Pick<
  AssetSpec<R>,
  "key" | "group" | "description" | "codeVersion" | "retry" | "checks" | "partitions"
>;

export interface StagedAssetSpec<T, R> extends Common<R> {
  /** The staging table (schema `staging`), one row per source key. */
  table: string;
  /** Where the records come from, as recorded on every node and document: `shop.products`. */
  source: string;
  model: z.ZodType<T>;
  sourceKey(record: T): string;
  /** The source key read from a raw record, in the source's own field names: dead letters carry it. */
  rawKey(raw: any): unknown;
  /** When a source key comes more than once, the record with the latest of this wins; the rest are counted deduplicated. */
  updatedAt?(record: T): string;
  /** Other resources `extract` needs, beside `staging`. */
  resources?: (keyof R & string)[];
  deps?: string[];
  /** Raw source records; a reader's `BadRow` (input that is not a record at all) is dead-lettered as `unparseable`. */
  extract(ctx: MaterializeContext<R>): AsyncIterable<unknown> | Promise<Iterable<unknown>>;
}

/** zod issues as dead-letter issues: the path into the record and the message. */
export function issuesOf(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join(".") || "(record)", message: i.message }));
}

/** The source key of a record that failed validation, when it has one, so its dead letter can be found. */
function rawKey<T>(spec: StagedAssetSpec<T, any>, raw: unknown): string | undefined {
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
 * @example
 * export const stagedProducts = defineStagedAsset({
 *   key: "ec/products", table: "ec_products", source: "shop.products", codeVersion: "1",
 *   model: Product, sourceKey: (p) => p.productId, rawKey: (row) => row.product_id, resources: ["shop"],
 *   extract: async ({ resources }) => (await resources.shop.query("select * from shop.products")).rows,
 * });
 */
export function defineStagedAsset<T, R extends Record<string, unknown> = Record<string, unknown>>(
  spec: StagedAssetSpec<T, R>,
): StagedAsset<T> {
  validate(spec.key, () => assertIdentifier("staging table", spec.table));
  const asset = defineAsset<R & { staging: Staging }>({
    ...spec,
    resources: ["staging", ...(spec.resources ?? [])] as (keyof (R & { staging: Staging }) & string)[],
    target: { kind: "staging-table", table: spec.table },
    async materialize(ctx) {
      const load = await ctx.resources.staging.begin(spec.table, ctx.runId);
      let extracted = 0;
      try {
        for await (const raw of await spec.extract(ctx)) {
          extracted += 1;
          if (isBadRow(raw)) {
            await ctx.deadLetter(raw.toDeadLetter(spec.source));
            continue;
          }
          const parsed = spec.model.safeParse(raw);
          if (!parsed.success) {
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
      } catch (error) {
        await load.abort();
        throw error;
      }
      // An unpartitioned extract is the source's full content: what it no longer has becomes a
      // tombstone. (A partition's extract is only part of it, so partitioned assets keep what they staged.)
      const staged = await load.finish({ complete: !spec.partitions });
      return {
        counts: {
          extracted,
          loaded: staged.received - staged.deduplicated,
          deduplicated: staged.deduplicated,
          written: staged.written,
          unchanged: staged.unchanged,
          removed: staged.removed,
        },
        dataVersion: await ctx.resources.staging.dataVersion(spec.table),
      };
    },
  });
  return Object.assign(asset, {
    staged: { table: spec.table, source: spec.source, model: spec.model, sourceKey: spec.sourceKey },
  });
}

/** Checks a helper's identifiers at definition time, naming the asset in the error. */
function validate(key: string, check: () => void): void {
  try {
    check();
  } catch (error) {
    throw new DefinitionError(`asset '${key}': ${(error as Error).message}`);
  }
}

/** The lineage every node, relationship and document carries. */
function lineage(ctx: { runId: string; assetKey: string }, source: string, staged: StagedRecord<unknown>) {
  return {
    ingestRunId: ctx.runId,
    ingestAsset: ctx.assetKey,
    ingestSource: source,
    ingestSourceKey: staged.sourceKey,
    ingestContentHash: staged.contentHash,
  };
}

/** Staged records read and written per page: one Postgres query, then the writer's own batches. */
const graphPageSize = 20_000;

export interface NodeAssetSpec<T> extends Common<{ neo4j: Driver; staging: Staging }> {
  label: string;
  keyProperty: string;
  /** Properties people look nodes up by: range indexes, created idempotently before loading. */
  indexes?: string[];
  /** Properties stored as Neo4j integers (JavaScript numbers are otherwise sent as floats). */
  integers?: string[];
  from: StagedAsset<T>;
  /** The node's properties; must include `keyProperty`. */
  properties(record: T): Record<string, unknown>;
  /** More upstream assets beside `from`. */
  deps?: string[];
}

/**
 * A Neo4j label as an asset: nodes MERGEd on a uniqueness constraint (created if missing), one per
 * staged record, each carrying the run, asset and source record that wrote it. Only records that
 * changed since the last materialisation are written; removed ones are deleted.
 */
export function defineNodeAsset<T>(spec: NodeAssetSpec<T>): AssetDefinition<{ neo4j: Driver; staging: Staging }> {
  validate(spec.key, () => {
    assertIdentifier("label", spec.label);
    assertIdentifier("property key", spec.keyProperty);
    for (const property of [...(spec.indexes ?? []), ...(spec.integers ?? [])]) {
      assertIdentifier("property key", property);
    }
  });
  const keyOf = (s: StagedRecord<T>, props = spec.properties(s.record)) => {
    const key = props[spec.keyProperty];
    if (key === undefined || key === null) {
      throw new Error(`${spec.key}: record ${s.sourceKey} has no ${spec.keyProperty}`);
    }
    return key as string | number;
  };
  return defineAsset<{ neo4j: Driver; staging: Staging }>({
    ...spec,
    deps: [spec.from.key, ...(spec.deps ?? [])],
    resources: ["neo4j", "staging"],
    target: { kind: "neo4j-nodes", label: spec.label, keyProperty: spec.keyProperty },
    async materialize(ctx) {
      const { neo4j, staging } = ctx.resources;
      await ensureUniqueKey(neo4j, spec.label, spec.keyProperty);
      for (const property of spec.indexes ?? []) await ensureIndex(neo4j, spec.label, property);
      const counts = await loadChanges<T>(ctx, staging, spec.from.staged.table, spec.codeVersion, graphPageSize, {
        async write(records) {
          const rows = records.map((s) => {
            const props: Record<string, unknown> = {
              ...spec.properties(s.record),
              ...lineage(ctx, spec.from.staged.source, s),
            };
            return { key: keyOf(s, props), props };
          });
          return mergeNodes(neo4j, spec.label, spec.keyProperty, rows, { integers: spec.integers });
        },
        remove: (records) =>
          deleteNodes(neo4j, spec.label, spec.keyProperty, records.map((s) => keyOf(s)), ctx.assetKey),
        sweep: (runs) => sweep(neo4j, `(n:${spec.label})`, "n", "DETACH DELETE n", ctx.assetKey, runs),
      });
      return {
        counts: { ...counts },
        dataVersion: await derivedVersion(staging, spec.from.staged.table, spec.codeVersion),
      };
    },
  });
}

export interface RelationshipAssetSpec<T> extends Common<{ neo4j: Driver; staging: Staging }> {
  type: string;
  from: StagedAsset<T>;
  /** The start node; a record's start is taken to stay the same when the record changes (it usually is the record's own node). */
  start: RelationshipEnd & { value(record: T): unknown };
  end: RelationshipEnd & { value(record: T): unknown };
  properties?(record: T): Record<string, unknown>;
  /** Properties stored as Neo4j integers (JavaScript numbers are otherwise sent as floats). */
  integers?: string[];
  /** Only records for which this holds have the relationship (a root category has no parent). */
  where?(record: T): boolean;
  /** The node assets of both ends, so they are written first. */
  deps: string[];
}

/**
 * A relationship set as an asset: MERGEd between nodes that node assets wrote, one per (start, end)
 * pair, with lineage. Only records that changed since the last materialisation are rewritten (what
 * they wrote before is deleted first); removed ones have theirs deleted.
 */
export function defineRelationshipAsset<T>(
  spec: RelationshipAssetSpec<T>,
): AssetDefinition<{ neo4j: Driver; staging: Staging }> {
  validate(spec.key, () => {
    assertRelationshipIdentifiers(spec.type, spec.start, spec.end);
    for (const property of spec.integers ?? []) assertIdentifier("property key", property);
  });
  return defineAsset<{ neo4j: Driver; staging: Staging }>({
    ...spec,
    deps: [spec.from.key, ...spec.deps],
    resources: ["neo4j", "staging"],
    target: { kind: "neo4j-relationships", type: spec.type },
    async materialize(ctx) {
      const { neo4j, staging } = ctx.resources;
      const previous = (records: StagedRecord<T>[]) =>
        deleteRelationshipsOf(
          neo4j,
          spec.type,
          spec.start,
          records.map((s) => ({ start: spec.start.value(s.record), sourceKey: s.sourceKey })),
          ctx.assetKey,
        );
      const describe = (end: RelationshipEnd, value: unknown) =>
        `no (:${end.label} {${end.key}: ${JSON.stringify(value)}}) in the graph`;
      const counts = await loadChanges<T>(ctx, staging, spec.from.staged.table, spec.codeVersion, graphPageSize, {
        async write(records, refresh) {
          if (!refresh) await previous(records);
          const rows = records
            .filter((s) => spec.where?.(s.record) ?? true)
            .map((s) => ({
              start: spec.start.value(s.record),
              end: spec.end.value(s.record),
              id: s.sourceKey,
              props: { ...spec.properties?.(s.record), ...lineage(ctx, spec.from.staged.source, s) },
            }));
          const { written, missingEnds } = await mergeRelationships(neo4j, spec.type, spec.start, spec.end, rows, {
            integers: spec.integers,
          });
          if (missingEnds === 0) return { written };
          // Held back until the node arrives (a product dead-lettered today, fixed tomorrow).
          const byId = new Map(rows.map((r) => [r.id, r]));
          const unwritten = await unwrittenRelationships(neo4j, spec.type, spec.start, spec.end, rows);
          const pending = unwritten.map((u) => {
            const row = byId.get(u.id)!;
            const missing = [
              u.missingStart && describe(spec.start, row.start),
              u.missingEnd && describe(spec.end, row.end),
            ].filter(Boolean);
            return { sourceKey: u.id, reason: missing.length > 0 ? missing.join("; ") : "not written" };
          });
          return { written, pending };
        },
        remove: previous,
        sweep: (runs) =>
          sweep(
            neo4j,
            `(:${spec.start.label})-[r:${spec.type}]->(:${spec.end.label})`,
            "r",
            "DELETE r",
            ctx.assetKey,
            runs,
          ),
      });
      return {
        counts: { ...counts },
        dataVersion: await derivedVersion(staging, spec.from.staged.table, spec.codeVersion),
      };
    },
  });
}

export type ChromaMetadata = Record<string, string | number | boolean | null>;

export interface CollectionAssetSpec<T>
  extends Common<{ chroma: ChromaResource; embedder: Embedder; staging: Staging }> {
  collection: string;
  from: StagedAsset<T>;
  /** The text that is embedded and stored. */
  document(record: T): string;
  /** The fields people filter on; lineage (`run_id`, `asset`, `source`, `source_key`, `content_hash`) is added. */
  metadata(record: T): ChromaMetadata;
  deps?: string[];
}

/** Documents read, embedded and upserted per page: a page is upserted while the next one is embedded. */
const collectionPageSize = 1_024;

/**
 * A Chroma collection as an asset: documents embedded with the configured model and upserted by
 * source key. Only records that changed since the last materialisation are embedded again; removed
 * ones are deleted.
 */
export function defineCollectionAsset<T>(
  spec: CollectionAssetSpec<T>,
): AssetDefinition<{ chroma: ChromaResource; embedder: Embedder; staging: Staging }> {
  validate(spec.key, () => assertCollectionName(spec.collection));
  return defineAsset<{ chroma: ChromaResource; embedder: Embedder; staging: Staging }>({
    ...spec,
    deps: [spec.from.key, ...(spec.deps ?? [])],
    resources: ["chroma", "embedder", "staging"],
    target: { kind: "chroma-collection", collection: spec.collection },
    async materialize(ctx) {
      const { chroma, embedder, staging } = ctx.resources;
      const collection = await chroma.collection(spec.collection);
      const counts = await loadChanges(ctx, staging, spec.from.staged.table, spec.codeVersion, collectionPageSize, {
        async prepare(records: StagedRecord<T>[]) {
          const documents = records.map((s) => spec.document(s.record));
          return { records, documents, embeddings: await embedder.embed(documents) };
        },
        async write({ records, documents, embeddings }) {
          await chroma.upsert(collection, {
            ids: records.map((s) => s.sourceKey),
            documents,
            embeddings,
            metadatas: records.map((s) => ({
              ...spec.metadata(s.record),
              run_id: ctx.runId,
              asset: ctx.assetKey,
              source: spec.from.staged.source,
              source_key: s.sourceKey,
              content_hash: s.contentHash,
            })),
          });
          return { written: records.length };
        },
        async remove(records) {
          await chroma.delete(collection, records.map((s) => s.sourceKey));
          return records.length;
        },
        async sweep(runs) {
          const before = await collection.count();
          await collection.delete({ where: { $and: [{ asset: { $eq: ctx.assetKey } }, { run_id: { $nin: runs } }] } });
          return before - (await collection.count());
        },
      });
      return {
        counts: { ...counts, embedded: counts.written },
        dataVersion: await derivedVersion(staging, spec.from.staged.table, spec.codeVersion),
      };
    },
  });
}
