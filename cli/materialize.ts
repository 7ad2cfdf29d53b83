import type { Command } from "commander";
import { requestRun, runInProcess, type RunRequest, waitForRun } from "../engine/runs.ts";
import { selectAssets } from "../engine/selection.ts";
import { globals, loadGraph, openMetadata, output } from "./context.ts";

interface MaterializeOptions {
  select?: string;
  stale?: boolean;
  fullRefresh?: boolean;
  partition?: string[];
  from?: string;
  to?: string;
  wait?: boolean;
  localWorker?: boolean;
  concurrency?: string;
  priority?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, ...value.split(",").filter(Boolean)];

export function registerMaterialize(program: Command): void {
  program
    .command("materialize [selection...]")
    .description("request a run of the selected assets (default: all)")
    .option("-s, --select <selection>", "asset selection, e.g. 'graph/Product+', 'group:ec and not ec/orders', '*'")
    .option("--stale", "only stale assets, and what is downstream of them if it turns out stale")
    .option(
      "--full-refresh",
      "reload the selected graph and collection assets from everything staged, not only what changed since their last load",
    )
    .option("-p, --partition <keys>", "partition(s) of partitioned assets (repeat or comma-separate)", collect)
    .option("--from <key>", "first partition of a backfill range")
    .option("--to <key>", "last partition of a backfill range (inclusive)")
    .option("-w, --wait", "wait for the run to finish, executing it in this process too")
    .option("--no-local-worker", "with --wait: leave execution to `ingest worker` processes")
    .option("-c, --concurrency <n>", "concurrency of the local worker (default: INGEST_WORKER_CONCURRENCY, or 4)")
    .option("--priority <n>", "the run's priority, -32768 to 32767: lower runs first (default 0)")
    .action(async (words: string[], options: MaterializeOptions, command: Command) => {
      if ((options.from === undefined) !== (options.to === undefined)) throw new Error("--from and --to go together");
      const graph = await loadGraph(globals(command).definitions);
      const selection = options.select ?? (words.length > 0 ? words.join(" ") : "*");
      const keys = selectAssets(graph, selection);
      await using store = await openMetadata();
      const request: RunRequest = {
        selection,
        keys,
        staleOnly: options.stale,
        partitions: options.partition,
        range: options.from !== undefined ? { from: options.from, to: options.to! } : undefined,
        priority: options.priority === undefined ? undefined : Number(options.priority),
        fullRefresh: options.fullRefresh,
      };
      if (!options.wait) {
        const runId = await requestRun(store.db, graph, request);
        output(command, { runId, assets: [...keys] }, () => `run ${runId} queued: ${[...keys].join(", ")}`);
        return;
      }
      const concurrency = options.concurrency === undefined ? undefined : Number(options.concurrency);
      const { run, steps } = options.localWorker
        ? await runInProcess(store.pool, graph, request, { concurrency })
        : await waitForRun(store.db, await requestRun(store.db, graph, request));
      output(command, { run, steps }, () =>
        [
          `run ${run.id} ${run.status}`,
          ...steps.map((s) =>
            `  ${s.status.padEnd(9)} ${s.step_key}${
              s.error && s.status !== "succeeded" ? `: ${s.error.split("\n")[0]}` : ""
            }`
          ),
        ].join("\n"));
      if (run.status !== "succeeded") process.exitCode = 1;
    });
}
