import { setTimeout as sleep } from "node:timers/promises";
import { SpanStatusCode, trace } from "@opentelemetry/api";
import type { JobHelpers, Task } from "graphile-worker";
import type { MetadataStore, RunStepRow } from "../db/schema.ts";
import { unreachableStore } from "../resources/connection-errors.ts";
import { type Logger, logger } from "../resources/logger.ts";
import { metrics } from "../resources/metrics.ts";
import { contextFromTraceparent, withSpan } from "../resources/spans.ts";
import { type AssetDefinition, type MaterializeContext, type MaterializeResult, retryDelayMs } from "./asset.ts";
import { dataVersionOf, reconcile } from "./counts.ts";
import { DeadLetterSink } from "./dead-letters.ts";
import type { AssetGraph } from "./asset-graph.ts";
import { InFlight, JobReleased, RunCanceled } from "./in-flight.ts";
import { StepProgress } from "./progress.ts";
import type { ResourcePool } from "./resource.ts";
import { currentUpstreamVersions, stalenessOf } from "./staleness.ts";
import { observedSourceKey, type VersionIndex } from "./versions.ts";
import { observeAsset, recordObservation } from "./observations.ts";
import { stepKeyOf, type StepRef } from "./steps.ts";
import {
  claimSteps,
  finishSteps,
  hasQueuedSteps,
  type MaterializationRecord,
  requeueStep,
  retrySteps,
  type StepJob,
} from "./run-queue.ts";

const errorText = (error: unknown) => (error instanceof Error ? error.stack ?? error.message : String(error));

/** The materialisation ran, and a check of severity `error` did not pass. */
class BlockingChecksFailed extends Error {
  override name = "BlockingChecksFailed";
  readonly checks: MaterializationRecord["checks"];
  constructor(checks: MaterializationRecord["checks"], failed: string[]) {
    super(`blocking check${failed.length > 1 ? "s" : ""} failed: ${failed.join(", ")}`);
    this.checks = checks;
  }
}

/** What a worker's task handler works with. */
interface WorkerServices {
  graph: AssetGraph;
  db: MetadataStore;
  resources: ResourcePool;
}

async function runChecks<R>(asset: AssetDefinition<R>, ctx: MaterializeContext<R>, result: MaterializeResult) {
  const results: MaterializationRecord["checks"] = [];
  for (const check of asset.checks) {
    const outcome = await check.check({ ...ctx, result }).catch((error: unknown) => ({
      passed: false,
      metadata: { error: errorText(error) },
    }));
    results.push({ name: check.name, severity: check.severity ?? "warn", description: check.description, ...outcome });
  }
  return results;
}

async function execute(
  services: WorkerServices,
  asset: AssetDefinition,
  ref: StepRef,
  steps: RunStepRow[],
  index: VersionIndex,
  jobId: string,
  traceparent: string | undefined,
  signal: AbortSignal,
) {
  const { graph, db } = services;
  const runIds = [...new Set(steps.map((s) => s.run_id))];
  const attempt = Math.max(...steps.map((s) => s.attempts));
  const log = logger.child({ runIds, asset: asset.key, partition: ref.partitionKey || undefined, attempt });

  // An observable source is observed first: whether it is stale may depend on it, and its materialisation
  // records the version it saw (observed before extracting, so a change during the extract makes it stale again).
  const observed = asset.observe ? await observeBeforeMaterializing(services, asset, signal, log) : undefined;
  if (observed !== undefined) index.observe(asset.key, observed);
  if (steps.every((s) => s.only_if_stale) && stalenessOf(graph, index, ref).length === 0) {
    log.info("fresh: upstream data versions unchanged, not materialising");
    await finishSteps(db, { jobId, ref, status: "fresh" });
    metrics.materializations.inc({ asset: asset.key, outcome: "fresh" });
    return;
  }
  const attemptEnded = (outcome: string) => {
    metrics.materializations.inc({ asset: asset.key, outcome });
    metrics.materializationSeconds.observe(
      { asset: asset.key, outcome },
      (Date.now() - startedAt.getTime()) / 1000,
    );
  };

  const { versions, edges } = currentUpstreamVersions(graph, index, ref);
  if (observed !== undefined) versions[observedSourceKey] = observed;
  const startedAt = new Date();
  const record = (fields: Partial<MaterializationRecord>): MaterializationRecord => ({
    runId: runIds[0]!,
    codeVersion: asset.codeVersion,
    dataVersion: null,
    dependencies: asset.deps,
    upstreamVersions: versions,
    upstreamEdges: edges,
    counts: {},
    metadata: {},
    error: null,
    attempt,
    traceId: trace.getActiveSpan()?.spanContext().traceId ?? null,
    startedAt,
    finishedAt: new Date(),
    checks: [],
    ...fields,
  });
  const progress = new StepProgress(db, ref);
  const deadLetters = new DeadLetterSink(db, {
    runId: runIds[0]!,
    assetKey: asset.key,
    partitionKey: ref.partitionKey,
  });
  try {
    // deno-lint-ignore no-explicit-any -- the resources the asset declared, whatever their types
    const ctx: MaterializeContext<any> = {
      runId: runIds[0]!,
      assetKey: asset.key,
      partitionKey: ref.partitionKey || undefined,
      resources: await services.resources.pick(asset.resources),
      upstreamVersions: versions,
      log,
      signal,
      deadLetter: (letter) => deadLetters.add(letter),
      commitDeadLettersWith: (client) => deadLetters.flushOn(client),
      runs: async () =>
        (await db.selectFrom("ingest.runs").select(["id", "tags"]).where("id", "in", runIds).orderBy("created_at")
          .execute()).map((r) => ({ runId: r.id, tags: r.tags })),
      progress: (done, total) => progress.report(done, total),
    };
    log.debug("materializing");
    const result = reconcile(
      await materializeRidingOutages(asset, ctx, deadLetters).finally(() => progress.end()),
      deadLetters.count,
    );
    await deadLetters.flush();
    if (result.counts?.extracted !== undefined && !result.partialExtract) await deadLetters.supersedeEarlier();
    const checks = await runChecks(asset, ctx, result);
    const blocking = checks.filter((c) => !c.passed && c.severity === "error");
    if (blocking.length > 0) throw new BlockingChecksFailed(checks, blocking.map((c) => c.name));
    const materialization = record({
      dataVersion: dataVersionOf(result),
      counts: result.counts ?? {},
      metadata: result.metadata ?? {},
      checks,
    });
    InFlight.assertHeld(signal);
    // The counts as the store records them, so a trace and `ingest runs show` say the same.
    trace.getActiveSpan()?.setAttributes({
      ...Object.fromEntries(Object.entries(materialization.counts).map(([k, n]) => [`ingest.counts.${k}`, n])),
      "ingest.data_version": materialization.dataVersion ?? "",
      "ingest.checks.failed": checks.filter((c) => !c.passed).length,
    });
    await finishSteps(db, { jobId, ref, status: "succeeded", materialization });
    attemptEnded("succeeded");
    for (const [kind, n] of Object.entries(materialization.counts)) {
      if (n > 0) metrics.records.inc({ asset: asset.key, kind }, n);
    }
    log.info({
      counts: materialization.counts,
      dataVersion: materialization.dataVersion,
      ms: materialization.finishedAt.getTime() - startedAt.getTime(),
    }, "materialized");
  } catch (error) {
    // The failure is recorded (and retried) here; only a failure to record it, or a job that is no
    // longer this worker's, reaches graphile-worker.
    const span = trace.getActiveSpan();
    span?.recordException(error as Error);
    span?.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
    await deadLetters.discard();
    InFlight.assertHeld(signal);
    if (signal.reason instanceof RunCanceled) {
      log.warn("materialization stopped: its run was canceled");
      await finishSteps(db, { jobId, ref, status: "canceled", error: "run canceled" });
      attemptEnded("canceled");
      return;
    }
    // A blocking check's failure is recorded with every check's result, so `status` can say which failed and why.
    const failed = record({
      error: errorText(error),
      checks: error instanceof BlockingChecksFailed ? error.checks : [],
    });
    if (attempt < asset.retry.maxAttempts) {
      const delayMs = retryDelayMs(asset.retry, attempt);
      log.warn({ err: error, retryInMs: delayMs }, "materialization failed; will retry");
      await retrySteps(db, {
        jobId,
        ref,
        materialization: failed,
        delayMs,
        maxAttempts: asset.retry.maxAttempts,
        traceparent,
      });
      attemptEnded("retried");
    } else {
      log.error({ err: error }, "materialization failed; no attempts left");
      await finishSteps(db, { jobId, ref, status: "failed", materialization: failed, error: failed.error! });
      attemptEnded("failed");
    }
  }
}

/** How long a materialisation waits for a store or source it cannot reach: `INGEST_STORE_OUTAGE_MS`, or 5 minutes. */
export function storeOutageMs(): number {
  const ms = Number(process.env.INGEST_STORE_OUTAGE_MS ?? 300_000);
  if (!Number.isFinite(ms) || ms < 0) {
    throw new Error(
      `INGEST_STORE_OUTAGE_MS must be a number of milliseconds ≥ 0, not '${process.env.INGEST_STORE_OUTAGE_MS}'`,
    );
  }
  return ms;
}

/** The waits before materialising again while a store is unreachable: 1, 2, 5 s, then every 10 s. */
const outageDelaysMs = [1_000, 2_000, 5_000, 10_000];

/**
 * The materialisation, run again while it fails because a store or source cannot be reached (Neo4j,
 * Chroma or a database restarting, an API down: see `unreachableStore`), for up to {@link storeOutageMs}:
 * a scheduled run rides out an outage instead of failing and waiting for the next schedule. Repeating
 * is what a retry attempt does anyway (every materialisation is idempotent), but an outage spends no
 * attempt. The dead letters of the cut-short attempt are discarded; a canceled run stops the wait.
 */
async function materializeRidingOutages(
  asset: AssetDefinition,
  // deno-lint-ignore no-explicit-any -- the resources the asset declared, whatever their types
  ctx: MaterializeContext<any>,
  deadLetters: DeadLetterSink,
): Promise<MaterializeResult> {
  const since = Date.now();
  for (let attempt = 0;; attempt++) {
    try {
      return await asset.materialize(ctx);
    } catch (error) {
      const unreachable = unreachableStore(error);
      const waitedMs = Date.now() - since;
      const budgetMs = storeOutageMs();
      if (!unreachable || ctx.signal.aborted || waitedMs >= budgetMs) throw error;
      const delayMs = Math.min(outageDelaysMs[Math.min(attempt, outageDelaysMs.length - 1)]!, budgetMs - waitedMs);
      ctx.log.warn(
        { err: error, waitedMs, budgetMs, retryInMs: delayMs },
        `unreachable: ${unreachable} — materialising again in ${delayMs / 1000} s`,
      );
      metrics.storeOutageRetries.inc({ asset: asset.key });
      await deadLetters.discard();
      await sleep(delayMs, undefined, { signal: ctx.signal });
    }
  }
}

/** The source's version now, recorded as the latest observation; undefined (and a warning) when observing fails. */
async function observeBeforeMaterializing(
  services: WorkerServices,
  asset: AssetDefinition,
  signal: AbortSignal,
  log: Logger,
): Promise<string | undefined> {
  try {
    const version = await observeAsset(asset, services.resources, signal);
    await recordObservation(services.db, asset.key, { version });
    return version;
  } catch (error) {
    log.warn({ err: error }, "observing the source failed; materialising without its version");
    await recordObservation(services.db, asset.key, { error: (error as Error)?.message ?? String(error) });
    return undefined;
  }
}

/** How soon a job of an asset this worker does not know is offered again (to any worker). */
const unknownAssetRetryMs = 5_000;

/** The graphile-worker task that materialises one asset partition for every run waiting on it. */
export function materializeTaskHandler(
  graph: AssetGraph,
  db: MetadataStore,
  resources: ResourcePool,
  inFlight: InFlight,
): Task {
  return async (payload: unknown, helpers: JobHelpers) => {
    const job = payload as StepJob;
    const ref: StepRef = { assetKey: job.assetKey, partitionKey: job.partitionKey ?? "" };
    const key = stepKeyOf(ref);
    const jobId = String(helpers.job.id);
    const asset = graph.byKey.get(ref.assetKey);
    if (!asset) {
      // A worker with other definitions may know it (one deployed after this one, or another project's on
      // this database): the job goes back to the queue for it, without spending an attempt. Failing it would
      // leave the step queued with no job, and its run unfinished, once graphile-worker gave up.
      logger.warn(
        { asset: ref.assetKey, job: jobId, retryInMs: unknownAssetRetryMs },
        "this worker's definitions do not have this asset: leaving its job to a worker whose do",
      );
      await requeueStep(db, ref, {
        maxAttempts: helpers.job.max_attempts,
        traceparent: job.traceparent,
        delayMs: unknownAssetRetryMs,
      });
      return;
    }
    const group = { name: asset.group, limit: graph.definitions.concurrency?.groups?.[asset.group] };
    const { steps, busy, full, latest } = await claimSteps(
      db,
      jobId,
      ref,
      [asset.key, ...asset.deps],
      group,
      graph.definitions.concurrency?.global,
    );
    if (steps.length === 0) {
      if (busy || full) {
        // Another job is materialising this asset partition (for an earlier request), or its group is
        // at its limit: try again shortly (spread out, so waiting jobs do not all come back at once).
        await requeueStep(db, ref, {
          maxAttempts: asset.retry.maxAttempts,
          traceparent: job.traceparent,
          delayMs: busy ? 1_000 : 500 + Math.random() * 1_000,
        });
      }
      return;
    }
    metrics.jobPickupSeconds.observe(Math.max(0, Date.now() - new Date(helpers.job.run_at).getTime()) / 1000);
    const execution = inFlight.start(jobId, helpers.job.attempts);
    try {
      await withSpan(
        `materialize ${key}`,
        {
          parent: contextFromTraceparent(job.traceparent),
          attributes: {
            "ingest.asset": asset.key,
            "ingest.partition": ref.partitionKey,
            "ingest.runs": steps.map((s) => s.run_id).join(","),
            "ingest.job": jobId,
            "ingest.attempt": Math.max(...steps.map((s) => s.attempts)),
          },
        },
        () =>
          execute(
            { graph, db, resources },
            asset,
            ref,
            steps,
            latest,
            jobId,
            job.traceparent,
            execution.controller.signal,
          ),
      );
    } catch (error) {
      // graphile-worker fails a job by worker id: if this worker fetched the released job again, failing
      // it now would unlock that newer execution. It fails (as a no-op) once that one has ended.
      if (error instanceof JobReleased) await inFlight.untilAlone(execution);
      throw error;
    } finally {
      inFlight.end(execution);
    }
    // A run that asked for this asset partition while the job ran can have its request folded into this
    // job by graphile-worker (the same job key) after the job had claimed its steps: its step is left
    // queued with no job. Ask for a job for what is still queued.
    if (await hasQueuedSteps(db, key)) {
      await requeueStep(db, ref, { maxAttempts: asset.retry.maxAttempts, traceparent: job.traceparent, delayMs: 0 });
    }
  };
}
