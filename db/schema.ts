import type { ColumnType, Generated, Insertable, Selectable } from "kysely";

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json<T> = ColumnType<T, string, string>;

export type RunStatus = "queued" | "running" | "succeeded" | "failed" | "canceled";
export type StepStatus = "planned" | "queued" | "running" | "succeeded" | "failed" | "skipped" | "canceled";

export interface RunTable {
  id: string;
  selection: string;
  status: RunStatus;
  traceparent: string | null;
  error: string | null;
  created_at: Generated<Date>;
  started_at: Timestamp | null;
  finished_at: Timestamp | null;
}

export interface RunStepTable {
  run_id: string;
  asset_key: string;
  partition_key: Generated<string>;
  upstream: ColumnType<string[], string[] | undefined, string[]>;
  status: StepStatus;
  error: string | null;
  attempts: Generated<number>;
  started_at: Timestamp | null;
  finished_at: Timestamp | null;
}

export interface MaterializationTable {
  id: Generated<string>;
  run_id: string;
  asset_key: string;
  partition_key: Generated<string>;
  code_version: string;
  data_version: string;
  upstream_versions: Json<Record<string, string>>;
  counts: Json<Record<string, number>>;
  metadata: Json<Record<string, unknown>>;
  started_at: Timestamp;
  finished_at: Timestamp;
  duration_ms: number;
}

/** The metadata store's tables, as kysely sees them (schema `ingest`). */
export interface MetadataDatabase {
  "ingest.runs": RunTable;
  "ingest.run_steps": RunStepTable;
  "ingest.materializations": MaterializationTable;
}

export type Run = Selectable<RunTable>;
export type RunStep = Selectable<RunStepTable>;
export type Materialization = Selectable<MaterializationTable>;
export type NewMaterialization = Insertable<MaterializationTable>;
