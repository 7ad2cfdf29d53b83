import { setTimeout as sleep } from "node:timers/promises";
import type { pg } from "../resources/postgres.ts";

/** A look at a run's running steps: what the concurrency limits count (a step is running while a worker holds its job). */
export interface RunningSample {
  /** Running steps by group. */
  byGroup: Map<string, number>;
  /** The workers (graphile-worker pool ids) holding them. */
  workers: Set<string>;
  total: number;
}

/**
 * Looks at the run's running steps every 50 ms until `stop()`. A look that fails (Postgres restarting
 * under another test) is left out.
 */
export function sampleRunningSteps(pool: pg.Pool, runId: string) {
  const samples: RunningSample[] = [];
  let stopped = false;
  const looking = (async () => {
    while (!stopped) {
      try {
        const { rows } = await pool.query<{ group_name: string; locked_by: string }>(
          `select s.group_name, j.locked_by from ingest.run_steps s join graphile_worker.jobs j on j.id = s.job_id::bigint
           where s.run_id = $1 and s.status = 'running' and j.locked_at is not null`,
          [runId],
        );
        const byGroup = new Map<string, number>();
        for (const r of rows) byGroup.set(r.group_name, (byGroup.get(r.group_name) ?? 0) + 1);
        samples.push({ byGroup, workers: new Set(rows.map((r) => r.locked_by)), total: rows.length });
      } catch {
        // this look is lost, not the run
      }
      await sleep(50);
    }
  })();
  return {
    samples,
    async stop(): Promise<RunningSample[]> {
      stopped = true;
      await looking;
      return samples;
    },
  };
}

/** The most intervals open at once: at each start, how many began at or before it and end after it. */
export function mostOverlapping(intervals: { started_at: Date; finished_at: Date }[]): number {
  return Math.max(
    0,
    ...intervals.map((m) =>
      intervals.filter((o) => o.started_at <= m.started_at && m.started_at < o.finished_at).length
    ),
  );
}
