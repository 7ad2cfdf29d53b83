export { connectNeo4j, runInBatches } from "./driver.ts";
export type { Driver } from "./driver.ts";
export { ensureIndex, ensureUniqueKey } from "./schema.ts";
export { assertRelationshipIdentifiers, mergeNodes, mergeRelationships, unwrittenRelationships } from "./write.ts";
export type {
  NodeRow,
  NodeWriteResult,
  RelationshipEnd,
  RelationshipRow,
  UnwrittenRelationship,
  WriteOptions,
} from "./write.ts";
export { deleteNodes, deleteRelationshipsOf, sweep } from "./remove.ts";
export { defineNodeAsset, nodeTargetOf } from "./node-asset.ts";
export type { GraphResources, NodeAsset, NodeAssetSpec, NodeTarget } from "./node-asset.ts";
export { defineRelationshipAsset } from "./relationship-asset.ts";
export type { RelationshipAssetSpec, RelationshipEndSpec } from "./relationship-asset.ts";
