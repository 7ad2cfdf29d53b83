import type { ColumnType, Generated, Kysely, Selectable } from "kysely";
import type { CamelCased } from "./camel-case.ts";

/** A `timestamptz` column: read as a `Date`, written as a `Date` or an ISO 8601 string. */
export type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** A `jsonb` column: read as `T`, written as JSON text. */
export type Json<T> = ColumnType<T, string, string>;

/** `canceling`: canceled while a materialisation it waits for is still ending. */
export type RunStatus = "queued" | "running" | "canceling" | "succeeded" | "failed" | "canceled";
/** `fresh`: an only-if-stale step found its asset up to date and did not run it. */
export type StepStatus = "planned" | "queued" | "running" | "succeeded" | "fresh" | "failed" | "skipped" | "canceled";

/** `ingest.runs`: one row per requested run. */
export interface RunTable {
  /** The run's id (a UUID unless the requester chose one). */
  id: string;
  /** The selection as the user wrote it. */
  selection: string;
  /** Where the run is; `failed` when any of its steps failed. */
  status: RunStatus;
  /** The W3C trace context of the run's root span: every materialisation's span is its child. */
  traceparent: string | null;
  /** For a failed run, each failed step's key and the first line of its error. */
  error: string | null;
  /** The tags it was requested with (`ingest/file`, `ingest/full_refresh`, a schedule's). */
  tags: ColumnType<Record<string, string>, string | undefined, string>;
  /** Steps not yet succeeded, fresh, failed or skipped; the run closes when it reaches 0. */
  open_steps: ColumnType<number, number | undefined, number>;
  /** When it was requested. */
  created_at: Generated<Date>;
  /** When its first step was claimed by a worker. */
  started_at: Timestamp | null;
  /** When it succeeded, failed or was canceled. */
  finished_at: Timestamp | null;
  /** graphile-worker's priority, which the run's jobs carry: lower runs first (default 0). */
  priority: ColumnType<number, number | undefined, number>;
}

/** `ingest.run_steps`: one row per asset (or asset partition) a run materialises. */
export interface RunStepTable {
  /** The run it belongs to. */
  run_id: string;
  /** `asset` or `asset:partition`. */
  step_key: string;
  /** The asset it materialises. */
  asset_key: string;
  /** Its partition, or `""`. */
  partition_key: string;
  /** Step keys of the same run that must be done first. */
  upstream: ColumnType<string[], string[] | undefined, string[]>;
  /** Upstream steps not yet done. */
  remaining: number;
  /** Runs only if the asset turns out stale once its upstream steps are done (`--stale`, sensors); else `fresh`. */
  only_if_stale: ColumnType<boolean, boolean | undefined, boolean>;
  /** The asset's `retry.maxAttempts`. */
  max_attempts: ColumnType<number, number | undefined, number>;
  /** Where the step is. */
  status: StepStatus;
  /** The graphile-worker job running it (one job serves every run waiting for the same asset partition). */
  job_id: string | null;
  /** The materialisation it produced, once succeeded. */
  materialization_id: number | null;
  /** The latest attempt's error (the stack); for a skipped step, the upstream step that failed. */
  error: string | null;
  /** Attempts started so far. */
  attempts: Generated<number>;
  /** When its first attempt started. */
  started_at: Timestamp | null;
  /** When it ended (succeeded, fresh, failed, skipped or canceled). */
  finished_at: Timestamp | null;
  /** The asset's group, set when the step is claimed: per-group concurrency limits count running steps by it. */
  group_name: ColumnType<string | null, string | null | undefined, string | null>;
}

/** `ingest.materializations`: every attempt at materialising an asset partition, and what it reported. */
export interface MaterializationTable {
  /** Increasing: a later materialisation has a larger id. */
  id: Generated<number>;
  /** The run it served (the first, when one job served several). */
  run_id: string;
  /** The asset. */
  asset_key: string;
  /** Its partition, or `""`. */
  partition_key: string;
  /** Whether the attempt succeeded; staleness is judged on the latest success. */
  status: "succeeded" | "failed";
  /** The asset's code version when it ran. */
  code_version: string;
  /** The data version it reported (null for a failed attempt). */
  data_version: string | null;
  /** The asset's declared dependencies when it ran: a change makes it stale. */
  dependencies: string[];
  /** The data version of each upstream asset as it read them. */
  upstream_versions: Json<Record<string, string>>;
  /** The counts it reported (`MaterializeResult.counts`, reconciled). */
  counts: Json<Record<string, number>>;
  /** The metadata it reported. */
  metadata: Json<Record<string, unknown>>;
  /** Why the attempt failed (the stack). */
  error: string | null;
  /** Which attempt of its step this was, from 1. */
  attempt: number;
  /** The OpenTelemetry trace it ran in. */
  trace_id: string | null;
  /** When it started. */
  started_at: Timestamp;
  /** When it ended. */
  finished_at: Timestamp;
  /** How long it took, in milliseconds. */
  duration_ms: number;
}

/** `ingest.asset_checks`: each asset check's result, with the materialisation it checked. */
export interface AssetCheckTable {
  /** The result's id. */
  id: Generated<number>;
  /** The materialisation checked. */
  materialization_id: number;
  /** Its asset. */
  asset_key: string;
  /** Its partition, or `""`. */
  partition_key: string;
  /** The check's `name`. */
  check_name: string;
  /** Whether the data passed. */
  passed: boolean;
  /** The check's severity: a failed `error` check failed the materialisation. */
  severity: "warn" | "error";
  /** The check's `description`. */
  description: string | null;
  /** What the check reported (the error, when it threw). */
  metadata: Json<Record<string, unknown>>;
  /** When it was recorded. */
  created_at: Generated<Date>;
}

/** `ingest.lineage_edges`: which upstream materialisation each successful materialisation read. */
export interface LineageEdgeTable {
  /** The materialisation that read. */
  materialization_id: number;
  /** The upstream asset it read. */
  upstream_asset: string;
  /** The upstream partition it read, or `""`. */
  upstream_partition: string;
  /** The upstream materialisation it read; null when the upstream had none. */
  upstream_materialization_id: number | null;
  /** The upstream data version it consumed. */
  upstream_data_version: string;
}

/** `open` until replayed (`ingest replay`) or superseded by a later read of the source. */
export type DeadLetterStatus = "open" | "replayed" | "superseded";

/** `ingest.dead_letters`: records that could not be loaded, with why and exactly what they were. */
export interface DeadLetterTable {
  /** The dead letter's id. */
  id: Generated<number>;
  /** The run whose materialisation recorded it. */
  run_id: string;
  /** The asset that could not load it. */
  asset_key: string;
  /** Its partition, or `""`. */
  partition_key: string;
  /** Where the record came from (`DeadLetterInput.source`). */
  source: string;
  /** Its key in the source, when known. */
  source_key: string | null;
  /** A short, filterable reason: `invalid`, `unparseable`, …; the details are in `issues`. */
  reason: string;
  /** What is wrong, a path into the record and a message each. */
  issues: Json<{ path: string; message: string }[]>;
  /** The record as received. */
  payload: Json<unknown>;
  /** `superseded`: a later successful materialisation of the asset read the source again. */
  status: ColumnType<DeadLetterStatus, DeadLetterStatus | undefined, DeadLetterStatus>;
  /** When it was replayed. */
  replayed_at: Timestamp | null;
  /** When it was recorded. */
  created_at: Generated<Date>;
}

/** The metadata store's tables, as kysely sees them (schema `ingest`). */
export interface MetadataDatabase {
  /** Runs. */
  "ingest.runs": RunTable;
  /** The steps of each run. */
  "ingest.run_steps": RunStepTable;
  /** Every materialisation attempt. */
  "ingest.materializations": MaterializationTable;
  /** Asset check results. */
  "ingest.asset_checks": AssetCheckTable;
  /** What each materialisation read. */
  "ingest.lineage_edges": LineageEdgeTable;
  /** Records that could not be loaded. */
  "ingest.dead_letters": DeadLetterTable;
  /** Worker heartbeats. */
  "ingest.workers": WorkerTable;
  /** Schedule and sensor evaluations. */
  "ingest.ticks": TickTable;
  /** Runs requested by ticks, until they exist. */
  "ingest.run_requests": RunRequestTable;
  /** Sensor cursors. */
  "ingest.instigator_state": InstigatorStateTable;
  /** File sensors' cursors, per file. */
  "ingest.sensor_files": SensorFileTable;
  /** How far each running materialisation has got (`ctx.progress`). */
  "ingest.step_progress": StepProgressTable;
  /** The latest observation of each observable source asset (`observe`). */
  "ingest.observations": ObservationsTable;
  /** What the daemon's alerts found wrong, open until it clears. */
  "ingest.incidents": IncidentTable;
  /** Each incident's opening and resolution, per alert channel. */
  "ingest.alert_deliveries": AlertDeliveryTable;
  /** Failed runs the alerts have dealt with. */
  "ingest.alerted_runs": AlertedRunTable;
}

/** The metadata store through kysely (schema `ingest`). */
export type MetadataStore = Kysely<MetadataDatabase>;

/** A row of `ingest.runs` as the database has it (snake_case); `Run` is what the API hands out. */
export type RunRow = Selectable<RunTable>;
/** A row of `ingest.run_steps` as the database has it; `RunStep` is what the API hands out. */
export type RunStepRow = Selectable<RunStepTable>;
export type Materialization = Selectable<MaterializationTable>;
/** A row of `ingest.dead_letters` as the database has it; `DeadLetter` is what the API hands out. */
export type DeadLetterRow = Selectable<DeadLetterTable>;

/** A run: its selection, status, tags, priority and times (`ingest runs --json`). */
export type Run = CamelCased<RunRow>;
/** One step of a run: an asset or asset partition, its status, attempts and error (`ingest runs show --json`). */
export type RunStep = CamelCased<RunStepRow>;
/** A record that could not be loaded, with its reason, issues and raw payload (`ingest dead-letters --json`). */
export type DeadLetter = CamelCased<DeadLetterRow>;

/** What evaluated a tick: a schedule, a file sensor, an asset sensor, or the daemon's alerts (their failed evaluations). */
export type InstigatorKind = "schedule" | "file-sensor" | "asset-sensor" | "stream-sensor" | "alerts";
/** What a tick of a schedule or sensor came to. */
export const tickStatuses = ["evaluated", "skipped", "requested", "failed"] as const;
/** `evaluated`: looked, nothing to request yet (e.g. a file still being written); `skipped` says why in `reason`. */
export type TickStatus = (typeof tickStatuses)[number];

/** One evaluation of a schedule or sensor; consecutive identical idle evaluations fold into one row (`evaluations`). */
export interface TickTable {
  /** The tick's id. */
  id: Generated<number>;
  /** The schedule's or sensor's name. */
  instigator: string;
  /** What it is. */
  kind: InstigatorKind;
  /** Schedules: the scheduled instant, unique per schedule, so a tick is recorded (and run) once. */
  tick_key: string | null;
  /** The daemon clock's time of the tick: the scheduled instant for schedules. */
  tick_time: Timestamp;
  /** What it came to. */
  status: TickStatus;
  /** Why it was skipped, what it waits for, or why it failed. */
  reason: string | null;
  /** The runs it requested. */
  run_ids: ColumnType<string[], string[] | undefined, string[]>;
  /** The sensor's cursor after the tick. */
  cursor: Json<unknown> | null;
  /** How many identical idle evaluations this row stands for. */
  evaluations: ColumnType<number, number | undefined, number>;
  /** The time of the latest of them. */
  last_tick_time: Timestamp;
  /** `host:pid` of the daemon that evaluated it. */
  daemon: string;
  /** When it was recorded. */
  created_at: Generated<Date>;
}

/** A run a tick asked for, recorded with the tick before the run exists: retried under the same run id until it does. */
export interface RunRequestTable {
  /** The id the run gets. */
  run_id: string;
  /** The tick that asked for it. */
  tick_id: number;
  /** The schedule's or sensor's name. */
  instigator: string;
  /** The run request (selection, keys, partitions, tags), as JSON. */
  request: Json<Record<string, unknown>>;
  /** `pending` until the run exists (`requested`) or cannot be made (`failed`). */
  status: "pending" | "requested" | "failed";
  /** Why it failed. */
  error: string | null;
  /** When the tick asked. */
  created_at: Generated<Date>;
  /** When the run was made. */
  requested_at: Timestamp | null;
}

/** A sensor's cursor, kept across daemon restarts: an asset sensor's is the last materialisation id it saw. */
export interface InstigatorStateTable {
  /** The sensor's name. */
  instigator: string;
  /** What it is. */
  kind: InstigatorKind;
  /** Where it is. */
  cursor: Json<Record<string, unknown>>;
  /** When the cursor last moved. */
  updated_at: Generated<Date>;
}

/** How far a running materialisation has got (migration 0007); its row goes when it ends. */
export interface StepProgressTable {
  /** The asset being materialised. */
  asset_key: string;
  /** Its partition, or "" when unpartitioned. */
  partition_key: string;
  /** Records done so far. */
  done: number;
  /** Records in all, when the asset knows it (a load of what changed); null while it streams a source. */
  total: number | null;
  /** When the materialisation started. */
  started_at: Timestamp;
  /** When `done` was last written. */
  updated_at: Generated<Date>;
}

/** The latest observation of each observable source asset (migration 0010). */
export interface ObservationsTable {
  /** The source asset. */
  asset_key: string;
  /** The version its `observe` reported, or null when it failed. */
  version: string | null;
  /** Why the observation failed, when it did. */
  error: string | null;
  /** When it was observed. */
  observed_at: Generated<Date>;
}

/** A file sensor's cursor: the last version of each file it requested a run for. */
export interface SensorFileTable {
  /** The file sensor's name. */
  sensor: string;
  /** Relative to the sensor's folder, with `/` separators. */
  path: string;
  /** Its size in bytes then. */
  size: number;
  /** Its modification time then, epoch milliseconds. */
  mtime_ms: number;
  /** SHA-256 of its content then. */
  sha256: string;
  /** Where its run is: `moved` once moved to the sensor's `processed.moveTo` folder. */
  status: "requested" | "succeeded" | "failed" | "moved";
  /** The run requested for it. */
  run_id: string | null;
  /** When this version was first seen complete. */
  seen_at: Generated<Date>;
  /** When its run ended. */
  processed_at: Timestamp | null;
}

/** A row of `ingest.ticks` as the database has it; `Tick` is what the API hands out. */
export type TickRow = Selectable<TickTable>;
/** One evaluation of a schedule or sensor and what it came to (`ingest ticks --json`). */
export type Tick = CamelCased<TickRow>;

/** A worker process's heartbeat; a sweep releases the jobs of one whose heartbeat is older than its timeout. */
export interface WorkerTable {
  /** graphile-worker's worker pool id: what its jobs' `locked_by` holds. */
  id: string;
  /** The host it runs on. */
  host: string | null;
  /** Its process id. */
  pid: number | null;
  /** Materialisations it runs at once. */
  concurrency: number | null;
  /** Its heartbeat interval, in milliseconds. */
  heartbeat_ms: number;
  /** After how long without a heartbeat it counts as dead, in milliseconds. */
  timeout_ms: number;
  /** When it started. */
  started_at: Generated<Date>;
  /** Its latest heartbeat. */
  last_seen: Timestamp | null;
  /** When it stopped cleanly. */
  stopped_at: Timestamp | null;
  /** When another process found it dead (or it returned its jobs while stopping) and released its jobs. */
  released_at: Timestamp | null;
  /** Why its jobs were released. */
  release_reason: string | null;
  /** The graphile-worker jobs released. */
  released_jobs: ColumnType<number[], number[] | undefined, number[]>;
}

/** A row of `ingest.workers` as the database has it. */
export type WorkerRow = Selectable<WorkerTable>;
/** A worker process: host, pid, heartbeat and the jobs released when it was found dead (`ingest workers --json`). */
export type Worker = CamelCased<WorkerRow>;

/**
 * What an incident is about: `run-failed` (an asset failed in a run; subject the asset), `dead-letters`
 * (an asset's open dead letters passed the threshold), `freshness` (an asset missed its freshness
 * target), `worker-dead` (a worker went silent past its timeout; subject the worker's id).
 */
export type IncidentKind = "run-failed" | "dead-letters" | "freshness" | "worker-dead";

/** `ingest.incidents`: a condition the daemon's alerts found, open until it clears; one open per kind and subject. */
export interface IncidentTable {
  /** The incident's id. */
  id: Generated<number>;
  /** What it is about. */
  kind: IncidentKind;
  /** Which asset (or worker) it is about. */
  subject: string;
  /** `open` until the condition clears. */
  status: "open" | "resolved";
  /** What happened, in words: `ec/orders failed in run 3f2a1b2c: Error: timeout`. */
  summary: string;
  /** The particulars, as data: the run, the error, the counts, the target. */
  details: Json<Record<string, unknown>>;
  /** How many times it happened while open (failed runs of the asset). */
  occurrences: ColumnType<number, number | undefined, number>;
  /** `host:pid` of the daemon that opened it. */
  daemon: string;
  /** When it was opened. */
  opened_at: Generated<Date>;
  /** When it last changed. */
  updated_at: Generated<Date>;
  /** When the condition cleared. */
  resolved_at: Timestamp | null;
  /** How it cleared, in words: `ec/orders succeeded in run 9c1d…`. */
  resolution: string | null;
}

/** `ingest.alert_deliveries`: one incident event (opened, resolved) sent to one channel, with its attempts. */
export interface AlertDeliveryTable {
  /** The delivery's id: webhooks carry it as `X-Ingest-Delivery`, so a receiver can drop a repeat. */
  id: Generated<number>;
  /** The incident. */
  incident_id: number;
  /** Which of its events this delivers. */
  event: "opened" | "resolved";
  /** The channel: `webhook:<origin>#<hash of the URL>` or `email:<recipients>#<hash>`, or the name it was given. */
  channel: string;
  /** `pending` until delivered, or `failed` after the last attempt or an answer that no retry changes. */
  status: "pending" | "delivered" | "failed";
  /** Attempts started so far. */
  attempts: ColumnType<number, number | undefined, number>;
  /** When the next attempt is due. */
  next_attempt_at: ColumnType<Date, Date | string | undefined, Date | string>;
  /** `host:pid` of the daemon sending it now. */
  claimed_by: string | null;
  /** Until when that daemon holds it; after that another takes it over. */
  claimed_until: Timestamp | null;
  /** When the latest attempt started. */
  last_attempt_at: Timestamp | null;
  /** The latest attempt's answer: an HTTP status, or an SMTP reply code. */
  last_status: number | null;
  /** Why the latest failed attempt failed (kept once a later attempt delivers it). */
  last_error: string | null;
  /** When it was queued. */
  created_at: Generated<Date>;
  /** When it was delivered. */
  delivered_at: Timestamp | null;
}

/** `ingest.alerted_runs`: a failed run whose failures have been turned into incidents, once. */
export interface AlertedRunTable {
  /** The run. */
  run_id: string;
  /** When. */
  alerted_at: Generated<Date>;
}

/** A row of `ingest.incidents` as the database has it. */
export type IncidentRow = Selectable<IncidentTable>;
/** A row of `ingest.alert_deliveries` as the database has it. */
export type AlertDeliveryRow = Selectable<AlertDeliveryTable>;
/** One delivery of an incident's event to a channel, with its attempts (`ingest alerts --json`). */
export type AlertDelivery = CamelCased<AlertDeliveryRow>;
