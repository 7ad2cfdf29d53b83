import { type Kysely, sql, type Transaction } from "kysely";
import type { MetadataDatabase, Run, RunStep, StepStatus } from "../db/schema.ts";
import type { UpstreamEdge } from "./staleness.ts";
import { type StepRef, stepKeyOf } from "./steps.ts";

export type MetadataStore = Kysely<MetadataDatabase>;
type Tx = Transaction<MetadataDatabase>;

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

/**
 * Enqueues a step's job inside the caller's transaction. The job key is the asset partition, not the
 * run: a second request for a step that is already queued joins that job instead of adding work,
 * and the one materialisation then serves every run waiting for it.
 */
async function enqueue(tx: Tx, job: StepJob, maxAttempts: number, delayMs = 0): Promise<void> {
  await sql`select graphile_worker.add_job(
      ${materializeTask}, ${JSON.stringify(job)}::json,
      run_at => now() + ${`${delayMs} milliseconds`}::interval,
      max_attempts => ${maxAttempts}, job_key => ${`ingest:${stepKeyOf(job)}`}, job_key_mode => 'preserve_run_at')`.execute(tx);
}

export interface NewRun {
  runId: string;
  selection: string;
  traceparent?: string;
  tags?: Record<string, string>;
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
        error: null,
        started_at: null,
        finished_at: empty ? new Date() : null,
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
            only_if_stale: s.onlyIfStale,
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
    for (const s of run.steps.filter((s) => s.upstream.length === 0)) {
      await enqueue(tx, { assetKey: s.assetKey, partitionKey: s.partitionKey, traceparent: run.traceparent }, s.maxAttempts);
    }
  });
}

/**
 * Claims every queued step of this asset partition, in any run, for one job execution (and, on a
 * retry of the same job, the steps it had claimed). Returns none when nothing waits any more.
 */
export async function claimSteps(db: MetadataStore, jobId: string, ref: StepRef): Promise<RunStep[]> {
  return db.transaction().execute(async (tx) => {
    const steps = await tx
      .updateTable("ingest.run_steps")
      .set((eb) => ({ status: "running", job_id: jobId, attempts: eb("attempts", "+", 1), started_at: sql`coalesce(started_at, now())` }))
      .where("step_key", "=", stepKeyOf(ref))
      .where((eb) => eb.or([eb("status", "=", "queued"), eb.and([eb("status", "=", "running"), eb("job_id", "=", jobId)])]))
      .returningAll()
      .execute();
    if (steps.length > 0) {
      await tx
        .updateTable("ingest.runs")
        .set({ status: "running", started_at: new Date() })
        .where("id", "in", [...new Set(steps.map((s) => s.run_id))])
        .where("status", "=", "queued")
        .execute();
    }
    return steps;
  });
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
  checks: { name: string; passed: boolean; severity: "warn" | "error"; description?: string; metadata?: Record<string, unknown> }[];
}

async function insertMaterialization(tx: Tx, ref: StepRef, m: MaterializationRecord): Promise<number> {
  const { id } = await tx
    .insertInto("ingest.materializations")
    .values({
      run_id: m.runId,
      asset_key: ref.assetKey,
      partition_key: ref.partitionKey,
      status: m.error === null ? "succeeded" : "failed",
      code_version: m.codeVersion,
      data_version: m.dataVersion,
      dependencies: m.dependencies,
      upstream_versions: JSON.stringify(m.upstreamVersions),
      counts: JSON.stringify(m.counts),
      metadata: JSON.stringify(m.metadata),
      error: m.error,
      attempt: m.attempt,
      trace_id: m.traceId,
      started_at: m.startedAt,
      finished_at: m.finishedAt,
      duration_ms: Math.round(m.finishedAt.getTime() - m.startedAt.getTime()),
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  if (m.error === null && m.upstreamEdges.length > 0) {
    for (let start = 0; start < m.upstreamEdges.length; start += 1_000) {
      await tx
        .insertInto("ingest.lineage_edges")
        .values(
          m.upstreamEdges.slice(start, start + 1_000).map((e) => ({
            materialization_id: id,
            upstream_asset: e.asset,
            upstream_partition: e.partition,
            upstream_materialization_id: e.materializationId,
            upstream_data_version: e.dataVersion,
          })),
        )
        .execute();
    }
  }
  if (m.checks.length > 0) {
    await tx
      .insertInto("ingest.asset_checks")
      .values(
        m.checks.map((c) => ({
          materialization_id: id,
          asset_key: ref.assetKey,
          partition_key: ref.partitionKey,
          check_name: c.name,
          passed: c.passed,
          severity: c.severity,
          description: c.description ?? null,
          metadata: JSON.stringify(c.metadata ?? {}),
        })),
      )
      .execute();
  }
  return Number(id);
}

/** Locks the runs a job serves, in id order so two jobs never wait on each other crosswise. */
async function lockRuns(tx: Tx, runIds: string[]): Promise<void> {
  await tx.selectFrom("ingest.runs").select("id").where("id", "in", runIds).orderBy("id").forUpdate().execute();
}

export interface StepOutcome {
  jobId: string;
  ref: StepRef;
  runIds: string[];
  /** succeeded (with a materialisation), fresh (an only-if-stale step that was up to date), or failed. */
  status: Extract<StepStatus, "succeeded" | "fresh" | "failed">;
  materialization?: MaterializationRecord;
  error?: string;
  maxAttemptsOf(assetKey: string): number;
}

/**
 * Finishes a job's steps: records the materialisation, queues each run's downstream steps whose
 * upstreams are now all done (or skips them after a failure), and closes runs with nothing left.
 * The runs are locked first: two upstreams of one step finishing at once would otherwise each see
 * the other still running, and the step would never be queued.
 */
export async function finishSteps(db: MetadataStore, outcome: StepOutcome): Promise<void> {
  const key = stepKeyOf(outcome.ref);
  await db.transaction().execute(async (tx) => {
    await lockRuns(tx, outcome.runIds);
    const materializationId = outcome.materialization ? await insertMaterialization(tx, outcome.ref, outcome.materialization) : null;
    await tx
      .updateTable("ingest.run_steps")
      .set({
        status: outcome.status,
        error: outcome.error ?? null,
        materialization_id: outcome.status === "failed" ? null : materializationId,
        finished_at: new Date(),
      })
      .where("step_key", "=", key)
      .where("job_id", "=", outcome.jobId)
      .where("status", "=", "running")
      .execute();
    if (outcome.status === "failed") {
      for (const runId of outcome.runIds) await skipDownstream(tx, runId, key);
    } else {
      await queueReadySteps(tx, outcome.runIds, key, outcome.maxAttemptsOf);
    }
    for (const runId of outcome.runIds) await closeRunIfDone(tx, runId);
  });
}

/** Puts a job's steps back in the queue for another attempt after `delayMs`, recording the failed one. */
export async function retrySteps(
  db: MetadataStore,
  outcome: { jobId: string; ref: StepRef; runIds: string[]; materialization: MaterializationRecord; delayMs: number; maxAttempts: number; traceparent?: string },
): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await insertMaterialization(tx, outcome.ref, outcome.materialization);
    await tx
      .updateTable("ingest.run_steps")
      .set({ status: "queued", error: outcome.materialization.error, job_id: null })
      .where("step_key", "=", stepKeyOf(outcome.ref))
      .where("job_id", "=", outcome.jobId)
      .where("status", "=", "running")
      .execute();
    // The running job still holds the key: graphile-worker then adds a new job rather than touching it.
    await enqueue(tx, { ...outcome.ref, traceparent: outcome.traceparent }, outcome.maxAttempts, outcome.delayMs);
  });
}

async function queueReadySteps(tx: Tx, runIds: string[], doneKey: string, maxAttemptsOf: (assetKey: string) => number): Promise<void> {
  const ready = await tx
    .updateTable("ingest.run_steps as s")
    .set({ status: "queued" })
    .where("s.run_id", "in", runIds)
    .where("s.status", "=", "planned")
    .where(sql<boolean>`${doneKey} = any(s.upstream)`)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom("ingest.run_steps as u")
            .select("u.step_key")
            .whereRef("u.run_id", "=", "s.run_id")
            .where(sql<boolean>`u.step_key = any(s.upstream)`)
            .where("u.status", "not in", ["succeeded", "fresh"]),
        ),
      ),
    )
    .returning(["s.asset_key", "s.partition_key", "s.run_id"])
    .execute();
  const runs = await tx.selectFrom("ingest.runs").select(["id", "traceparent"]).where("id", "in", runIds).execute();
  const traceOf = new Map(runs.map((r) => [r.id, r.traceparent ?? undefined]));
  const seen = new Set<string>();
  for (const step of ready) {
    const ref = { assetKey: step.asset_key, partitionKey: step.partition_key };
    if (seen.has(stepKeyOf(ref))) continue;
    seen.add(stepKeyOf(ref));
    await enqueue(tx, { ...ref, traceparent: traceOf.get(step.run_id) }, maxAttemptsOf(step.asset_key));
  }
}

/** Every planned step downstream of the failed one, transitively, is skipped with the reason. */
async function skipDownstream(tx: Tx, runId: string, failedKey: string): Promise<void> {
  await sql`
    with recursive blocked(step_key) as (
      select ${failedKey}::text
      union
      select s.step_key from ingest.run_steps s join blocked b on b.step_key = any(s.upstream) where s.run_id = ${runId}
    )
    update ingest.run_steps set status = 'skipped', error = ${`upstream step ${failedKey} failed`}, finished_at = now()
    where run_id = ${runId} and status = 'planned' and step_key in (select step_key from blocked)`.execute(tx);
}

async function closeRunIfDone(tx: Tx, runId: string): Promise<void> {
  const counts = await tx
    .selectFrom("ingest.run_steps")
    .select((eb) => [
      eb.fn.count<number>("step_key").filterWhere("status", "in", ["planned", "queued", "running"]).as("open"),
      eb.fn.count<number>("step_key").filterWhere("status", "=", "failed").as("failed"),
    ])
    .where("run_id", "=", runId)
    .executeTakeFirstOrThrow();
  if (Number(counts.open) > 0) return;
  const failed =
    Number(counts.failed) === 0
      ? []
      : await tx.selectFrom("ingest.run_steps").select(["step_key", "error"]).where("run_id", "=", runId).where("status", "=", "failed").execute();
  await tx
    .updateTable("ingest.runs")
    .set({
      status: failed.length === 0 ? "succeeded" : "failed",
      error: failed.length === 0 ? null : failed.map((f) => `${f.step_key}: ${f.error?.split("\n")[0]}`).join("\n"),
      finished_at: new Date(),
    })
    .where("id", "=", runId)
    .where("status", "in", ["queued", "running"])
    .execute();
}

export async function getRun(db: MetadataStore, runId: string): Promise<Run | undefined> {
  return db.selectFrom("ingest.runs").selectAll().where("id", "=", runId).executeTakeFirst();
}

export async function runSteps(db: MetadataStore, runId: string): Promise<RunStep[]> {
  return db.selectFrom("ingest.run_steps").selectAll().where("run_id", "=", runId).orderBy("started_at").orderBy("step_key").execute();
}

export async function listRuns(db: MetadataStore, limit = 20): Promise<Run[]> {
  return db.selectFrom("ingest.runs").selectAll().orderBy("created_at", "desc").limit(limit).execute();
}
