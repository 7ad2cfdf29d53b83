import type { Command } from "commander";
import { startWorker } from "../engine/worker.ts";
import { logger } from "../resources/logger.ts";
import { globals, loadGraph, openMetadata } from "./context.ts";

export function registerWorker(program: Command): void {
  program
    .command("worker")
    .description("execute queued asset materialisations until stopped (run as many as you like, on any host)")
    .option("-c, --concurrency <n>", "materialisations run at once by this process", "4")
    .action(async (options: { concurrency: string }, command: Command) => {
      const graph = await loadGraph(globals(command).definitions);
      const store = await openMetadata();
      const worker = await startWorker({ graph, pool: store.pool, concurrency: Number(options.concurrency) });
      logger.info({ concurrency: Number(options.concurrency), assets: graph.order.length }, "worker started");
      // Our own handler, not graphile-worker's: it lets in-flight materialisations finish, then exits 0.
      const stop = new Promise<NodeJS.Signals>((resolve) => {
        process.once("SIGTERM", () => resolve("SIGTERM"));
        process.once("SIGINT", () => resolve("SIGINT"));
      });
      const signal = await Promise.race([stop, worker.runner.promise.then(() => undefined)]);
      if (signal) logger.info({ signal }, "stopping: finishing in-flight materialisations");
      await worker.stop();
      await store.close();
    });
}
