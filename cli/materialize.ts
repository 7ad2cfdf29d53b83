import type { Command } from "commander";
import { requestRun, waitForRun } from "../engine/materialize.ts";
import { selectAssets } from "../engine/selection.ts";
import { startWorker } from "../engine/worker.ts";
import { globals, loadGraph, openMetadata, output } from "./context.ts";

interface MaterializeOptions {
  select?: string;
  wait?: boolean;
  localWorker?: boolean;
  concurrency: string;
}

export function registerMaterialize(program: Command): void {
  program
    .command("materialize [selection...]")
    .description("request a run of the selected assets (default: all)")
    .option("-s, --select <selection>", "asset selection, e.g. 'graph/Product+' or '*'")
    .option("-w, --wait", "wait for the run to finish; also runs a worker in this process")
    .option("--no-local-worker", "with --wait: leave execution to `ingest worker` processes")
    .option("-c, --concurrency <n>", "concurrency of the local worker", "4")
    .action(async (words: string[], options: MaterializeOptions, command: Command) => {
      const graph = await loadGraph(globals(command).definitions);
      const selection = options.select ?? (words.length > 0 ? words.join(" ") : "*");
      const keys = selectAssets(graph, selection);
      const store = await openMetadata();
      try {
        const runId = await requestRun(store.db, graph, keys, selection);
        if (!options.wait) {
          output(command, { runId, assets: [...keys] }, () => `run ${runId} queued: ${[...keys].join(", ")}`);
          return;
        }
        const worker = options.localWorker ? await startWorker({ graph, pool: store.pool, concurrency: Number(options.concurrency) }) : undefined;
        try {
          const { run, steps } = await waitForRun(store.db, runId);
          output(command, { run, steps }, () =>
            [
              `run ${run.id} ${run.status}`,
              ...steps.map((s) => `  ${s.status.padEnd(9)} ${s.asset_key}${s.error && s.status !== "succeeded" ? `: ${s.error.split("\n")[0]}` : ""}`),
            ].join("\n"),
          );
          if (run.status !== "succeeded") process.exitCode = 1;
        } finally {
          await worker?.stop();
        }
      } finally {
        await store.close();
      }
    });
}
