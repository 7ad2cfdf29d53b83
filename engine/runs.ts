import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";
import { sql } from "kysely";
import { camelCased } from "../db/camel-case.ts";
import { type CheckResult, checkResults } from "./checks.ts";
import type { MetadataStore, Run, RunStatus, RunStep } from "../db/schema.ts";
import { metadataDb } from "../resources/postgres.ts";
import { ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { initTracing } from "../resources/tracer.ts";
import { contextFromTraceparent, traceparentOf, withSpan } from "../resources/spans.ts";
import type { AssetGraph } from "./asset-graph.ts";
import { plan, type PlanRequest } from "./planner.ts";
import { createRun } from "./run-queue.ts";
import { fullRefreshTag } from "./run-tags.ts";
import { VersionIndex } from "./versions.ts";
import { startWorker, type WorkerOptions } from "./worker.ts";

/**
 * What {@link requestRun} takes: the asset keys to materialise (`keys`, from `selectAssets`), the
 * selection they came from, and how to run them; the planning fields are {@link PlanRequest}'s.
 */
export interface RunRequest extends Omit<PlanRequest, "index"> {
  /** The selection as the user wrote it, recorded with the run (it is not parsed: `keys` is what runs). */
  selection: string;
  /** Labels recorded with the run, which its assets see through `ctx.runs()`: `{ "ingest/file": "…" }`. */
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
  /** Traceparents of spans the run's trace relates to: the tick of a schedule or sensor that asked for it. */
  links?: string[];
}

/**
 * Plans and enqueues a run; any worker on the same database executes it. The run is one trace:
 * its root span is recorded here and each materialisation, in whatever process, is a child of it.
 * Resolves to the run's id. A priority out of range, or a plan that cannot be made (partitions for
 * unpartitioned assets, a partitioned asset without partitions, a window not yet ended), throws
 * before anything is recorded.
 *
 * @example
 * ```ts
 * const graph = buildAssetGraph(definitions);
 * const db = metadataDb(pool);
 * const runId = await requestRun(db, graph, { selection: "shop/products+", keys: selectAssets(graph, "shop/products+") });
 * const { run, steps } = await waitForRun(db, runId);
 * ```
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
  const links = (request.links ?? []).map((t) => trace.getSpanContext(contextFromTraceparent(t)))
    .filter((c) => c !== undefined).map((context) => ({ context }));
  // A run is a trace of its own, whatever span is active where it is requested (a tick's, a test's).
  await withSpan(`run ${request.selection}`, {
    parent: ROOT_CONTEXT,
    links,
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

/**
 * Resolves when the run has finished (succeeded, failed or canceled), with its final state and steps,
 * polling every `pollMs` milliseconds (default 200). A run that does not exist rejects. It waits
 * as long as the run takes: it needs a worker on the same database (`startWorker`, `ingest worker`).
 *
 * @example
 * ```ts
 * const { run, steps } = await waitForRun(db, runId);
 * if (run.status !== "succeeded") console.error(steps.filter((s) => s.status === "failed").map((s) => s.error));
 * ```
 */
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
  const row = await db.selectFrom("ingest.runs").selectAll().where("id", "=", runId).executeTakeFirst();
  return row && camelCased(row);
}

export async function runSteps(db: MetadataStore, runId: string): Promise<RunStep[]> {
  const rows = await db.selectFrom("ingest.run_steps").selectAll().where("run_id", "=", runId).orderBy("started_at")
    .orderBy("step_key").execute();
  return rows.map(camelCased);
}

/** Which runs {@link listRuns} gives. */
export interface RunFilter {
  /** Only runs of this status. */
  status?: RunStatus;
  /** Only runs with a step of this asset. */
  assetKey?: string;
  /** Only runs carrying this tag: `name` (any value) or `name=value`. */
  tag?: string;
  /** Only runs a schedule or sensor of this name requested. */
  instigator?: string;
}

/** The latest runs first, at most `limit`, of those `filter` lets through. */
export async function listRuns(db: MetadataStore, limit = 20, filter: RunFilter = {}): Promise<Run[]> {
  let query = db.selectFrom("ingest.runs").selectAll().orderBy("created_at", "desc").limit(limit);
  if (filter.status) query = query.where("status", "=", filter.status);
  if (filter.instigator) query = query.where(sql<boolean>`tags ->> 'ingest/instigator' = ${filter.instigator}`);
  if (filter.assetKey) {
    const assetKey = filter.assetKey;
    query = query.where((eb) =>
      eb.exists(
        eb.selectFrom("ingest.run_steps as s").select(sql.lit(1).as("one")).whereRef("s.run_id", "=", "ingest.runs.id")
          .where("s.asset_key", "=", assetKey),
      )
    );
  }
  if (filter.tag) {
    const [name, ...value] = filter.tag.split("=");
    query = value.length > 0
      ? query.where(sql<boolean>`tags ->> ${name} = ${value.join("=")}`)
      : query.where(sql<boolean>`tags ? ${name}`);
  }
  const rows = await query.execute();
  return rows.map(camelCased);
}

/** A step of a run with what its materialisation recorded (`ingest runs show`). */
export interface StepDetail extends RunStep {
  /** The counts of the step's materialisation (of its last attempt, when it failed). */
  counts: Record<string, number>;
  dataVersion: string | null;
  durationMs: number | null;
  traceId: string | null;
  checks: CheckResult[];
  /** Each attempt this run saw of the step, oldest first: when it ran and how it ended (a timeline's bars). */
  tries: StepTry[];
}

/** One attempt at a step, as its materialisation recorded it. */
export interface StepTry {
  /** Which attempt, from 1. */
  attempt: number;
  status: "succeeded" | "failed";
  startedAt: Date;
  finishedAt: Date;
  durationMs: number;
  /** The first line of its error, for a failed attempt. */
  error: string | null;
}

/**
 * A run and its steps, each with its materialisation's counts, data version, duration, trace and
 * check results: the succeeded materialisation the step recorded, else the last failed attempt of
 * the step in this run.
 */
export async function runDetails(
  db: MetadataStore,
  runId: string,
): Promise<{ run: Run; steps: StepDetail[] } | undefined> {
  const run = await getRun(db, runId);
  if (!run) return undefined;
  const steps = await runSteps(db, runId);
  const { rows } = await sql<
    {
      step_key: string;
      id: number;
      counts: Record<string, number>;
      data_version: string | null;
      duration_ms: number;
      trace_id: string | null;
    }
  >`select distinct on (s.step_key) s.step_key, m.id, m.counts, m.data_version, m.duration_ms, m.trace_id
    from ingest.run_steps s
    join ingest.materializations m on m.id = s.materialization_id
      or (s.materialization_id is null and m.run_id = s.run_id and m.asset_key = s.asset_key
        and m.partition_key = s.partition_key)
    where s.run_id = ${runId}
    order by s.step_key, m.id desc`.execute(db);
  const byStep = new Map(rows.map((r) => [r.step_key, r]));
  const checks = await checkResults(db, rows.map((r) => Number(r.id)));
  // A job serves every run waiting for its step: the attempts are those of the step's materialisation's
  // run, and the run's own attempts of the step.
  const { rows: attempts } = await sql<
    {
      step_key: string;
      attempt: number;
      status: "succeeded" | "failed";
      started_at: Date;
      finished_at: Date;
      duration_ms: number;
      error: string | null;
    }
  >`select s.step_key, m.attempt, m.status, m.started_at, m.finished_at, m.duration_ms, split_part(m.error, e'\n', 1) as error
    from ingest.run_steps s
    join ingest.materializations m on m.asset_key = s.asset_key and m.partition_key = s.partition_key
      and (m.run_id = s.run_id or m.id = s.materialization_id
        or m.run_id = (select run_id from ingest.materializations where id = s.materialization_id))
    where s.run_id = ${runId}
    order by s.step_key, m.id`.execute(db);
  const tries = Map.groupBy(attempts, (a) => a.step_key);
  return {
    run,
    steps: steps.map((step) => {
      const m = byStep.get(step.stepKey);
      return {
        ...step,
        counts: m?.counts ?? {},
        dataVersion: m?.data_version ?? null,
        durationMs: m?.duration_ms ?? null,
        traceId: m?.trace_id ?? null,
        checks: m ? checks.get(Number(m.id)) ?? [] : [],
        tries: (tries.get(step.stepKey) ?? []).map((t) => ({
          attempt: t.attempt,
          status: t.status,
          startedAt: t.started_at,
          finishedAt: t.finished_at,
          durationMs: t.duration_ms,
          error: t.error || null,
        })),
      };
    }),
  };
}

/** A run as `ingest runs show --json` and the UI give it: {@link runDetails}, with its trace's id and where to read it. */
export interface RunDescription {
  run: Run;
  steps: StepDetail[];
  /** The run's trace id (from the traceparent of its root span), when it was traced. */
  traceId?: string;
  /** The Jaeger query API's address of the trace, when a Jaeger is known. */
  traceUrl?: string;
}

/** {@link runDetails} with the run's trace id and, given where traces are read (`traceUrlOf`), its address. */
export async function describeRun(
  db: MetadataStore,
  runId: string,
  traceUrl?: (traceId: string) => string,
): Promise<RunDescription | undefined> {
  const details = await runDetails(db, runId);
  if (!details) return undefined;
  const traceId = details.run.traceparent?.split("-")[1];
  return { ...details, traceId, traceUrl: traceId && traceUrl ? traceUrl(traceId) : undefined };
}
