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
export type { ResourceDefinition, ResourceKind, ResourceNeed } from "./engine/resource.ts";
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

// Resources: ready constructors for what the asset kinds need, and the clients behind them.
export {
  chromaKind,
  ChromaMetadataError,
  type ChromaResource,
  chromaResource,
  connectChroma,
} from "./connectors/chroma/index.ts";
export { connectNeo4j, type Driver, neo4jKind, neo4jResource } from "./connectors/neo4j/index.ts";
export { Staging, stagingKind, stagingResource } from "./connectors/staging/index.ts";
export { postgresResource, readTable, type ReadTableOptions } from "./connectors/postgres/index.ts";
export type { Embedder, EmbedderOptions } from "./resources/embedder.ts";
export { embedderKind, embedderResource, loadEmbedder } from "./resources/embedder-resource.ts";
export { createPool, metadataDb, type pg } from "./resources/postgres.ts";
export { settings } from "./resources/settings.ts";
export type { Settings } from "./resources/settings.ts";

// Source readers: each streams its records in bounded memory; input that is not a record comes as a
// BadRow, which a staged asset dead-letters as `unparseable`.
export { type CsvOptions, type CsvRecord, readCsv } from "./connectors/csv/index.ts";
export { type ExcelRecord, type ExcelValue, readExcelSheet } from "./connectors/excel/index.ts";
export { type JsonLine, readJsonLines } from "./connectors/jsonl/index.ts";
export { BadRow, isBadRow, SourceError } from "./connectors/bad-rows.ts";
export { CrmClient, type CrmClientOptions, CrmError, type CrmObject } from "./connectors/crm-api/index.ts";
