import type { Command } from "commander";
import { defaultConcurrency, startWorker } from "../engine/worker.ts";
import { logger } from "../resources/logger.ts";
import { globals, loadGraph, openMetadata, output } from "./context.ts";
import { nonNegativeNumber, positiveNumber, wholeNumber } from "./options.ts";

interface WorkerCommandOptions {
  concurrency?: number;
  grace: number;
  heartbeat?: number;
  timeout?: number;
}

const nextSignal = () =>
  new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });

/** A timer that does not keep the process alive once the worker has stopped. */
function deadline<T>(ms: number, value: T): { reached: Promise<T>; cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const reached = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(value), ms)));
  return { reached, cancel: () => clearTimeout(timer) };
}

const seconds = (value: number | undefined) => (value === undefined ? undefined : value * 1000);

export function registerWorker(program: Command): void {
  program
    .command("worker")
    .description("execute queued asset materialisations until stopped (run as many as you like, on any host)")
    .option(
      "-c, --concurrency <n>",
      "materialisations run at once by this process (default: INGEST_WORKER_CONCURRENCY, or 4)",
      wholeNumber(1, 1000),
    )
    .option(
      "--grace <seconds>",
      "on SIGTERM/SIGINT, how long in-flight materialisations may finish before their jobs are returned to the queue (a second signal returns them at once)",
      nonNegativeNumber,
      25,
    )
    .option(
      "--heartbeat <seconds>",
      "how often this worker records that it is alive (default: INGEST_HEARTBEAT_MS, or 5 s)",
      positiveNumber,
    )
    .option(
      "--timeout <seconds>",
      "after how long without a heartbeat other workers take this one's jobs (default: INGEST_WORKER_TIMEOUT_MS, or 30 s)",
      positiveNumber,
    )
    .action(async (options: WorkerCommandOptions, command: Command) => {
      const graph = await loadGraph(globals(command).definitions);
      const concurrency = options.concurrency ?? defaultConcurrency();
      await using store = await openMetadata();
      const worker = await startWorker({
        graph,
        pool: store.pool,
        concurrency,
        liveness: { heartbeatMs: seconds(options.heartbeat), timeoutMs: seconds(options.timeout) },
      });
      logger.info({ worker: worker.id, concurrency, assets: graph.order.length }, "worker started");
      // Our own handler, not graphile-worker's: in-flight materialisations finish (within the grace
      // period), or their jobs go back to the queue for another worker; then it exits 0.
      const signal = await Promise.race([nextSignal(), worker.runner.promise.then(() => undefined)]);
      if (!signal) {
        await worker.stop();
        return;
      }
      const graceMs = options.grace * 1000;
      logger.info(
        { signal, graceSeconds: graceMs / 1000 },
        "stopping: finishing in-flight materialisations (signal again to return them to the queue now)",
      );
      const stopped = worker.stop().then(() => "stopped" as const);
      const grace = deadline(graceMs, "grace" as const);
      const outcome = await Promise.race([stopped, grace.reached, nextSignal()]);
      grace.cancel();
      if (outcome === "stopped") return;
      const returned = await worker.returnJobs();
      logger.warn({ jobs: returned.map((r) => r.job) }, "returned the in-flight jobs to the queue");
      // Materialisations that heed ctx.signal end at once; the others are left behind with the process.
      await Promise.race([stopped, deadline(5_000, "late").reached]);
      // process.exit() leaves no time for `await using` to close the store.
      await store.close();
      process.exit();
    });

  program
    .command("workers")
    .description("worker processes: live, stopped, or found dead (and which jobs of theirs were released)")
    .option("-n, --limit <n>", "how many", wholeNumber(1), 20)
    .action(async (options: { limit: number }, command: Command) => {
      await using store = await openMetadata();
      const workers = await store.db.selectFrom("ingest.workers").selectAll().orderBy("started_at", "desc").limit(
        options.limit,
      ).execute();
      output(command, workers, () =>
        workers
          .map((w) => {
            const silent = !w.last_seen || Date.now() - new Date(w.last_seen).getTime() > w.timeout_ms;
            const state = w.stopped_at ? "stopped" : silent ? "dead" : "live";
            const released = w.released_at
              ? `  released ${w.released_jobs.length} job(s) at ${
                new Date(w.released_at).toISOString()
              }: ${w.release_reason}`
              : "";
            const seen = w.last_seen ? new Date(w.last_seen).toISOString() : "never";
            return `${state.padEnd(8)}${w.id}  ${w.host ?? "?"}:${w.pid ?? "?"}  concurrency ${
              w.concurrency ?? "?"
            }  last seen ${seen}${released}`;
          })
          .join("\n") || "no workers have run");
    });
}
