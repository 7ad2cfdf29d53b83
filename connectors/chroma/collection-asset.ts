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

/** The resources collection assets receive: the Chroma server, the embedding model and the staging tables. */
export type CollectionResources = {
  /** From `chromaResource()`: found under the name `chroma`, or as the project's one Chroma resource. */
  chroma: ChromaResource;
  /** From `embedderResource()`: found under the name `embedder`, or as the project's one embedder. */
  embedder: Embedder;
  /** From `stagingResource()`: found under the name `staging`, or as the project's one staging resource. */
  staging: Staging;
};

/**
 * A document's metadata as a collection asset gives it: strings, finite numbers and booleans; a null
 * field is left out. Dates go as numbers (`Date.parse(…)`), so they can be filtered by range.
 */
export type ChromaMetadata = Record<string, string | number | boolean | null>;

/**
 * What {@link defineCollectionAsset} takes: the collection, the staged records it is built from, and
 * each record's document and metadata. `T` is the staged record type.
 */
export interface CollectionAssetSpec<T> extends AssetKindSpec<CollectionResources> {
  /** The Chroma collection (3–63 characters of `[a-zA-Z0-9._-]`, alphanumeric at both ends), created if missing, cosine distance. */
  collection: string;
  /** The staged asset whose records become documents, one per record, with its source key as id. */
  from: StagedAsset<T>;
  /** The text that is embedded and stored. */
  document(record: T): string;
  /** The fields people filter on; lineage (`run_id`, `asset`, `source`, `source_key`, `content_hash`) is added. */
  metadata(record: T): ChromaMetadata;
  /** More upstream assets beside `from`. */
  deps?: string[];
}

/** Documents read, embedded and upserted per page: a page is upserted while the next one is embedded. */
const collectionPageSize = 1_024;

/**
 * A Chroma collection as an asset: documents embedded with the configured model and upserted by
 * source key. Only records that changed since the last materialisation are embedded again; removed
 * ones are deleted. A changed record ends with exactly its new metadata (fields it no longer has are
 * dropped). A metadata value Chroma cannot store fails the materialisation with a
 * {@link ChromaMetadataError} naming the record and field.
 *
 * It needs a Chroma resource (`chromaResource()`), an embedder (`embedderResource()`) and a staging
 * resource (`stagingResource()`), found by name or as the project's one of each kind. An invalid
 * collection name throws a `DefinitionError` naming the asset.
 *
 * @example
 * ```ts
 * export const productVectors = defineCollectionAsset<Product>({
 *   key: "vectors/products",
 *   codeVersion: "2",
 *   collection: "products",
 *   from: stagedProducts,
 *   document: (p) => (p.description ? `${p.name}. ${p.description}` : p.name),
 *   metadata: (p) => ({ product_id: p.productId, price: p.price, updated_at: Date.parse(p.updatedAt) }),
 * });
 * ```
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
          store: { system: "chroma", collection: spec.collection, write: "upsert", client: chroma },
          prepareName: "embed",
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
