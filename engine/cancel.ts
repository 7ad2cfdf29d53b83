import { sql } from "kysely";
import type { MetadataStore, RunStatus } from "../db/schema.ts";
import { logger } from "../resources/logger.ts";
import { type InFlight, RunCanceled } from "./in-flight.ts";

/**
 * Cancels a run (`ingest.cancel_run`): steps not started never start, and a materialisation that
 * only this run (or other canceled runs) waits for is told through its `ctx.signal`. Returns the
 * run's status after: `canceled`, `canceling` while such a materialisation is still ending, or the
 * status the run had already finished with. A run that does not exist throws.
 *
 * @example
 * ```ts
 * const status = await cancelRun(db, runId); // "canceling"
 * await waitForRun(db, runId);                // run.status === "canceled"
 * ```
 */
export async function cancelRun(db: MetadataStore, runId: string): Promise<RunStatus> {
  const { rows } = await sql<{ status: RunStatus | null }>`select ingest.cancel_run(${runId}) as status`.execute(db);
  const status = rows[0]!.status;
  if (!status) throw new Error(`no run ${runId}`);
  return status;
}

export interface CancelWatch {
  stop(): Promise<void>;
}

/** Polls for in-flight materialisations whose runs were all canceled, and aborts their signals. */
export function watchCancellations(db: MetadataStore, inFlight: InFlight, pollMs: number): CancelWatch {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let polling: Promise<void> = Promise.resolve();
  const poll = async () => {
    const jobIds = inFlight.jobIds;
    if (jobIds.length === 0) return;
    try {
      const { rows } = await sql<{ jobs: string[] }>`select ingest.canceled_jobs(${jobIds}::text[]) as jobs`.execute(
        db,
      );
      for (const jobId of rows[0]!.jobs) inFlight.abort(jobId, new RunCanceled("the run was canceled"));
    } catch (error) {
      logger.warn({ err: error }, "could not check for canceled runs");
    }
  };
  const schedule = () => {
    timer = setTimeout(() => {
      polling = poll().finally(() => {
        if (!stopped) schedule();
      });
    }, pollMs);
    timer.unref?.();
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await polling;
    },
  };
}
