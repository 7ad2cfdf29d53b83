export { defineStagedAsset, issuesOf } from "./staged-asset.ts";
export type { ExtractContext, IncrementalSpec, StagedAsset, StagedAssetSpec } from "./staged-asset.ts";
export type { CursorValue, ExtractCursorState } from "./extract-cursor.ts";
export type { FieldDrift, FieldType, KnownFields, SchemaContract, SchemaDrift } from "./schema-drift.ts";
export { loadChanges } from "./load-changes.ts";
export type { LoadCounts, StagedSink, WriteOutcome } from "./load-changes.ts";
export {
  contentHash,
  deadLetterPayload,
  maxRecordDepth,
  maxSourceKeyBytes,
  nestedDeeperThan,
  unstorableKey,
} from "./records.ts";
export type { LoadCursor, PendingRecord, StageCounts, StagedRecord } from "./records.ts";
export { replayDeadLetters } from "./replay.ts";
export type { ReplayResult } from "./replay.ts";
export { Staging } from "./staging.ts";
export type { StagingLoad } from "./staging-load.ts";
export { stagingKind, stagingResource } from "./resource.ts";
