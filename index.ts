/**
 * The framework's public API: what a project's `definitions.ts` and its assets import.
 *
 * @example
 * import { defineAsset, defineDefinitions, dailyPartitions } from "ingest-graph";
 */
export { defineAsset, retryDelayMs } from "./engine/asset.ts";
export type {
  AssetCheck,
  AssetDefinition,
  AssetSpec,
  AssetTarget,
  MaterializeContext,
  MaterializeResult,
  RetryPolicy,
} from "./engine/asset.ts";
export { buildAssetGraph } from "./engine/asset-graph.ts";
export { defineDefinitions } from "./engine/definitions.ts";
export { DefinitionError } from "./engine/asset.ts";
export type { AssetGraph } from "./engine/asset-graph.ts";
export type { Definitions } from "./engine/definitions.ts";
export { defineResource } from "./engine/resource.ts";
export type { ResourceDefinition } from "./engine/resource.ts";
export { dailyPartitions, hourlyPartitions, PartitionError, staticPartitions } from "./engine/partitions.ts";
export type { PartitionsDefinition, TimeWindowPartitions } from "./engine/partitions.ts";
export { defineCollectionAsset } from "./connectors/chroma/index.ts";
export { defineNodeAsset, defineRelationshipAsset } from "./connectors/neo4j/index.ts";
export { defineStagedAsset } from "./connectors/staging/index.ts";
export type { StagedAsset } from "./connectors/staging/index.ts";
export { parseSelection, selectAssets, SelectionError } from "./engine/selection.ts";
export { requestRun, waitForRun } from "./engine/runs.ts";
export { cancelRun } from "./engine/cancel.ts";
export { prepareDatabase, startWorker } from "./engine/worker.ts";
export { assetStatuses } from "./engine/status.ts";
export {
  compressedClock,
  defineAssetSensor,
  defineFileSensor,
  defineSchedule,
  listTicks,
  startDaemon,
} from "./engine/automation/index.ts";
export type {
  AssetSensorDefinition,
  CatchUp,
  Clock,
  Completeness,
  Daemon,
  FileRule,
  FileSensorDefinition,
  LandedFile,
  ScheduleDefinition,
  SensorDefinition,
} from "./engine/automation/index.ts";
export { lineageOf } from "./engine/lineage.ts";
export { formatVersion, versionHash } from "./engine/versions.ts";
export { ChromaMetadataError, type ChromaResource, connectChroma } from "./connectors/chroma/index.ts";
export { type Embedder, loadEmbedder } from "./resources/embedder.ts";
export { connectNeo4j } from "./connectors/neo4j/index.ts";
export { createPool, metadataDb } from "./resources/postgres.ts";
export { settings } from "./resources/settings.ts";
export { Staging } from "./connectors/staging/index.ts";
