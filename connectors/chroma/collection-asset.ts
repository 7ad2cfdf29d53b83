import { type AssetDefinition, type AssetKindSpec, checkAssetDefinition, defineAsset } from "../../engine/asset.ts";
import type { Embedder } from "../../resources/embedder.ts";
import { assertCollectionName } from "../identifiers.ts";
import { loadChanges } from "../staging/load-changes.ts";
import type { StagedRecord } from "../staging/records.ts";
import type { StagedAsset } from "../staging/staged-asset.ts";
import type { Staging } from "../staging/staging.ts";
import type { ChromaResource } from "./client.ts";
import { chromaKind } from "./resource.ts";
import { embedderKind } from "../../resources/embedder-resource.ts";
import { stagingKind } from "../staging/resource.ts";

export type CollectionResources = { chroma: ChromaResource; embedder: Embedder; staging: Staging };

export type ChromaMetadata = Record<string, string | number | boolean | null>;

export interface CollectionAssetSpec<T> extends AssetKindSpec<CollectionResources> {
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
): AssetDefinition<CollectionResources> {
  checkAssetDefinition(spec.key, () => assertCollectionName(spec.collection));
  return defineAsset<CollectionResources>({
    ...spec,
    deps: [spec.from.key, ...(spec.deps ?? [])],
    resources: [chromaKind, embedderKind, stagingKind],
    target: { kind: "chroma-collection", collection: spec.collection },
    async materialize(ctx) {
      const { chroma, embedder, staging } = ctx.resources;
      const collection = await chroma.collection(spec.collection);
      // Into an empty collection nothing needs replacing; otherwise a changed record's metadata must not keep old fields.
      const replace = (await collection.count()) > 0;
      const { counts, dataVersion } = await loadChanges(
        ctx,
        staging,
        spec.from.staged.table,
        spec.codeVersion,
        collectionPageSize,
        {
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
            }, { replace });
            return { written: records.length };
          },
          async remove(records) {
            await chroma.delete(collection, records.map((s) => s.sourceKey));
            return records.length;
          },
          async sweep(runs) {
            const before = await collection.count();
            await collection.delete({
              where: { $and: [{ asset: { $eq: ctx.assetKey } }, { run_id: { $nin: runs } }] },
            });
            return before - (await collection.count());
          },
        },
      );
      return {
        counts: { ...counts, embedded: counts.written },
        dataVersion,
      };
    },
  });
}
