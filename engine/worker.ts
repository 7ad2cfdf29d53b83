import { createHash } from "node:crypto";
import { Logger as GraphileLogger, run, runMigrations, type Runner, type Task } from "graphile-worker";
import type pg from "pg";
import { migrateToLatest } from "../db/migrate.ts";
import { logger } from "../resources/logger.ts";
import { metadataDb } from "../resources/postgres.ts";
import type { MaterializeResult } from "./asset.ts";
import type { AssetGraph } from "./definitions.ts";
import { ResourcePool } from "./resource.ts";
import {
  finishStep, latestDataVersions, materializeTask, type MetadataStore, recordAttemptError, startStep, type StepPayload,
} from "./store.ts";

/** graphile-worker's own log lines, through our pino logger; its per-job info lines are debug to us. */
const workerLogger = new GraphileLogger((scope) => (level, message, meta) => {
  const method = level === "warning" ? "warn" : level === "error" ? "error" : "debug";
  logger[method]({ ...scope, ...meta, component: "graphile-worker" }, message);
});

/** Installs or upgrades graphile-worker's schema and the metadata schema; every process may call it. */
export async function prepareDatabase(pool: pg.Pool): Promise<void> {
  await runMigrations({ pgPool: pool, logger: workerLogger });
  await migrateToLatest(metadataDb(pool));
}

/** The default data version: a hash of what the materialisation reported. */
function dataVersionOf(result: MaterializeResult): string {
  if (result.dataVersion) return result.dataVersion;
  const digest = createHash("sha256").update(JSON.stringify([result.counts ?? {}, result.metadata ?? {}]));
  return digest.digest("hex").slice(0, 16);
}

const errorText = (error: unknown) => (error instanceof Error ? error.stack ?? error.message : String(error));

/** The graphile-worker task that materialises one step of a run. */
export function materializeTaskHandler(graph: AssetGraph, db: MetadataStore, resources: ResourcePool): Task {
  const maxAttemptsOf = (key: string) => graph.byKey.get(key)?.retry.maxAttempts ?? 1;
  return async (payload, helpers) => {
    const step = payload as StepPayload;
    const asset = graph.byKey.get(step.assetKey);
    if (!asset) {
      await finishStep(db, { step, error: `asset '${step.assetKey}' is not defined in this worker's definitions`, maxAttemptsOf });
      return;
    }
    const started = await startStep(db, step);
    if (!started) return;
    const log = logger.child({ runId: step.runId, asset: step.assetKey, partition: step.partitionKey || undefined });
    const startedAt = new Date();
    try {
      const upstreamVersions = await latestDataVersions(db, asset.deps);
      log.info({ attempt: helpers.job.attempts }, "materializing");
      const result = await asset.materialize({
        runId: step.runId,
        assetKey: asset.key,
        partitionKey: step.partitionKey || undefined,
        resources: await resources.pick(asset.resources),
        upstreamVersions,
        log,
        signal: helpers.abortSignal ?? new AbortController().signal,
      });
      const finishedAt = new Date();
      const materialization = {
        codeVersion: asset.codeVersion,
        dataVersion: dataVersionOf(result),
        upstreamVersions,
        counts: result.counts ?? {},
        metadata: result.metadata ?? {},
        startedAt,
        finishedAt,
      };
      await finishStep(db, { step, materialization, maxAttemptsOf });
      log.info({ counts: materialization.counts, dataVersion: materialization.dataVersion, ms: finishedAt.getTime() - startedAt.getTime() }, "materialized");
    } catch (error) {
      log.error({ err: error, attempt: helpers.job.attempts }, "materialization failed");
      if (helpers.job.attempts < helpers.job.max_attempts) {
        await recordAttemptError(db, step, errorText(error));
        throw error;
      }
      await finishStep(db, { step, error: errorText(error), maxAttemptsOf });
    }
  };
}

export interface WorkerOptions {
  graph: AssetGraph;
  pool: pg.Pool;
  concurrency?: number;
  /** Leave SIGINT/SIGTERM handling to the caller (tests, an in-process worker). */
  handleSignals?: boolean;
}

export interface IngestWorker {
  runner: Runner;
  stop(): Promise<void>;
}

/** Starts a graphile-worker runner that materialises the steps of any run against these definitions. */
export async function startWorker(options: WorkerOptions): Promise<IngestWorker> {
  const resources = new ResourcePool(options.graph.definitions.resources);
  const db = metadataDb(options.pool);
  const runner = await run({
    pgPool: options.pool,
    concurrency: options.concurrency ?? 4,
    noHandleSignals: !(options.handleSignals ?? false),
    pollInterval: 1000,
    // Schedules are ours (schedules/), not graphile-worker's crontab file.
    crontab: "",
    logger: workerLogger,
    taskList: { [materializeTask]: materializeTaskHandler(options.graph, db, resources) },
  });
  return {
    runner,
    async stop() {
      await runner.stop();
      await resources.close();
    },
  };
}
