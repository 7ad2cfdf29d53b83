/**
 * The framework's public API: what a project's `definitions.ts` and its assets import.
 *
 * A project declares assets (`defineStagedAsset` for a source, `defineNodeAsset`,
 * `defineRelationshipAsset` and `defineCollectionAsset` for what is built from it, `defineAsset` for
 * anything else), the resources they use (`stagingResource()`, `neo4jResource()`, …), schedules and
 * sensors, and gathers them with `defineDefinitions`. The `ingest` CLI loads that file; `requestRun`,
 * `startWorker`, `startDaemon`, `assetStatuses`, `lineageOf` and `listIncidents` do what its commands do,
 * from code.
 *
 * @example
 * ```ts
 * import { defineDefinitions, stagingResource, neo4jResource } from "ingest-graph";
 * import { productNodes, stagedProducts } from "./assets/products.ts";
 *
 * export default defineDefinitions({
 *   assets: [stagedProducts, productNodes],
 *   resources: { staging: stagingResource(), neo4j: neo4jResource() },
 * });
 * ```
 *
 * @module
 */

// Assets and definitions.
export { defineAsset, DefinitionError, retryDelayMs } from "./engine/asset.ts";
export type {
  AssetCheck,
  AssetDefinition,
  AssetKindSpec,
  AssetSpec,
  AssetTarget,
  MaterializeContext,
  MaterializeResult,
  ObserveContext,
  ObservedVersion,
  RetryPolicy,
  SourceLag,
} from "./engine/asset.ts";
export { buildAssetGraph } from "./engine/asset-graph.ts";
export type { AssetGraph, GraphInput } from "./engine/asset-graph.ts";
export { defineDefinitions } from "./engine/definitions.ts";
export type { Definitions } from "./engine/definitions.ts";
export type { DeadLetterInput } from "./engine/dead-letters.ts";
export { defineResource, ResourcePool } from "./engine/resource.ts";
export type { ResourceDefinition, ResourceKind, ResourceNeed } from "./engine/resource.ts";
export { dailyPartitions, hourlyPartitions, PartitionError, staticPartitions } from "./engine/partitions.ts";
export type { PartitionsDefinition, TimeWindowPartitions } from "./engine/partitions.ts";

// Asset kinds: staged sources, and the Neo4j labels, relationships and Chroma collections built from them.
export { defineStagedAsset } from "./connectors/staging/index.ts";
export { defineStreamAsset, isStreamAsset } from "./connectors/streams/index.ts";
export type {
  StreamAsset,
  StreamAssetSpec,
  StreamBatch,
  StreamLag,
  StreamMessage,
  StreamSource,
} from "./connectors/streams/index.ts";
export type {
  CursorValue,
  ExtractContext,
  ExtractCursorState,
  FieldDrift,
  FieldType,
  IncrementalSpec,
  KnownFields,
  SchemaContract,
  SchemaDrift,
  StagedAsset,
  StagedAssetSpec,
} from "./connectors/staging/index.ts";
export { defineNodeAsset, defineRelationshipAsset } from "./connectors/neo4j/index.ts";
export type {
  GraphResources,
  NodeAsset,
  NodeAssetSpec,
  NodeTarget,
  RelationshipAssetSpec,
  RelationshipEndSpec,
} from "./connectors/neo4j/index.ts";
export { defineCollectionAsset } from "./connectors/chroma/index.ts";
export type { ChromaMetadata, CollectionAssetSpec, CollectionResources } from "./connectors/chroma/index.ts";

// Running: selections, runs, workers, status and lineage, as the CLI does them.
export { parseSelection, selectAssets, SelectionError } from "./engine/selection.ts";
export type { SelectionAst } from "./engine/selection.ts";
export { requestRun, waitForRun } from "./engine/runs.ts";
export type { RunRequest } from "./engine/runs.ts";
export type { PlanRequest } from "./engine/planner.ts";
export { cancelRun } from "./engine/cancel.ts";
export { prepareDatabase, startWorker } from "./engine/worker.ts";
export type { IngestWorker, WorkerOptions } from "./engine/worker.ts";
export type { LivenessOptions, ReleasedJob } from "./engine/liveness.ts";
export { assetStatuses } from "./engine/status.ts";
export { latestObservations, type Observation, observeSources } from "./engine/observations.ts";
export type { AssetStatus } from "./engine/status.ts";
export type { CheckResult } from "./engine/checks.ts";
export type { ChangesSince, StaleCause } from "./engine/staleness.ts";
export type { CronFreshness, Freshness, FreshnessPolicy, MaxLagFreshness } from "./engine/freshness.ts";
export { lineageOf } from "./engine/lineage.ts";
export type { LineageNode } from "./engine/lineage.ts";
export { formatVersion, versionHash } from "./engine/versions.ts";
export type {
  AlertDelivery,
  AlertDeliveryRow,
  AlertDeliveryTable,
  AlertedRunTable,
  AssetCheckTable,
  DeadLetterStatus,
  DeadLetterTable,
  IncidentKind,
  IncidentRow,
  IncidentTable,
  InstigatorKind,
  InstigatorStateTable,
  Json,
  LineageEdgeTable,
  MaterializationTable,
  MetadataDatabase,
  MetadataStore,
  ObservationsTable,
  Run,
  RunRequestTable,
  RunRow,
  RunStatus,
  RunStep,
  RunStepRow,
  RunStepTable,
  RunTable,
  SensorFileTable,
  StepProgressTable,
  StepStatus,
  Tick,
  TickRow,
  TickStatus,
  TickTable,
  Timestamp,
  WorkerTable,
} from "./db/schema.ts";
export type { CamelCase, CamelCased } from "./db/camel-case.ts";

// Automation: schedules and sensors, and the daemon that runs them.
export {
  compressedClock,
  defineAssetSensor,
  defineFileSensor,
  defineSchedule,
  defineStreamSensor,
  listTicks,
  startDaemon,
} from "./engine/automation/index.ts";
export type {
  AssetSensorDefinition,
  AssetSensorSpec,
  CatchUp,
  Clock,
  Completeness,
  CompressedClockOptions,
  Daemon,
  DaemonOptions,
  FileRule,
  FileSensorDefinition,
  FileSensorSpec,
  LandedFile,
  ScheduleDefinition,
  ScheduleSpec,
  SensorDefinition,
  StreamSensorDefinition,
  StreamSensorSpec,
} from "./engine/automation/index.ts";

// Alerts: incidents the daemon opens, where it sends them, and how a receiver checks a webhook is genuine.
export { listIncidents, verifyWebhookSignature } from "./engine/alerts/index.ts";
export type {
  AlertMessage,
  AlertsConfig,
  DeadLetterThreshold,
  EmailChannelConfig,
  Incident,
  WebhookChannelConfig,
} from "./engine/alerts/index.ts";

// Webhooks: sources that push deliveries, the receiver that stores them (`ingest webhooks`), and where they wait.
export {
  defineWebhookSource,
  type DeliveryLag,
  type NewDelivery,
  type RejectionCount,
  type RejectionReason,
  serveWebhooks,
  type ServeWebhooksOptions,
  signDelivery,
  type StoredDelivery,
  webhookApp,
  type WebhookAppOptions,
  WebhookDeliveries,
  type WebhookScheme,
  type WebhookServer,
  type WebhookSource,
  type WebhookSourceSpec,
} from "./connectors/webhooks/index.ts";

// Resources: ready constructors for what the asset kinds need, and the clients behind them.
export {
  chromaKind,
  ChromaMetadataError,
  type ChromaOptions,
  type ChromaResource,
  chromaResource,
  connectChroma,
  type MetadataInput,
  type UpsertBatch,
} from "./connectors/chroma/index.ts";
// `Driver` is neo4j-driver's own class, re-exported so that a project types its resource without
// depending on neo4j-driver itself; its documentation is neo4j-driver's.
export { connectNeo4j, type Driver, neo4jKind, neo4jResource } from "./connectors/neo4j/index.ts";
export { Staging, stagingKind, stagingResource } from "./connectors/staging/index.ts";
export {
  type KafkaClient,
  kafkaKind,
  type KafkaMessage,
  kafkaResource,
  kafkaTopic,
  openKafka,
  RabbitMq,
  rabbitmqKind,
  rabbitmqQueue,
  rabbitmqResource,
  webhookDeliveries,
  webhookDeliveriesKind,
  webhookDeliveriesResource,
  writePositions,
} from "./connectors/streams/index.ts";
export type { LoadCursor, PendingRecord, StageCounts, StagedRecord, StagingLoad } from "./connectors/staging/index.ts";
export { postgresResource, readTable, type ReadTableOptions } from "./connectors/postgres/index.ts";
// `mysql` is mysql2's promise API (its namespace and types), for `mysql.Pool`; its documentation is mysql2's.
export {
  createMysqlPool,
  mariadbResource,
  type mysql,
  type MysqlPoolOptions,
  type MysqlTableObservation,
  observeMysqlTable,
  readMysql,
  type ReadMysqlOptions,
} from "./connectors/mariadb/index.ts";
export { observeTable, type ObserveTableOptions, type TableObservation } from "./connectors/postgres/index.ts";
export type { Embedder, EmbedderOptions, EmbeddingDtype } from "./resources/embedder.ts";
export { embedderKind, embedderResource, loadEmbedder } from "./resources/embedder-resource.ts";
// `pg` is node-postgres itself (its namespace and types), for `pg.Pool`; its documentation is node-postgres's.
export { createPool, metadataDb, type pg } from "./resources/postgres.ts";
export { envSecret, settings } from "./resources/settings.ts";
export type { Neo4jSettings, Settings } from "./resources/settings.ts";
export type { Logger } from "./resources/logger.ts";

// Source readers: each streams its records in bounded memory; input that is not a record comes as a
// BadRow, which a staged asset dead-letters as `unparseable`.
export { type CsvOptions, type CsvRecord, readCsv, readTsv } from "./connectors/csv/index.ts";
export { type ExcelRecord, type ExcelValue, readExcelSheet } from "./connectors/excel/index.ts";
export { type JsonLine, readJsonLines } from "./connectors/jsonl/index.ts";
export {
  type CollectionObservation,
  connectMongo,
  type ConnectMongoOptions,
  mongoResource,
  observeCollection,
  type ObserveCollectionOptions,
  type PlainDocument,
  plainDocument,
  type PlainValue,
  readCollection,
  type ReadCollectionOptions,
  type Unconvertible,
} from "./connectors/mongodb/index.ts";
export { type JsonOptions, type JsonValue, readJson } from "./connectors/json/index.ts";
export { readXml, type XmlElement, type XmlOptions, type XmlValue } from "./connectors/xml/index.ts";
export { type ParquetOptions, type ParquetRecord, readParquet } from "./connectors/parquet/index.ts";
export { filesIn, type FilesObservation, observeFiles } from "./connectors/file-input.ts";
export { BadRow, isBadRow, SourceError } from "./connectors/bad-rows.ts";
export type { BadRowCallback, HandleBadRows, OnBadRow, YieldBadRows } from "./connectors/bad-rows.ts";
export {
  CrmClient,
  type CrmClientOptions,
  type CrmClientStats,
  CrmError,
  type CrmObject,
  type CrmObjectType,
} from "./connectors/crm-api/index.ts";
// API clients on one HTTP core (rate limit, retries with backoff and jitter, Retry-After, credentials renewed
// on a 401, errors naming the API and never a secret): a Zendesk-shaped chat API, Shopify-shaped GraphQL and
// a Stripe-shaped payments API, besides the CRM's.
export {
  ApiError,
  type Authorization,
  HttpClient,
  type HttpClientOptions,
  type HttpClientStats,
  type JsonRequest,
  type NewApiError,
  type Page,
  paginate,
} from "./connectors/http/index.ts";
export {
  ChatClient,
  type ChatClientOptions,
  type ChatClientStats,
  type ChatComment,
  type ChatExportPosition,
  type ChatExportStart,
  chatResource,
  type ChatTicket,
  type ChatUser,
  TicketExport,
} from "./connectors/chat-api/index.ts";
export {
  type ConnectionOptions,
  GraphqlClient,
  type GraphqlClientOptions,
  type GraphqlClientStats,
  GraphqlError,
  type GraphqlErrorEntry,
  shopGraphqlResource,
} from "./connectors/graphql/index.ts";
export {
  type CreatedRange,
  PaymentsClient,
  type PaymentsClientOptions,
  type PaymentsObject,
  paymentsResource,
} from "./connectors/payments-api/index.ts";
