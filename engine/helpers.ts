import { createHash } from "node:crypto";
import type { z } from "zod";
import type { ChromaResource } from "../resources/chroma.ts";
import type { Embedder } from "../resources/embedder.ts";
import { assertCollectionName, assertIdentifier } from "../resources/identifiers.ts";
import { type Driver, ensureIndex, ensureUniqueKey, mergeNodes, mergeRelationships, type RelationshipEnd, runInBatches } from "../resources/neo4j.ts";
import { isBadRow } from "../resources/sources/bad-rows.ts";
import type { StagedRecord, Staging } from "../resources/staging.ts";
import { type AssetDefinition, type AssetSpec, defineAsset, type MaterializeContext } from "./asset.ts";
import { DefinitionError } from "./definitions.ts";

/** A staged source asset: what node, relationship and collection assets read, typed by its model. */
export interface StagedAsset<T> extends AssetDefinition<any> {
  staged: { table: string; source: string; model: z.ZodType<T>; sourceKey(record: T): string };
}

type Common<R> = Pick<AssetSpec<R>, "key" | "group" | "description" | "codeVersion" | "retry" | "checks" | "partitions">;

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
      const latest = new Map<string, T>();
      let extracted = 0;
      let deduplicated = 0;
      for await (const raw of await spec.extract(ctx)) {
        extracted += 1;
        if (isBadRow(raw)) {
          await ctx.deadLetter(raw.toDeadLetter(spec.source));
          continue;
        }
        const parsed = spec.model.safeParse(raw);
        if (!parsed.success) {
          await ctx.deadLetter({ source: spec.source, sourceKey: rawKey(spec, raw), reason: "invalid", issues: issuesOf(parsed.error), payload: raw });
          continue;
        }
        const key = spec.sourceKey(parsed.data);
        const previous = latest.get(key);
        if (previous !== undefined) {
          deduplicated += 1;
          if (spec.updatedAt && spec.updatedAt(previous) > spec.updatedAt(parsed.data)) continue;
        }
        latest.set(key, parsed.data);
      }
      const records = [...latest].map(([sourceKey, record]) => ({ sourceKey, record }));
      const staged = await ctx.resources.staging.stage(spec.table, records, ctx.runId);
      // An unpartitioned extract is the source's full content: what it no longer has is no longer
      // staged. (A partition's extract is only part of it, so partitioned assets keep what they staged.)
      const removed = spec.partitions ? 0 : await ctx.resources.staging.removeMissing(spec.table, [...latest.keys()]);
      return {
        counts: { extracted, loaded: records.length, deduplicated, written: staged.written, unchanged: staged.unchanged, removed },
        dataVersion: await ctx.resources.staging.dataVersion(spec.table),
      };
    },
  });
  return Object.assign(asset, { staged: { table: spec.table, source: spec.source, model: spec.model, sourceKey: spec.sourceKey } });
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
  return { ingestRunId: ctx.runId, ingestAsset: ctx.assetKey, ingestSource: source, ingestSourceKey: staged.sourceKey, ingestContentHash: staged.contentHash };
}

/**
 * A node or relationship asset rewrites everything it holds each time, stamping the run on it: what
 * carries this asset's key but an older run is gone from the source, and is removed (in batches).
 */
async function removeNotWritten(neo4j: Driver, pattern: string, variable: string, remove: string, ctx: { runId: string; assetKey: string }): Promise<number> {
  const records = await runInBatches(
    neo4j,
    `MATCH ${pattern} WHERE ${variable}.ingestAsset = $asset AND ${variable}.ingestRunId <> $runId
     CALL (${variable}) { ${remove} } IN TRANSACTIONS OF 5000 ROWS
     RETURN count(*) AS removed`,
    { asset: ctx.assetKey, runId: ctx.runId },
  );
  return records[0]?.get("removed").toNumber() ?? 0;
}

/** What a derived asset holds is a function of its input and its code: its data version says so. */
async function derivedVersion(staging: Staging, table: string, codeVersion: string): Promise<string> {
  return createHash("sha256").update(`${await staging.dataVersion(table)}\n${codeVersion}`).digest("hex").slice(0, 32);
}

export interface NodeAssetSpec<T> extends Common<{ neo4j: Driver; staging: Staging }> {
  label: string;
  keyProperty: string;
  /** Properties people look nodes up by: range indexes, created idempotently before loading. */
  indexes?: string[];
  from: StagedAsset<T>;
  /** The node's properties; must include `keyProperty`. */
  properties(record: T): Record<string, unknown>;
  /** More upstream assets beside `from`. */
  deps?: string[];
}

/**
 * A Neo4j label as an asset: nodes MERGEd on a uniqueness constraint (created if missing), one per
 * staged record, each carrying the run, asset and source record that wrote it.
 */
export function defineNodeAsset<T>(spec: NodeAssetSpec<T>): AssetDefinition<{ neo4j: Driver; staging: Staging }> {
  validate(spec.key, () => {
    assertIdentifier("label", spec.label);
    assertIdentifier("property key", spec.keyProperty);
    for (const property of spec.indexes ?? []) assertIdentifier("property key", property);
  });
  return defineAsset<{ neo4j: Driver; staging: Staging }>({
    ...spec,
    deps: [spec.from.key, ...(spec.deps ?? [])],
    resources: ["neo4j", "staging"],
    target: { kind: "neo4j-nodes", label: spec.label, keyProperty: spec.keyProperty },
    async materialize(ctx) {
      const { neo4j, staging } = ctx.resources;
      await ensureUniqueKey(neo4j, spec.label, spec.keyProperty);
      for (const property of spec.indexes ?? []) await ensureIndex(neo4j, spec.label, property);
      const staged = await staging.read<T>(spec.from.staged.table);
      const rows = staged.map((s) => {
        const props: Record<string, unknown> = { ...spec.properties(s.record), ...lineage(ctx, spec.from.staged.source, s) };
        const key = props[spec.keyProperty];
        if (key === undefined || key === null) throw new Error(`${spec.key}: record ${s.sourceKey} has no ${spec.keyProperty}`);
        return { key: key as string | number, props };
      });
      const { written } = await mergeNodes(neo4j, spec.label, spec.keyProperty, rows);
      const removed = await removeNotWritten(neo4j, `(n:${spec.label})`, "n", "DETACH DELETE n", ctx);
      return { counts: { loaded: written, removed }, dataVersion: await derivedVersion(staging, spec.from.staged.table, spec.codeVersion) };
    },
  });
}

export interface RelationshipAssetSpec<T> extends Common<{ neo4j: Driver; staging: Staging }> {
  type: string;
  from: StagedAsset<T>;
  start: RelationshipEnd & { value(record: T): unknown };
  end: RelationshipEnd & { value(record: T): unknown };
  properties?(record: T): Record<string, unknown>;
  /** Only records for which this holds have the relationship (a root category has no parent). */
  where?(record: T): boolean;
  /** The node assets of both ends, so they are written first. */
  deps: string[];
}

/** A relationship set as an asset: MERGEd between nodes that node assets wrote, with lineage. */
export function defineRelationshipAsset<T>(spec: RelationshipAssetSpec<T>): AssetDefinition<{ neo4j: Driver; staging: Staging }> {
  validate(spec.key, () => {
    assertIdentifier("relationship type", spec.type);
    for (const end of [spec.start, spec.end]) {
      assertIdentifier("label", end.label);
      assertIdentifier("property key", end.key);
    }
  });
  return defineAsset<{ neo4j: Driver; staging: Staging }>({
    ...spec,
    deps: [spec.from.key, ...spec.deps],
    resources: ["neo4j", "staging"],
    target: { kind: "neo4j-relationships", type: spec.type },
    async materialize(ctx) {
      const { neo4j, staging } = ctx.resources;
      const staged = (await staging.read<T>(spec.from.staged.table)).filter((s) => spec.where?.(s.record) ?? true);
      const rows = staged.map((s) => ({
        start: spec.start.value(s.record),
        end: spec.end.value(s.record),
        props: { ...spec.properties?.(s.record), ...lineage(ctx, spec.from.staged.source, s) },
      }));
      const { written, missingEnds } = await mergeRelationships(neo4j, spec.type, spec.start, spec.end, rows);
      const removed = await removeNotWritten(neo4j, `(:${spec.start.label})-[r:${spec.type}]->(:${spec.end.label})`, "r", "DELETE r", ctx);
      return { counts: { loaded: written, missingEnds, removed }, dataVersion: await derivedVersion(staging, spec.from.staged.table, spec.codeVersion) };
    },
  });
}

export type ChromaMetadata = Record<string, string | number | boolean | null>;

export interface CollectionAssetSpec<T> extends Common<{ chroma: ChromaResource; embedder: Embedder; staging: Staging }> {
  collection: string;
  from: StagedAsset<T>;
  /** The text that is embedded and stored. */
  document(record: T): string;
  /** The fields people filter on; lineage (`run_id`, `source`, `source_key`, `content_hash`) is added. */
  metadata(record: T): ChromaMetadata;
  deps?: string[];
}

/** A Chroma collection as an asset: documents embedded with the configured model and upserted by source key. */
export function defineCollectionAsset<T>(spec: CollectionAssetSpec<T>): AssetDefinition<{ chroma: ChromaResource; embedder: Embedder; staging: Staging }> {
  validate(spec.key, () => assertCollectionName(spec.collection));
  return defineAsset<{ chroma: ChromaResource; embedder: Embedder; staging: Staging }>({
    ...spec,
    deps: [spec.from.key, ...(spec.deps ?? [])],
    resources: ["chroma", "embedder", "staging"],
    target: { kind: "chroma-collection", collection: spec.collection },
    async materialize(ctx) {
      const { chroma, embedder, staging } = ctx.resources;
      const staged = await staging.read<T>(spec.from.staged.table);
      const collection = await chroma.collection(spec.collection);
      const documents = staged.map((s) => spec.document(s.record));
      const embeddings = await embedder.embed(documents);
      await chroma.upsert(collection, {
        ids: staged.map((s) => s.sourceKey),
        documents,
        embeddings,
        metadatas: staged.map((s) => ({
          ...spec.metadata(s.record),
          run_id: ctx.runId,
          asset: ctx.assetKey,
          source: spec.from.staged.source,
          source_key: s.sourceKey,
          content_hash: s.contentHash,
        })),
      });
      // Documents this run did not write are gone from the source (or from the staging table).
      await collection.delete({ where: { $and: [{ asset: ctx.assetKey }, { run_id: { $ne: ctx.runId } }] } });
      return { counts: { loaded: staged.length, embedded: embeddings.length }, dataVersion: await derivedVersion(staging, spec.from.staged.table, spec.codeVersion) };
    },
  });
}
