// What the JSON API answers: the CLI's `--json` shapes (engine/asset-summaries.ts, engine/status.ts,
// engine/runs.ts, …), as much of them as the pages read. Dates arrive as ISO strings.

export interface AssetSummary {
  key: string;
  group: string;
  kind: string;
  writes: string;
  deps: string[];
  dependents: string[];
  codeVersion: string;
  partitions?: string;
  description?: string;
}

export interface CheckResult {
  name: string;
  passed: boolean;
  severity: "warn" | "error";
  description?: string | null;
  metadata?: Record<string, unknown>;
}

export interface StaleCause {
  kind: string;
  [field: string]: unknown;
}

export interface Freshness {
  state: "met" | "missed";
  reason: string;
  missedSince?: string | null;
  deadline?: string | null;
}

export interface AssetStatus {
  assetKey: string;
  partitionKey: string;
  group: string;
  state: "fresh" | "stale";
  causes: StaleCause[];
  reasons: string[];
  lastMaterialization?: { runId: string; dataVersion: string; finishedAt: string };
  checks: CheckResult[];
  lastFailure?: { runId: string; error: string; finishedAt: string; checks: CheckResult[] };
  inFlight: { runId: string; status: string }[];
  freshness?: Freshness;
}

export interface Layout {
  hash: string;
  nodeWidth: number;
  nodeHeight: number;
  width: number;
  height: number;
  groups: { name: string; x: number; y: number; width: number; height: number }[];
  assets: { key: string; group: string; x: number; y: number }[];
  computedMs: number;
}

export interface Run {
  id: string;
  selection: string;
  status: string;
  traceparent: string | null;
  error: string | null;
  tags: Record<string, string>;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  priority: number;
}

export interface StepTry {
  attempt: number;
  status: "succeeded" | "failed";
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  error: string | null;
}

export interface StepDetail {
  stepKey: string;
  assetKey: string;
  partitionKey: string;
  status: string;
  attempts: number;
  error: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  counts: Record<string, number>;
  dataVersion: string | null;
  durationMs: number | null;
  checks: CheckResult[];
  tries: StepTry[];
}

export interface RunDescription {
  run: Run;
  steps: StepDetail[];
  traceId?: string;
  traceUrl?: string;
  progress: { assetKey: string; partitionKey: string; done: number; total: number | null; startedAt: string }[];
}

export interface LineageNode {
  assetKey: string;
  partitionKey: string;
  materializationId: number;
  runId: string;
  codeVersion: string;
  dataVersion: string;
  finishedAt: string;
  consumedVersion?: string;
  upstream: LineageNode[];
}

export interface DownstreamNode {
  assetKey: string;
  partitionKey: string;
  materializationId: number;
  runId: string;
  dataVersion: string;
  finishedAt: string;
  downstream: DownstreamNode[];
}

export interface RecordLineage {
  runId: string;
  assetKey: string;
  source: string;
  sourceKey: string;
  contentHash: string | null;
}

export interface DeadLetter {
  id: number;
  runId: string;
  assetKey: string;
  partitionKey: string;
  source: string;
  sourceKey: string | null;
  reason: string;
  issues: { path: string; message: string }[];
  payload: unknown;
  status: string;
  createdAt?: string;
}

export interface Materialization {
  id: number;
  runId: string;
  partitionKey: string;
  status: "succeeded" | "failed";
  codeVersion: string;
  dataVersion: string | null;
  counts: Record<string, number>;
  error: string | null;
  attempt: number;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  consumed: { assetKey: string; partitionKey: string; materializationId: number | null; dataVersion: string }[];
  checks: CheckResult[];
}

export interface Tick {
  id: number;
  instigator: string;
  kind: string;
  status: string;
  reason: string | null;
  tickTime: string;
  lastTickTime: string;
  evaluations: number;
  runIds: string[];
}

export interface WorkerState {
  id: string;
  host: string | null;
  pid: number | null;
  concurrency: number | null;
  startedAt: string;
  lastSeen: string | null;
  stoppedAt: string | null;
  state: "live" | "stopped" | "dead";
}

export interface Incident {
  id: number;
  kind: string;
  subject: string;
  status: "open" | "resolved";
  summary: string;
  occurrences: number;
  openedAt: string;
  resolvedAt: string | null;
  resolution: string | null;
  deliveries: {
    id: number;
    event: string;
    channel: string;
    status: string;
    attempts: number;
    lastError: string | null;
  }[];
}

export interface Settings {
  project: string;
  assets: number;
  live: boolean;
  worker: boolean;
  addresses: { postgres: string; neo4j: string; chroma: string; jaeger: string | null };
}
