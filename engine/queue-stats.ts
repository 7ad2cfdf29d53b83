import { sql } from "kysely";
import type { MetadataStore } from "../db/schema.ts";
import { metrics } from "../resources/metrics.ts";
import { materializeTask } from "./run-queue.ts";

/** How many materialisation jobs are in each state: queued (due), scheduled (a retry's or a requeue's later time), running, failed (out of attempts). */
export async function queueDepth(
  db: MetadataStore,
): Promise<Record<"queued" | "scheduled" | "running" | "failed", number>> {
  const { rows } = await sql<{ queued: number; scheduled: number; running: number; failed: number }>`
    select count(*) filter (where locked_at is null and attempts < max_attempts and run_at <= now())::int as queued,
      count(*) filter (where locked_at is null and attempts < max_attempts and run_at > now())::int as scheduled,
      count(*) filter (where locked_at is not null)::int as running,
      count(*) filter (where locked_at is null and attempts >= max_attempts)::int as failed
    from graphile_worker.jobs where task_identifier = ${materializeTask}`.execute(db);
  return rows[0]!;
}

/** Sets the gauges read from the database when the metrics are scraped: queue depth and workers by liveness. */
export async function collectQueueMetrics(db: MetadataStore): Promise<void> {
  for (const [state, n] of Object.entries(await queueDepth(db))) metrics.queueJobs.set({ state }, n);
  const { rows } = await sql<{ live: number; dead: number }>`
    select count(*) filter (where last_seen > now() - timeout_ms * interval '1 millisecond')::int as live,
      count(*) filter (where last_seen <= now() - timeout_ms * interval '1 millisecond' or last_seen is null)::int as dead
    from ingest.workers where stopped_at is null`.execute(db);
  metrics.workers.set({ state: "live" }, rows[0]!.live);
  metrics.workers.set({ state: "dead" }, rows[0]!.dead);
}
