import { hostname } from "node:os";
import { sql } from "kysely";
import { logger } from "../resources/logger.ts";
import { type InFlight, JobReleased } from "./in-flight.ts";
import { camelCased } from "../db/camel-case.ts";
import type { MetadataStore, Worker } from "../db/schema.ts";

/**
 * How a worker shows it is alive. graphile-worker leaves a dead worker's jobs locked for 4 hours;
 * here every worker records a heartbeat, and every worker sweeps for workers whose heartbeat is
 * older than their timeout and releases their jobs. With the defaults a SIGKILLed worker's jobs run
 * again within timeout + heartbeat (35 s) of its last heartbeat, plus the poll interval.
 */
export interface LivenessOptions {
  /** How often the worker records that it is alive and sweeps for dead workers (default 5 s, `INGEST_HEARTBEAT_MS`). */
  heartbeatMs?: number;
  /** After how long without a heartbeat its jobs are given to other workers (default 30 s, `INGEST_WORKER_TIMEOUT_MS`); at least 3 heartbeats. */
  timeoutMs?: number;
}

export function livenessSettings(options: LivenessOptions = {}): Required<LivenessOptions> {
  const heartbeatMs = options.heartbeatMs ?? Number(process.env.INGEST_HEARTBEAT_MS ?? 5_000);
  const timeoutMs = options.timeoutMs ?? Number(process.env.INGEST_WORKER_TIMEOUT_MS ?? 30_000);
  if (!(heartbeatMs >= 100) || !(timeoutMs >= 3 * heartbeatMs)) {
    throw new Error(
      `worker liveness: the heartbeat (${heartbeatMs} ms) must be at least 100 ms and the timeout (${timeoutMs} ms) at least 3 heartbeats`,
    );
  }
  return { heartbeatMs, timeoutMs };
}

/** A job given back to the queue, and the worker that held it. */
export interface ReleasedJob {
  /** The worker's id (graphile-worker's pool id). */
  worker: string;
  /** graphile-worker's job id. */
  job: number;
}

/**
 * Releases the materialisation jobs of workers whose heartbeat is older than their timeout (and of
 * workers that never recorded one, once a job has been locked that long), and fails steps left
 * running by a job that is gone. Every worker calls it each heartbeat; a daemon may too.
 */
export async function releaseDeadWorkers(db: MetadataStore, timeoutMs: number): Promise<ReleasedJob[]> {
  const { rows } = await sql<{ released: ReleasedJob[] }>`select ingest.release_dead_workers(${timeoutMs}) as released`
    .execute(db);
  return rows[0]!.released;
}

/** Gives a stopping worker's jobs back to the queue now, without spending an attempt of their steps. */
export async function returnJobs(db: MetadataStore, workerId: string, reason: string): Promise<ReleasedJob[]> {
  const { rows } = await sql<{ released: ReleasedJob[] }>`select ingest.release_worker_jobs(${[
    workerId,
  ]}::text[], ${reason}, false) as released`.execute(db);
  return rows[0]!.released;
}

export interface Heartbeat {
  stop(): Promise<void>;
}

/**
 * Records the worker (graphile-worker's pool id, which its jobs' `locked_by` holds) and keeps it
 * alive. Each beat also aborts, as `JobReleased`, in-flight materialisations whose job another
 * worker's sweep released; and when no beat got through for a whole timeout, all of them, since
 * others may be running their jobs by now.
 */
export async function startHeartbeat(
  db: MetadataStore,
  worker: { id: string; concurrency: number; inFlight: InFlight },
  settings: Required<LivenessOptions>,
): Promise<Heartbeat> {
  const register = () =>
    sql`insert into ingest.workers (id, host, pid, concurrency, heartbeat_ms, timeout_ms, last_seen)
      values (${worker.id}, ${hostname()}, ${process.pid}, ${worker.concurrency}, ${settings.heartbeatMs}, ${settings.timeoutMs}, now())
      on conflict (id) do update set last_seen = now(), stopped_at = null`.execute(db);
  await register();
  let lastBeat = Date.now();
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let beating: Promise<void> = Promise.resolve();

  const beat = async () => {
    const executions = worker.inFlight.executions;
    try {
      // An execution is lost when its job is locked by another worker, gone, or fetched again since
      // (graphile-worker counts fetches in attempts; a released job may come back to this very worker).
      const { rows } = await sql<{ known: boolean; lost: { jobId: string; attempts: number }[] }>`
        with beat as (update ingest.workers set last_seen = now() where id = ${worker.id} returning id)
        select exists (select 1 from beat) as known, (
          select coalesce(jsonb_agg(jsonb_build_object('jobId', e.id::text, 'attempts', e.attempts)), '[]')
          from unnest(${executions.map((e) => e.jobId)}::bigint[], ${
        executions.map((e) => e.attempts)
      }::int[]) e(id, attempts)
          left join graphile_worker.jobs j on j.id = e.id
          where j.id is null or j.locked_by is distinct from ${worker.id} or j.attempts <> e.attempts) as lost`.execute(
        db,
      );
      lastBeat = Date.now();
      if (!rows[0]!.known) await register();
      for (const { jobId, attempts } of rows[0]!.lost) {
        logger.error(
          { job: jobId, worker: worker.id },
          "this job was released to other workers (this worker missed its heartbeats): abandoning it",
        );
        worker.inFlight.abort(
          jobId,
          new JobReleased(`job ${jobId} was released to other workers: worker ${worker.id} missed its heartbeats`),
          attempts,
        );
      }
      const released = await releaseDeadWorkers(db, settings.timeoutMs);
      if (released.length > 0) logger.warn({ released }, "released the jobs of workers that stopped heartbeating");
    } catch (error) {
      logger.warn({ err: error, worker: worker.id }, "heartbeat failed");
      if (Date.now() - lastBeat > settings.timeoutMs) {
        worker.inFlight.abortAll(
          new JobReleased(
            `worker ${worker.id} could not record a heartbeat for ${settings.timeoutMs} ms: other workers may be running its jobs`,
          ),
        );
      }
    }
  };
  const schedule = () => {
    timer = setTimeout(() => {
      beating = beat().finally(() => {
        if (!stopped) schedule();
      });
    }, settings.heartbeatMs);
    timer.unref?.();
  };
  // The first sweep right away: a worker started after a crash releases what it can at once.
  beating = releaseDeadWorkers(db, settings.timeoutMs).then(
    () => undefined,
    (error: unknown) => logger.warn({ err: error }, "liveness sweep failed"),
  );
  schedule();

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await beating;
      await sql`update ingest.workers set stopped_at = now(), last_seen = now() where id = ${worker.id}`.execute(db);
    },
  };
}

/** Workers on this database that have not stopped and whose last heartbeat is within their timeout. */
export async function countLiveWorkers(db: MetadataStore): Promise<number> {
  const { rows } = await sql<{ live: number }>`
    select count(*)::int as live from ingest.workers
    where stopped_at is null and last_seen > now() - timeout_ms * interval '1 millisecond'`.execute(db);
  return rows[0]!.live;
}

/** A worker process as `ingest workers` shows it: `live`, `stopped` (it exited cleanly) or `dead` (silent past its timeout). */
export interface WorkerState extends Worker {
  state: "live" | "stopped" | "dead";
}

/** The most recently started workers, newest first, with their state. */
export async function listWorkers(db: MetadataStore, limit = 20, now = Date.now()): Promise<WorkerState[]> {
  const rows = await db.selectFrom("ingest.workers").selectAll().orderBy("started_at", "desc").limit(limit).execute();
  return rows.map((row) => {
    const worker = camelCased(row);
    const silent = !worker.lastSeen || now - new Date(worker.lastSeen).getTime() > worker.timeoutMs;
    return { ...worker, state: worker.stoppedAt ? "stopped" : silent ? "dead" : "live" };
  });
}
