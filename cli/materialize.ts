import type { Command } from "commander";
import { requestRun, runInProcess, type RunRequest, waitForRun } from "../engine/runs.ts";
import { selectAssets } from "../engine/selection.ts";
import { countLiveWorkers } from "../engine/liveness.ts";
import { wholeNumber } from "./options.ts";
import { globals, loadGraph, openMetadata, output } from "./context.ts";

interface MaterializeOptions {
  select?: string;
  stale?: boolean;
  fullRefresh?: boolean;
  partition?: string[];
  from?: string;
  to?: string;
  wait?: boolean;
  localWorker: boolean;
  concurrency?: number;
  priority?: number;
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
    .option(
      "-c, --concurrency <n>",
      "with --wait: concurrency of the local worker (default: INGEST_WORKER_CONCURRENCY, or 4)",
      wholeNumber(1, 1000),
    )
    .option(
      "--priority <n>",
      "the run's priority, -32768 to 32767: lower runs first (default 0)",
      wholeNumber(-32768, 32767),
    )
    .action(async (words: string[], options: MaterializeOptions, command: Command) => {
      if ((options.from === undefined) !== (options.to === undefined)) throw new Error("--from and --to go together");
      if (options.partition && options.from !== undefined) {
        throw new Error("--partition names partitions and --from/--to a range of them: give one or the other");
      }
      if (options.select !== undefined && words.length > 0) {
        throw new Error(
          `give the selection once, as -s '${options.select}' or as words (${words.join(" ")}), not both`,
        );
      }
      if (!options.wait && (options.concurrency !== undefined || !options.localWorker)) {
        throw new Error("--concurrency and --no-local-worker apply to the worker of --wait");
      }
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
        priority: options.priority,
        fullRefresh: options.fullRefresh,
      };
      if (!options.wait) {
        const runId = await requestRun(store.db, graph, request);
        const liveWorkers = await countLiveWorkers(store.db);
        output(
          command,
          { runId, assets: [...keys], liveWorkers },
          () =>
            `run ${runId} queued: ${[...keys].join(", ")}${
              liveWorkers === 0
                ? "\nno worker is running: start `ingest worker` to execute it, or use --wait to run it here"
                : ""
            }`,
        );
        return;
      }
      const concurrency = options.concurrency;
      if (!options.localWorker && await countLiveWorkers(store.db) === 0) {
        console.error("ingest: no worker is running: the run waits until `ingest worker` starts somewhere");
      }
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
