import { cancelRun } from "./cancel-run.ts";
import { canceledJobs } from "./canceled-jobs.ts";
import { claimSteps } from "./claim-steps.ts";
import { enqueueStep } from "./enqueue-step.ts";
import { finishSteps } from "./finish-steps.ts";
import { recordMaterialization } from "./record-materialization.ts";
import { releaseDeadWorkers } from "./release-dead-workers.ts";
import { releaseWorkerJobs } from "./release-worker-jobs.ts";
import { retrySteps } from "./retry-steps.ts";

/**
 * The step state machine and the run queue as SQL functions, one a file, each as it is now: each
 * transition is one round trip, atomic, and sees the other workers' committed transitions after
 * taking its locks (each statement in a plpgsql function takes a fresh snapshot), as graphile-worker's
 * own `get_job`/`complete_job` do. In the order they can be created (a `language sql` function's
 * body is checked against what exists).
 */
export const functionBodies: readonly string[] = [
  enqueueStep,
  claimSteps,
  recordMaterialization,
  finishSteps,
  retrySteps,
  cancelRun,
  canceledJobs,
  releaseWorkerJobs,
  releaseDeadWorkers,
];

/** Every signature these functions have had, so a migration that re-creates them leaves no stale overload. */
export const formerSignatures: readonly string[] = [
  "ingest.claim_steps(text, text, text[])",
  "ingest.claim_steps(text, text, text[], text, int)",
];
