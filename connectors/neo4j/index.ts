export { connectNeo4j, runInBatches } from "./driver.ts";
export type { Driver } from "./driver.ts";
export { ensureIndex, ensureRelationshipIndex, ensureUniqueKey } from "./schema.ts";
export { assertRelationshipIdentifiers, mergeNodes, mergeRelationships, missingEnds } from "./write.ts";
export type {
  MissingEnds,
  NodeRow,
  NodeWriteResult,
  RelationshipEnd,
  RelationshipIdentity,
  RelationshipRow,
  RelationshipWriteResult,
  WriteOptions,
} from "./write.ts";
export { removeNodes, removeRelationships, sweepNodes, sweepRelationships } from "./remove.ts";
export type { DesiredRelationship, DetachedRelationship, HoldDetached, NodeRemoval } from "./remove.ts";
export { defineNodeAsset } from "./node-asset.ts";
export type { GraphResources, NodeAssetSpec } from "./node-asset.ts";
export { nodeTargetOf } from "./targets.ts";
export type { NodeAsset, NodeTarget } from "./targets.ts";
export { findNodeRecord, lineageProperties } from "./lineage.ts";
export type { RecordLineage } from "./lineage.ts";
export { defineRelationshipAsset } from "./relationship-asset.ts";
export type { RelationshipAssetSpec, RelationshipEndSpec } from "./relationship-asset.ts";
export { neo4jKind, neo4jResource } from "./resource.ts";
