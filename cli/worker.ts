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
      const worker = await startWorker({ graph, pool: store.pool, concurrency: Number(options.concurrency), handleSignals: true });
      logger.info({ concurrency: Number(options.concurrency), assets: graph.order.length }, "worker started");
      await worker.runner.promise;
      await worker.stop();
      await store.close();
    });
}
