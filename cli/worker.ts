import type { Command } from "commander";
import { defaultConcurrency, startWorker } from "../engine/worker.ts";
import { logger } from "../resources/logger.ts";
import { listWorkers } from "../engine/liveness.ts";
import { globals, loadGraph, type MetricsOptions, openMetadata, output, serveMetricsIfAsked } from "./context.ts";
import { shortTime, table } from "./table.ts";

interface WorkerCommandOptions extends MetricsOptions {
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

/** `ingest worker`: runs until SIGTERM/SIGINT. */
export async function worker(options: WorkerCommandOptions, command: Command): Promise<void> {
  const graph = await loadGraph(globals(command).definitions);
  const concurrency = options.concurrency ?? defaultConcurrency();
  await using store = await openMetadata();
  const worker = await startWorker({
    graph,
    pool: store.pool,
    concurrency,
    liveness: { heartbeatMs: seconds(options.heartbeat), timeoutMs: seconds(options.timeout) },
  });
  await using served = await serveMetricsIfAsked(options, "worker", store.db);
  // Our own handler, not graphile-worker's: in-flight materialisations finish (within the grace
  // period), or their jobs go back to the queue for another worker; then it exits 0. It goes in
  // before "worker started" is logged, so a signal sent on reading that line finds it.
  const signalled = nextSignal();
  logger.info({ worker: worker.id, concurrency, assets: graph.order.length, metrics: served.url }, "worker started");
  const signal = await Promise.race([signalled, worker.done.then(() => undefined)]);
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
}

/** `ingest workers`. */
export async function workers(options: { limit: number }, command: Command): Promise<void> {
  await using store = await openMetadata({ migrate: "if-behind" });
  const workers = await listWorkers(store.db, options.limit);
  output(command, workers, () => {
    if (workers.length === 0) return "no workers have run";
    const rows = workers.map((w) => [
      w.state,
      w.id,
      `${w.host ?? "?"}:${w.pid ?? "?"}`,
      `concurrency ${w.concurrency ?? "?"}`,
      `last seen ${shortTime(w.lastSeen)}`,
      w.releasedAt ? `released ${w.releasedJobs.length} job(s) at ${shortTime(w.releasedAt)}: ${w.releaseReason}` : "",
    ]);
    return table(rows);
  });
}
