export { chromaMetadata, ChromaMetadataError, connectChroma } from "./client.ts";
export type { ChromaOptions, ChromaResource, Collection, MetadataInput, UpsertBatch } from "./client.ts";
export { defineCollectionAsset } from "./collection-asset.ts";
export type { ChromaMetadata, CollectionAssetSpec, CollectionResources } from "./collection-asset.ts";
export { findDocumentRecord } from "./lineage.ts";
export { chromaKind, chromaResource } from "./resource.ts";
