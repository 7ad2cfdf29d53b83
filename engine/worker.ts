import { EventEmitter } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { Logger as GraphileLogger, run, runMigrations, type Runner, type WorkerEvents } from "graphile-worker";
import type pg from "pg";
import { migrateToLatest } from "../db/migrate.ts";
import { logger } from "../resources/logger.ts";
import { metadataDb } from "../resources/postgres.ts";
import { initTracing } from "../resources/tracer.ts";
import { watchCancellations } from "./cancel.ts";
import type { AssetGraph } from "./asset-graph.ts";
import { materializeTaskHandler } from "./executor.ts";
import { InFlight, JobReleased } from "./in-flight.ts";
import {
  type Heartbeat,
  type LivenessOptions,
  livenessSettings,
  type ReleasedJob,
  returnJobs,
  startHeartbeat,
} from "./liveness.ts";
import { ResourcePool } from "./resource.ts";
import { finishSteps, materializeTask, type StepJob } from "./run-queue.ts";

/** graphile-worker's own log lines, through our pino logger; its per-job info lines are debug to us. */
export const workerLogger = new GraphileLogger((scope) => (level, message, meta) => {
  const method = level === "warning" ? "warn" : level === "error" ? "error" : "debug";
  logger[method]({ ...scope, ...meta, component: "graphile-worker" }, message);
});

/**
 * Installs or upgrades graphile-worker's schema and the metadata schema; every process may call it,
 * at once too. Run it once before the first `requestRun` or `startWorker` on a new database
 * (`ingest` commands do it themselves).
 *
 * @example
 * ```ts
 * const pool = createPool(settings().databaseUrl);
 * await prepareDatabase(pool);
 * ```
 */
export async function prepareDatabase(pool: pg.Pool): Promise<void> {
  await runMigrations({ pgPool: pool, logger: workerLogger });
  await migrateToLatest(metadataDb(pool));
}

/** Materialisations a worker runs at once unless told: `INGEST_WORKER_CONCURRENCY`, or 4. */
export function defaultConcurrency(): number {
  const concurrency = Number(process.env.INGEST_WORKER_CONCURRENCY ?? 4);
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new Error(
      `INGEST_WORKER_CONCURRENCY must be a whole number ≥ 1, not '${process.env.INGEST_WORKER_CONCURRENCY}'`,
    );
  }
  return concurrency;
}

/** What {@link startWorker} runs and how. */
export interface WorkerOptions {
  /** The assets it can materialise (`buildAssetGraph(definitions)`), and the resources they use. */
  graph: AssetGraph;
  /** The metadata database's pool (graphile-worker's queue is there too); the caller ends it after `stop()`. */
  pool: pg.Pool;
  /** Materialisations run at once by this worker (default `defaultConcurrency()`). */
  concurrency?: number;
  /** Leave SIGINT/SIGTERM handling to the caller (tests, an in-process worker). */
  handleSignals?: boolean;
  /** How often the queue is polled for jobs when no notification came, in milliseconds (default 1 000). */
  pollIntervalMs?: number;
  /** Heartbeat interval and the timeout after which other workers take a silent worker's jobs. */
  liveness?: LivenessOptions;
  /** How often in-flight materialisations are checked for canceled runs (default 1 s). */
  cancelPollMs?: number;
}

/** A running worker, from {@link startWorker}. */
export interface IngestWorker {
  /** graphile-worker's runner now: a new one after the worker reconnected (see {@link startWorker}). */
  readonly runner: Runner;
  /**
   * graphile-worker's pool id: `locked_by` of the jobs this worker holds, and its row in `ingest.workers`;
   * a new one after the worker reconnected.
   */
  readonly id: string;
  /** Settles when the worker has stopped for good: after `stop()`. */
  readonly done: Promise<void>;
  /** Stops taking jobs, waits for the in-flight ones to finish, and records the worker stopped. */
  stop(): Promise<void>;
  /**
   * Gives the in-flight jobs back to the queue for other workers, now (their steps keep their attempt
   * count), and tells their materialisations through `ctx.signal` to stop; for a `stop()` that takes too long.
   */
  returnJobs(): Promise<ReleasedJob[]>;
}

/** The waits before starting graphile-worker again after its connection to the queue failed: 1, 2, 5, 10, 30 s. */
const restartDelaysMs = [1_000, 2_000, 5_000, 10_000, 30_000];

/**
 * Starts a graphile-worker runner that materialises the steps of any run against these definitions,
 * `concurrency` at a time, until `stop()`. It records a heartbeat: if it dies, other workers take its
 * jobs after the liveness timeout. Resources are set up on first use and torn down by `stop()`. Call
 * {@link prepareDatabase} first on a new database.
 *
 * A restart of the database holding the queue does not end it: its pool waits for the database to come
 * back (`INGEST_DB_OUTAGE_MS`), and when graphile-worker gives up anyway (it could not record a job's
 * end), the worker gives that runner's jobs back to the queue and starts a new runner, with backoff,
 * until it connects again.
 *
 * @example
 * ```ts
 * const worker = await startWorker({ graph, pool, concurrency: 2 });
 * try {
 *   await waitForRun(db, await requestRun(db, graph, { selection: "*", keys: selectAssets(graph, "*") }));
 * } finally {
 *   await worker.stop();
 * }
 * ```
 */
export async function startWorker(options: WorkerOptions): Promise<IngestWorker> {
  const tracing = initTracing();
  const liveness = livenessSettings(options.liveness);
  const concurrency = options.concurrency ?? defaultConcurrency();
  const resources = new ResourcePool(options.graph.definitions.resources);
  const db = metadataDb(options.pool);
  const inFlight = new InFlight();
  const taskList = { [materializeTask]: materializeTaskHandler(options.graph, db, resources, inFlight) };

  /** One graphile-worker runner and what lives as long as it: its heartbeat, under its pool id. */
  async function startRunner(): Promise<{ runner: Runner; id: string; heartbeat: Heartbeat }> {
    const events: WorkerEvents = new EventEmitter();
    let id: string | undefined;
    events.on("pool:create", ({ workerPool }) => (id ??= workerPool.id));
    const runner = await run({
      pgPool: options.pool,
      concurrency,
      noHandleSignals: !(options.handleSignals ?? false),
      pollInterval: options.pollIntervalMs ?? 1000,
      logger: workerLogger,
      events,
      // Schedules are ours (schedules/), not graphile-worker's crontab file.
      crontab: "",
      taskList,
      // Batched (even with no delay), a job's end that cannot be recorded ends the runner cleanly —
      // which this worker then replaces — instead of an unhandled rejection that ends the process.
      preset: { worker: { completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
    });
    if (!id) throw new Error("graphile-worker started without announcing its worker pool");
    const workerId = id;
    // A job that failed for good in graphile-worker's hands (its own retries spent, e.g. the metadata
    // store unreachable) would leave its steps running forever: record them failed.
    runner.events.on("job:failed", ({ job, error }) => {
      // A released job is not failed: another worker runs it (under the same job id).
      if (job.task_identifier !== materializeTask || error instanceof JobReleased) return;
      const { assetKey, partitionKey } = job.payload as StepJob;
      const message = `the job failed ${job.attempts} times: ${error instanceof Error ? error.message : String(error)}`;
      finishSteps(db, {
        jobId: String(job.id),
        ref: { assetKey, partitionKey: partitionKey ?? "" },
        status: "failed",
        error: message,
      }).catch((e: unknown) => logger.error({ err: e, job: job.id }, "could not record a failed job's steps"));
    });
    // A job fetched before this first heartbeat is covered too: the sweep releases jobs of workers it
    // has no heartbeat of, once they have been locked for a whole timeout.
    const heartbeat = await startHeartbeat(db, { id: workerId, concurrency, inFlight }, liveness);
    return { runner, id: workerId, heartbeat };
  }

  let current = await startRunner();
  let stopping = false;
  const cancellations = watchCancellations(db, inFlight, options.cancelPollMs ?? 1_000);

  /** Until stop(): a runner that ends on its own is replaced. */
  async function supervise(): Promise<void> {
    while (true) {
      const ended = await current.runner.promise.then(() => undefined, (error: unknown) => error);
      if (stopping) return;
      const previous = current;
      logger.error(
        { err: ended, worker: previous.id },
        "graphile-worker stopped on its own (its queue connection failed): giving its jobs back and starting again",
      );
      await previous.heartbeat.stop().catch(() => {});
      inFlight.abortAll(new JobReleased(`worker ${previous.id} lost its queue connection`));
      for (let attempt = 0; !stopping; attempt++) {
        await sleep(restartDelaysMs[Math.min(attempt, restartDelaysMs.length - 1)]!);
        if (stopping) return;
        try {
          await returnJobs(db, previous.id, "the worker lost its queue connection before it finished");
          current = await startRunner();
          logger.info({ worker: current.id, previous: previous.id }, "worker started again");
          break;
        } catch (error) {
          logger.warn({ err: error, attempt: attempt + 1 }, "could not start the worker again; will retry");
        }
      }
    }
  }
  const done = supervise();

  return {
    get runner() {
      return current.runner;
    },
    get id() {
      return current.id;
    },
    done,
    async stop() {
      stopping = true;
      await current.runner.stop().catch(() => {});
      await done;
      await cancellations.stop();
      await current.heartbeat.stop();
      await resources.close();
      await tracing.forceFlush();
    },
    async returnJobs() {
      const workerId = current.id;
      const returned = await returnJobs(db, workerId, "the worker running it stopped before it finished");
      inFlight.abortAll(new JobReleased(`worker ${workerId} is stopping and returned its jobs to the queue`));
      return returned;
    },
  };
}
