import type { ColumnType, Generated, Kysely, Selectable } from "kysely";

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json<T> = ColumnType<T, string, string>;

/** `canceling`: canceled while a materialisation it waits for is still ending. */
export type RunStatus = "queued" | "running" | "canceling" | "succeeded" | "failed" | "canceled";
/** `fresh`: an only-if-stale step found its asset up to date and did not run it. */
export type StepStatus = "planned" | "queued" | "running" | "succeeded" | "fresh" | "failed" | "skipped" | "canceled";

export interface RunTable {
  id: string;
  selection: string;
  status: RunStatus;
  traceparent: string | null;
  error: string | null;
  tags: ColumnType<Record<string, string>, string | undefined, string>;
  /** Steps not yet succeeded, fresh, failed or skipped; the run closes when it reaches 0. */
  open_steps: ColumnType<number, number | undefined, number>;
  created_at: Generated<Date>;
  started_at: Timestamp | null;
  finished_at: Timestamp | null;
  /** graphile-worker's priority, which the run's jobs carry: lower runs first (default 0). */
  priority: ColumnType<number, number | undefined, number>;
}

export interface RunStepTable {
  run_id: string;
  /** `asset` or `asset:partition`. */
  step_key: string;
  asset_key: string;
  partition_key: string;
  /** Step keys of the same run that must be done first. */
  upstream: ColumnType<string[], string[] | undefined, string[]>;
  /** Upstream steps not yet done. */
  remaining: number;
  only_if_stale: ColumnType<boolean, boolean | undefined, boolean>;
  max_attempts: ColumnType<number, number | undefined, number>;
  status: StepStatus;
  job_id: string | null;
  materialization_id: number | null;
  error: string | null;
  attempts: Generated<number>;
  started_at: Timestamp | null;
  finished_at: Timestamp | null;
  /** The asset's group, set when the step is claimed: per-group concurrency limits count running steps by it. */
  group_name: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface MaterializationTable {
  id: Generated<number>;
  run_id: string;
  asset_key: string;
  partition_key: string;
  status: "succeeded" | "failed";
  code_version: string;
  data_version: string | null;
  /** The asset's declared dependencies when it ran: a change makes it stale. */
  dependencies: string[];
  upstream_versions: Json<Record<string, string>>;
  counts: Json<Record<string, number>>;
  metadata: Json<Record<string, unknown>>;
  error: string | null;
  attempt: number;
  trace_id: string | null;
  started_at: Timestamp;
  finished_at: Timestamp;
  duration_ms: number;
}

export interface AssetCheckTable {
  id: Generated<number>;
  materialization_id: number;
  asset_key: string;
  partition_key: string;
  check_name: string;
  passed: boolean;
  severity: "warn" | "error";
  description: string | null;
  metadata: Json<Record<string, unknown>>;
  created_at: Generated<Date>;
}

export interface LineageEdgeTable {
  materialization_id: number;
  upstream_asset: string;
  upstream_partition: string;
  upstream_materialization_id: number | null;
  upstream_data_version: string;
}

export type DeadLetterStatus = "open" | "replayed" | "superseded";

export interface DeadLetterTable {
  id: Generated<number>;
  run_id: string;
  asset_key: string;
  partition_key: string;
  source: string;
  source_key: string | null;
  /** A short, filterable reason: `invalid`, `unparseable`, …; the details are in `issues`. */
  reason: string;
  issues: Json<{ path: string; message: string }[]>;
  payload: Json<unknown>;
  /** `superseded`: a later successful materialisation of the asset read the source again. */
  status: ColumnType<DeadLetterStatus, DeadLetterStatus | undefined, DeadLetterStatus>;
  replayed_at: Timestamp | null;
  created_at: Generated<Date>;
}

/** The metadata store's tables, as kysely sees them (schema `ingest`). */
export interface MetadataDatabase {
  "ingest.runs": RunTable;
  "ingest.run_steps": RunStepTable;
  "ingest.materializations": MaterializationTable;
  "ingest.asset_checks": AssetCheckTable;
  "ingest.lineage_edges": LineageEdgeTable;
  "ingest.dead_letters": DeadLetterTable;
  "ingest.workers": WorkerTable;
  "ingest.ticks": TickTable;
  "ingest.run_requests": RunRequestTable;
  "ingest.instigator_state": InstigatorStateTable;
  "ingest.sensor_files": SensorFileTable;
}

/** The metadata store through kysely (schema `ingest`). */
export type MetadataStore = Kysely<MetadataDatabase>;

export type Run = Selectable<RunTable>;
export type RunStep = Selectable<RunStepTable>;
export type Materialization = Selectable<MaterializationTable>;
export type DeadLetter = Selectable<DeadLetterTable>;

export type InstigatorKind = "schedule" | "file-sensor" | "asset-sensor";
/** `evaluated`: looked, nothing to request yet (e.g. a file still being written); `skipped` says why in `reason`. */
/** What a tick of a schedule or sensor came to. */
export const tickStatuses = ["evaluated", "skipped", "requested", "failed"] as const;
export type TickStatus = (typeof tickStatuses)[number];

/** One evaluation of a schedule or sensor; consecutive identical idle evaluations fold into one row (`evaluations`). */
export interface TickTable {
  id: Generated<number>;
  instigator: string;
  kind: InstigatorKind;
  /** Schedules: the scheduled instant, unique per schedule, so a tick is recorded (and run) once. */
  tick_key: string | null;
  /** The daemon clock's time of the tick: the scheduled instant for schedules. */
  tick_time: Timestamp;
  status: TickStatus;
  reason: string | null;
  run_ids: ColumnType<string[], string[] | undefined, string[]>;
  cursor: Json<unknown> | null;
  evaluations: ColumnType<number, number | undefined, number>;
  last_tick_time: Timestamp;
  /** `host:pid` of the daemon that evaluated it. */
  daemon: string;
  created_at: Generated<Date>;
}

/** A run a tick asked for, recorded with the tick before the run exists: retried under the same run id until it does. */
export interface RunRequestTable {
  run_id: string;
  tick_id: number;
  instigator: string;
  request: Json<Record<string, unknown>>;
  status: "pending" | "requested" | "failed";
  error: string | null;
  created_at: Generated<Date>;
  requested_at: Timestamp | null;
}

export interface InstigatorStateTable {
  instigator: string;
  kind: InstigatorKind;
  cursor: Json<Record<string, unknown>>;
  updated_at: Generated<Date>;
}

/** A file sensor's cursor: the last version of each file it requested a run for. */
export interface SensorFileTable {
  sensor: string;
  /** Relative to the sensor's folder, with `/` separators. */
  path: string;
  size: number;
  mtime_ms: number;
  sha256: string;
  status: "requested" | "succeeded" | "failed" | "moved";
  run_id: string | null;
  seen_at: Generated<Date>;
  processed_at: Timestamp | null;
}

export type Tick = Selectable<TickTable>;

/** A worker process's heartbeat; a sweep releases the jobs of one whose heartbeat is older than its timeout. */
export interface WorkerTable {
  /** graphile-worker's worker pool id: what its jobs' `locked_by` holds. */
  id: string;
  host: string | null;
  pid: number | null;
  concurrency: number | null;
  heartbeat_ms: number;
  timeout_ms: number;
  started_at: Generated<Date>;
  last_seen: Timestamp | null;
  stopped_at: Timestamp | null;
  /** When another process found it dead (or it returned its jobs while stopping) and released its jobs. */
  released_at: Timestamp | null;
  release_reason: string | null;
  released_jobs: ColumnType<number[], number[] | undefined, number[]>;
}

export type Worker = Selectable<WorkerTable>;
