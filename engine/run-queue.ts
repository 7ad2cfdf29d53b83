import { sql } from "kysely";
import type { MetadataStore, RunStepRow, StepStatus } from "../db/schema.ts";
import { redact, redactText } from "../resources/redact.ts";
import { canonicalJson } from "./canonical-json.ts";
import type { UpstreamEdge } from "./staleness.ts";
import { stepKeyOf, type StepRef } from "./steps.ts";
import { VersionIndex } from "./versions.ts";

export const materializeTask = "ingest.materialize";

/** The payload of a materialisation job: which step, and the trace of the run that asked for it. */
export interface StepJob extends StepRef {
  traceparent?: string;
}

export interface PlannedStep extends StepRef {
  /** Step keys of the same run that must be done first. */
  upstream: string[];
  /** Run only if the asset is stale when the step starts (downstream of stale assets in a `--stale` run). */
  onlyIfStale: boolean;
  maxAttempts: number;
}

export interface NewRun {
  runId: string;
  selection: string;
  traceparent?: string;
  tags?: Record<string, string>;
  /** graphile-worker's priority for the run's jobs: lower runs first (default 0). */
  priority?: number;
  steps: PlannedStep[];
}

/** Records a run and its plan, and enqueues the steps that wait on nothing. */
export async function createRun(db: MetadataStore, run: NewRun): Promise<void> {
  await db.transaction().execute(async (tx) => {
    const empty = run.steps.length === 0;
    await tx
      .insertInto("ingest.runs")
      .values({
        id: run.runId,
        selection: run.selection,
        status: empty ? "succeeded" : "queued",
        traceparent: run.traceparent ?? null,
        tags: JSON.stringify(run.tags ?? {}),
        open_steps: run.steps.length,
        error: null,
        started_at: null,
        finished_at: empty ? new Date() : null,
        priority: run.priority ?? 0,
      })
      .execute();
    if (empty) return;
    for (let start = 0; start < run.steps.length; start += 1_000) {
      await tx
        .insertInto("ingest.run_steps")
        .values(
          run.steps.slice(start, start + 1_000).map((s) => ({
            run_id: run.runId,
            step_key: stepKeyOf(s),
            asset_key: s.assetKey,
            partition_key: s.partitionKey,
            upstream: s.upstream,
            remaining: s.upstream.length,
            only_if_stale: s.onlyIfStale,
            max_attempts: s.maxAttempts,
            status: s.upstream.length === 0 ? ("queued" as const) : ("planned" as const),
            job_id: null,
            materialization_id: null,
            error: null,
            started_at: null,
            finished_at: null,
          })),
        )
        .execute();
    }
    const roots = run.steps.filter((s) => s.upstream.length === 0).map((s) => ({
      asset_key: s.assetKey,
      partition_key: s.partitionKey,
      max_attempts: s.maxAttempts,
    }));
    await sql`select count(*) from jsonb_to_recordset(${
      JSON.stringify(roots)
    }::jsonb) as r(asset_key text, partition_key text, max_attempts int),
      lateral ingest.enqueue_step(r.asset_key, r.partition_key, r.max_attempts, ${run.traceparent ?? null}) job`
      .execute(tx);
  });
}

export interface Claim {
  /** The steps this job now runs; none when nothing waits any more or the asset partition is busy. */
  steps: RunStepRow[];
  /** Another job is materialising this asset partition right now. */
  busy: boolean;
  /** The asset's group already runs as many materialisations as its concurrency limit allows. */
  full: boolean;
  /** The latest materialisations of the assets read (the asset itself and its dependencies). */
  latest: VersionIndex;
}

/**
 * Claims every queued step of this asset partition, in any run, for one job execution (and, on a
 * retry of the same job, the steps it had claimed), with the versions staleness is judged on.
 */
export async function claimSteps(
  db: MetadataStore,
  jobId: string,
  ref: StepRef,
  readAssets: string[],
  group: { name: string; limit?: number },
  globalLimit?: number,
): Promise<Claim> {
  const { rows } = await sql<
    {
      claim: {
        steps: RunStepRow[];
        busy: boolean;
        full?: boolean;
        latest?: Parameters<typeof VersionIndex.fromRows>[0];
      };
    }
  >`
    select ingest.claim_steps(${jobId}, ${stepKeyOf(ref)}, ${readAssets}::text[], ${group.name}, ${
    group.limit ?? null
  }::int, ${globalLimit ?? null}::int) as claim`.execute(db);
  const { steps, busy, full, latest } = rows[0]!.claim;
  return { steps, busy, full: full ?? false, latest: VersionIndex.fromRows(latest ?? []) };
}

/** Whether a step of this asset partition waits in some run, queued, for a job to claim it. */
export async function hasQueuedSteps(db: MetadataStore, stepKey: string): Promise<boolean> {
  const { rows } = await sql<{ queued: boolean }>`
    select exists (select 1 from ingest.run_steps where step_key = ${stepKey} and status = 'queued') as queued`
    .execute(db);
  return rows[0]!.queued;
}

/** Asks again for a step's job after `delayMs`, joining a job already queued for it (which keeps its earlier time). */
export async function requeueStep(
  db: MetadataStore,
  ref: StepRef,
  job: { maxAttempts: number; traceparent?: string; delayMs: number },
): Promise<void> {
  await sql`select ingest.enqueue_step(${ref.assetKey}, ${ref.partitionKey}, ${job.maxAttempts}, ${
    job.traceparent ?? null
  }, ${Math.round(job.delayMs)})`.execute(db);
}

export interface MaterializationRecord {
  runId: string;
  codeVersion: string;
  dataVersion: string | null;
  dependencies: string[];
  upstreamVersions: Record<string, string>;
  upstreamEdges: UpstreamEdge[];
  counts: Record<string, number>;
  metadata: Record<string, unknown>;
  error: string | null;
  attempt: number;
  traceId: string | null;
  startedAt: Date;
  finishedAt: Date;
  checks: {
    name: string;
    passed: boolean;
    severity: "warn" | "error";
    description?: string;
    metadata?: Record<string, unknown>;
  }[];
}

export interface StepOutcome {
  jobId: string;
  ref: StepRef;
  /** succeeded (with a materialisation), fresh (an only-if-stale step that was up to date), failed, or canceled (its runs were). */
  status: Extract<StepStatus, "succeeded" | "fresh" | "failed" | "canceled">;
  materialization?: MaterializationRecord;
  error?: string;
}

/**
 * Finishes a job's steps in one transaction (`ingest.finish_steps`): records the materialisation,
 * queues each run's downstream steps whose upstreams are now all done (or skips them after a
 * failure), and closes the runs with nothing left.
 */
export async function finishSteps(db: MetadataStore, outcome: StepOutcome): Promise<void> {
  const { ref } = outcome;
  const m = outcome.materialization ? canonicalJson(redactedRecord(outcome.materialization)) : null;
  const error = outcome.error === undefined ? null : redactText(outcome.error).replaceAll("\u0000", "\uFFFD");
  await sql`select ingest.finish_steps(${outcome.jobId}, ${stepKeyOf(ref)}, ${ref.assetKey}, ${ref.partitionKey},
    ${outcome.status}, ${error}, ${m}::jsonb)`.execute(db);
}

/**
 * An attempt's record with its error and its checks' metadata redacted: an error quotes what failed (a URL
 * with its API key, a server's answer echoing a header), and what is stored here is shown to anyone who
 * asks (`ingest runs show`, the UI, the run's `error`), long after the process that knew the secret.
 */
function redactedRecord(m: MaterializationRecord): MaterializationRecord {
  return {
    ...m,
    error: m.error === null ? null : redactText(m.error),
    checks: m.checks.map((c) => (c.metadata ? { ...c, metadata: redact(c.metadata) as Record<string, unknown> } : c)),
  };
}

/** Records a failed attempt and puts the job's steps back in the queue for another after `delayMs`. */
export async function retrySteps(
  db: MetadataStore,
  retry: {
    jobId: string;
    ref: StepRef;
    materialization: MaterializationRecord;
    delayMs: number;
    maxAttempts: number;
    traceparent?: string;
  },
): Promise<void> {
  const { ref } = retry;
  await sql`select ingest.retry_steps(${retry.jobId}, ${stepKeyOf(ref)}, ${ref.assetKey}, ${ref.partitionKey},
    ${canonicalJson(redactedRecord(retry.materialization))}::jsonb, ${retry.delayMs}, ${retry.maxAttempts}, ${
    retry.traceparent ?? null
  })`.execute(db);
}
