import { type Kysely, sql, type Transaction } from "kysely";
import type { MetadataDatabase, Run, RunStep } from "../db/schema.ts";

export type MetadataStore = Kysely<MetadataDatabase>;
type Tx = Transaction<MetadataDatabase>;

export const materializeTask = "ingest.materialize";

export interface StepPayload {
  runId: string;
  assetKey: string;
  partitionKey: string;
}

export interface PlannedStep {
  assetKey: string;
  partitionKey: string;
  /** Keys of the steps in the same run that must succeed first. */
  upstream: string[];
  maxAttempts: number;
}

const stepJobKey = (s: StepPayload) => `ingest:${s.runId}:${s.assetKey}:${s.partitionKey}`;

/**
 * Enqueues a step's graphile-worker job inside the caller's transaction, so a step is queued exactly
 * when its state says so. The job key makes a second request for the same step a no-op.
 */
async function enqueueStep(tx: Tx, step: StepPayload, maxAttempts: number): Promise<void> {
  await sql`select graphile_worker.add_job(
      ${materializeTask}, ${JSON.stringify(step)}::json,
      max_attempts => ${maxAttempts}, job_key => ${stepJobKey(step)}, job_key_mode => 'preserve_run_at')`.execute(tx);
}

/** Records a run and its plan, and enqueues the steps that wait on nothing. */
export async function createRun(db: MetadataStore, runId: string, selection: string, steps: PlannedStep[]): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await tx.insertInto("ingest.runs").values({ id: runId, selection, status: "queued", traceparent: null, error: null, started_at: null, finished_at: null }).execute();
    if (steps.length === 0) {
      await tx.updateTable("ingest.runs").set({ status: "succeeded", finished_at: new Date() }).where("id", "=", runId).execute();
      return;
    }
    await tx
      .insertInto("ingest.run_steps")
      .values(
        steps.map((s) => ({
          run_id: runId,
          asset_key: s.assetKey,
          partition_key: s.partitionKey,
          upstream: s.upstream,
          status: s.upstream.length === 0 ? ("queued" as const) : ("planned" as const),
          error: null,
          started_at: null,
          finished_at: null,
        })),
      )
      .execute();
    for (const s of steps.filter((s) => s.upstream.length === 0)) {
      await enqueueStep(tx, { runId, assetKey: s.assetKey, partitionKey: s.partitionKey }, s.maxAttempts);
    }
  });
}

/** Marks a queued step running; undefined when the step is no longer runnable (canceled, done). */
export async function startStep(db: MetadataStore, step: StepPayload): Promise<RunStep | undefined> {
  return db.transaction().execute(async (tx) => {
    const started = await tx
      .updateTable("ingest.run_steps")
      .set((eb) => ({ status: "running", attempts: eb("attempts", "+", 1), started_at: sql`coalesce(started_at, now())` }))
      .where("run_id", "=", step.runId)
      .where("asset_key", "=", step.assetKey)
      .where("partition_key", "=", step.partitionKey)
      .where("status", "in", ["queued", "running"])
      .returningAll()
      .executeTakeFirst();
    if (started) {
      await tx
        .updateTable("ingest.runs")
        .set({ status: "running", started_at: new Date() })
        .where("id", "=", step.runId)
        .where("status", "=", "queued")
        .execute();
    }
    return started;
  });
}

export interface StepOutcome {
  step: StepPayload;
  /** For a failure: the error; downstream steps of the run are then skipped. */
  error?: string;
  /** Inserted in the same transaction as the step's success. */
  materialization?: {
    codeVersion: string;
    dataVersion: string;
    upstreamVersions: Record<string, string>;
    counts: Record<string, number>;
    metadata: Record<string, unknown>;
    startedAt: Date;
    finishedAt: Date;
  };
  maxAttemptsOf(assetKey: string): number;
}

/**
 * Finishes a step: records its materialisation or failure, queues the downstream steps whose
 * upstreams have now all succeeded (or skips them after a failure), and closes the run when nothing
 * is left. The run row is locked first: two upstreams of one step finishing at the same moment would
 * otherwise each see the other still running, and the step would never be queued.
 */
export async function finishStep(db: MetadataStore, outcome: StepOutcome): Promise<void> {
  const { step } = outcome;
  await db.transaction().execute(async (tx) => {
    await tx.selectFrom("ingest.runs").select("id").where("id", "=", step.runId).forUpdate().execute();
    const m = outcome.materialization;
    if (m) {
      await tx
        .insertInto("ingest.materializations")
        .values({
          run_id: step.runId,
          asset_key: step.assetKey,
          partition_key: step.partitionKey,
          code_version: m.codeVersion,
          data_version: m.dataVersion,
          upstream_versions: JSON.stringify(m.upstreamVersions),
          counts: JSON.stringify(m.counts),
          metadata: JSON.stringify(m.metadata),
          started_at: m.startedAt,
          finished_at: m.finishedAt,
          duration_ms: Math.round(m.finishedAt.getTime() - m.startedAt.getTime()),
        })
        .execute();
    }
    await tx
      .updateTable("ingest.run_steps")
      .set({ status: outcome.error === undefined ? "succeeded" : "failed", error: outcome.error ?? null, finished_at: new Date() })
      .where("run_id", "=", step.runId)
      .where("asset_key", "=", step.assetKey)
      .where("partition_key", "=", step.partitionKey)
      .execute();

    const steps = await tx.selectFrom("ingest.run_steps").selectAll().where("run_id", "=", step.runId).execute();
    if (outcome.error === undefined) {
      await queueReadySteps(tx, steps, outcome.maxAttemptsOf);
    } else {
      await skipDownstream(tx, steps, step.assetKey);
    }
    await closeRunIfDone(tx, step.runId);
  });
}

async function queueReadySteps(tx: Tx, steps: RunStep[], maxAttemptsOf: (key: string) => number): Promise<void> {
  const succeeded = new Set(steps.filter((s) => s.status === "succeeded").map((s) => s.asset_key));
  for (const s of steps) {
    if (s.status !== "planned" || !s.upstream.every((u) => succeeded.has(u))) continue;
    await tx
      .updateTable("ingest.run_steps")
      .set({ status: "queued" })
      .where("run_id", "=", s.run_id)
      .where("asset_key", "=", s.asset_key)
      .where("partition_key", "=", s.partition_key)
      .execute();
    await enqueueStep(tx, { runId: s.run_id, assetKey: s.asset_key, partitionKey: s.partition_key }, maxAttemptsOf(s.asset_key));
  }
}

/** Every planned step downstream of the failed one, transitively, is skipped with the reason. */
async function skipDownstream(tx: Tx, steps: RunStep[], failedKey: string): Promise<void> {
  const blocked = new Set([failedKey]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const s of steps) {
      if (!blocked.has(s.asset_key) && s.upstream.some((u) => blocked.has(u))) {
        blocked.add(s.asset_key);
        grew = true;
      }
    }
  }
  blocked.delete(failedKey);
  if (blocked.size === 0) return;
  await tx
    .updateTable("ingest.run_steps")
    .set({ status: "skipped", error: `upstream asset '${failedKey}' failed`, finished_at: new Date() })
    .where("run_id", "=", steps[0]!.run_id)
    .where("asset_key", "in", [...blocked])
    .where("status", "=", "planned")
    .execute();
}

async function closeRunIfDone(tx: Tx, runId: string): Promise<void> {
  const open = await tx
    .selectFrom("ingest.run_steps")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("run_id", "=", runId)
    .where("status", "in", ["planned", "queued", "running"])
    .executeTakeFirstOrThrow();
  if (Number(open.n) > 0) return;
  const failed = await tx
    .selectFrom("ingest.run_steps")
    .select(["asset_key", "error"])
    .where("run_id", "=", runId)
    .where("status", "=", "failed")
    .execute();
  await tx
    .updateTable("ingest.runs")
    .set({
      status: failed.length === 0 ? "succeeded" : "failed",
      error: failed.length === 0 ? null : failed.map((f) => `${f.asset_key}: ${f.error}`).join("\n"),
      finished_at: new Date(),
    })
    .where("id", "=", runId)
    .execute();
}

/** Records the error of an attempt that will be retried; the step stays running. */
export async function recordAttemptError(db: MetadataStore, step: StepPayload, error: string): Promise<void> {
  await db
    .updateTable("ingest.run_steps")
    .set({ error })
    .where("run_id", "=", step.runId)
    .where("asset_key", "=", step.assetKey)
    .where("partition_key", "=", step.partitionKey)
    .execute();
}

/** The data version each asset had at its latest materialisation (any partition key given). */
export async function latestDataVersions(db: MetadataStore, assetKeys: string[], partitionKey = ""): Promise<Record<string, string>> {
  if (assetKeys.length === 0) return {};
  const rows = await db
    .selectFrom("ingest.materializations")
    .distinctOn(["asset_key"])
    .select(["asset_key", "data_version"])
    .where("asset_key", "in", assetKeys)
    .where("partition_key", "=", partitionKey)
    .orderBy("asset_key")
    .orderBy("id", "desc")
    .execute();
  return Object.fromEntries(rows.map((r) => [r.asset_key, r.data_version]));
}

export async function getRun(db: MetadataStore, runId: string): Promise<Run | undefined> {
  return db.selectFrom("ingest.runs").selectAll().where("id", "=", runId).executeTakeFirst();
}

export async function runSteps(db: MetadataStore, runId: string): Promise<RunStep[]> {
  return db.selectFrom("ingest.run_steps").selectAll().where("run_id", "=", runId).orderBy("started_at").execute();
}
