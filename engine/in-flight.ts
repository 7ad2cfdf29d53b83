/** Every run waiting for the materialisation was canceled: the materialisation should stop, and its steps end `canceled`. */
export class RunCanceled extends Error {
  override name = "RunCanceled";
}

/**
 * The job is no longer this worker's: it was released to other workers (this worker missed its
 * heartbeats, or returned the job while stopping). What the materialisation did is not recorded.
 */
export class JobReleased extends Error {
  override name = "JobReleased";
}

/** One execution of a job: graphile-worker counts a job's fetches in `attempts`, so a job run again after its release is another execution. */
export interface Execution {
  jobId: string;
  attempts: number;
  controller: AbortController;
}

/** The materialisations a worker is running, each with the AbortController behind its `ctx.signal`. */
export class InFlight {
  readonly #executions = new Set<Execution>();

  start(jobId: string, attempts: number): Execution {
    const execution = { jobId, attempts, controller: new AbortController() };
    this.#executions.add(execution);
    return execution;
  }

  end(execution: Execution): void {
    this.#executions.delete(execution);
  }

  get executions(): { jobId: string; attempts: number }[] {
    return [...this.#executions].map(({ jobId, attempts }) => ({ jobId, attempts }));
  }

  get jobIds(): string[] {
    return [...new Set([...this.#executions].map((e) => e.jobId))];
  }

  /** Aborts the executions of a job (only the one that fetched it `attempts` times, when given). */
  abort(jobId: string, reason: RunCanceled | JobReleased, attempts?: number): void {
    for (const e of this.#executions) {
      if (e.jobId === jobId && (attempts === undefined || e.attempts === attempts) && !e.controller.signal.aborted) {
        e.controller.abort(reason);
      }
    }
  }

  abortAll(reason: JobReleased): void {
    for (const e of this.#executions) if (!e.controller.signal.aborted) e.controller.abort(reason);
  }

  /** Resolves once no other execution of the same job runs in this worker. */
  async untilAlone(execution: Execution): Promise<void> {
    while ([...this.#executions].some((e) => e !== execution && e.jobId === execution.jobId)) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Throws when the job was released: its outcome is for whoever runs it now to record. */
  static assertHeld(signal: AbortSignal): void {
    if (signal.reason instanceof JobReleased) throw signal.reason;
  }
}
