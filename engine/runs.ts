import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";
import type { MetadataStore, Run, RunStep } from "../db/schema.ts";
import { metadataDb } from "../resources/postgres.ts";
import { initTracing, traceparentOf, withSpan } from "../resources/tracer.ts";
import type { AssetGraph } from "./asset-graph.ts";
import { plan, type PlanRequest } from "./planner.ts";
import { createRun } from "./run-queue.ts";
import { VersionIndex } from "./versions.ts";
import { startWorker, type WorkerOptions } from "./worker.ts";

export interface RunRequest extends Omit<PlanRequest, "index"> {
  /** The selection as the user wrote it, recorded with the run. */
  selection: string;
  tags?: Record<string, string>;
  /** The run's id, when the caller must know it before the run exists (the daemon retries a request under the same id, so it is made once). */
  runId?: string;
  /** graphile-worker's priority for the run's jobs, from -32768 to 32767: lower runs first (default 0). */
  priority?: number;
  /**
   * Incremental assets reload everything they read instead of what changed since their last load
   * (`ingest materialize --full-refresh`, after a store was wiped by hand). Recorded as the run's
   * tag `ingest/full_refresh`.
   */
  fullRefresh?: boolean;
}

/** The tag of a run that asked for a full refresh; `ctx.runs()` shows it to the assets. */
export const fullRefreshTag = "ingest/full_refresh";

/**
 * Plans and enqueues a run; any worker on the same database executes it. The run is one trace:
 * its root span is recorded here and each materialisation, in whatever process, is a child of it.
 */
export async function requestRun(db: MetadataStore, graph: AssetGraph, request: RunRequest): Promise<string> {
  const priority = request.priority ?? 0;
  if (!Number.isInteger(priority) || priority < -32768 || priority > 32767) {
    throw new Error(`a run's priority is a whole number from -32768 to 32767, not ${request.priority}`);
  }
  initTracing();
  const runId = request.runId ?? randomUUID();
  const index = request.staleOnly ? await VersionIndex.load(db) : undefined;
  const steps = plan(graph, { ...request, index });
  await withSpan(`run ${request.selection}`, {
    attributes: { "ingest.run": runId, "ingest.selection": request.selection, "ingest.steps": steps.length },
  }, async () => {
    await createRun(db, {
      runId,
      selection: request.selection,
      traceparent: traceparentOf(),
      tags: request.fullRefresh ? { ...request.tags, [fullRefreshTag]: "true" } : request.tags,
      priority,
      steps,
    });
  });
  return runId;
}

const finished = new Set(["succeeded", "failed", "canceled"]);

/** Resolves when the run has finished, with its final state and steps. */
export async function waitForRun(
  db: MetadataStore,
  runId: string,
  pollMs = 200,
): Promise<{ run: Run; steps: RunStep[] }> {
  for (;;) {
    const run = await getRun(db, runId);
    if (!run) throw new Error(`run ${runId} does not exist`);
    if (finished.has(run.status)) return { run, steps: await runSteps(db, runId) };
    await sleep(pollMs);
  }
}

/**
 * Requests a run and executes it with a worker in this process until it finishes, as
 * `ingest materialize --wait` does; other workers on the same database may take part.
 */
export async function runInProcess(
  pool: pg.Pool,
  graph: AssetGraph,
  request: RunRequest,
  worker: Omit<WorkerOptions, "graph" | "pool"> = {},
): Promise<{ run: Run; steps: RunStep[] }> {
  const db = metadataDb(pool);
  const running = await startWorker({ ...worker, graph, pool });
  try {
    return await waitForRun(db, await requestRun(db, graph, request));
  } finally {
    await running.stop();
  }
}

export async function getRun(db: MetadataStore, runId: string): Promise<Run | undefined> {
  return db.selectFrom("ingest.runs").selectAll().where("id", "=", runId).executeTakeFirst();
}

export async function runSteps(db: MetadataStore, runId: string): Promise<RunStep[]> {
  return db.selectFrom("ingest.run_steps").selectAll().where("run_id", "=", runId).orderBy("started_at").orderBy(
    "step_key",
  ).execute();
}

export async function listRuns(db: MetadataStore, limit = 20): Promise<Run[]> {
  return db.selectFrom("ingest.runs").selectAll().orderBy("created_at", "desc").limit(limit).execute();
}
