import { Logger as GraphileLogger, run, runMigrations, type Runner } from "graphile-worker";
import type pg from "pg";
import { migrateToLatest } from "../db/migrate.ts";
import { logger } from "../resources/logger.ts";
import { metadataDb } from "../resources/postgres.ts";
import { initTracing } from "../resources/tracer.ts";
import type { AssetGraph } from "./definitions.ts";
import { materializeTaskHandler } from "./executor.ts";
import { ResourcePool } from "./resource.ts";
import { finishSteps, materializeTask, type StepJob } from "./store.ts";

/** graphile-worker's own log lines, through our pino logger; its per-job info lines are debug to us. */
export const workerLogger = new GraphileLogger((scope) => (level, message, meta) => {
  const method = level === "warning" ? "warn" : level === "error" ? "error" : "debug";
  logger[method]({ ...scope, ...meta, component: "graphile-worker" }, message);
});

/** Installs or upgrades graphile-worker's schema and the metadata schema; every process may call it. */
export async function prepareDatabase(pool: pg.Pool): Promise<void> {
  await runMigrations({ pgPool: pool, logger: workerLogger });
  await migrateToLatest(metadataDb(pool));
}

export interface WorkerOptions {
  graph: AssetGraph;
  pool: pg.Pool;
  concurrency?: number;
  /** Leave SIGINT/SIGTERM handling to the caller (tests, an in-process worker). */
  handleSignals?: boolean;
  pollIntervalMs?: number;
}

export interface IngestWorker {
  runner: Runner;
  stop(): Promise<void>;
}

/** Starts a graphile-worker runner that materialises the steps of any run against these definitions. */
export async function startWorker(options: WorkerOptions): Promise<IngestWorker> {
  const tracing = initTracing();
  const resources = new ResourcePool(options.graph.definitions.resources);
  const db = metadataDb(options.pool);
  const runner = await run({
    pgPool: options.pool,
    concurrency: options.concurrency ?? 4,
    noHandleSignals: !(options.handleSignals ?? false),
    pollInterval: options.pollIntervalMs ?? 1000,
    logger: workerLogger,
    // Schedules are ours (schedules/), not graphile-worker's crontab file.
    crontab: "",
    taskList: { [materializeTask]: materializeTaskHandler(options.graph, db, resources) },
  });
  // A job that failed for good in graphile-worker's hands (its own retries spent, e.g. the metadata
  // store unreachable) would leave its steps running forever: record them failed.
  runner.events.on("job:failed", ({ job, error }) => {
    if (job.task_identifier !== materializeTask) return;
    const { assetKey, partitionKey } = job.payload as StepJob;
    const message = `the job failed ${job.attempts} times: ${error instanceof Error ? error.message : String(error)}`;
    finishSteps(db, { jobId: String(job.id), ref: { assetKey, partitionKey: partitionKey ?? "" }, status: "failed", error: message }).catch((e: unknown) =>
      logger.error({ err: e, job: job.id }, "could not record a failed job's steps"),
    );
  });
  return {
    runner,
    async stop() {
      await runner.stop();
      await resources.close();
      await tracing.forceFlush();
    },
  };
}
