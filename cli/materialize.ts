import type { Command } from "commander";
import { requestRun, runDetails, type RunRequest, waitForRun } from "../engine/runs.ts";
import { startWorker } from "../engine/worker.ts";
import { logger } from "../resources/logger.ts";
import { runHeading, stepTable, watchRun } from "./run-report.ts";
import { traceUrlOf } from "../resources/jaeger-query.ts";
import { selectAssets } from "../engine/selection.ts";
import { countLiveWorkers } from "../engine/liveness.ts";
import { globals, loadGraph, observeSelected, openMetadata, output } from "./context.ts";

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

/** `ingest materialize [selection…]`. */
export async function materialize(words: string[], options: MaterializeOptions, command: Command): Promise<void> {
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
  if (options.stale) await observeSelected(store.db, graph, keys);
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
  if (!options.localWorker && await countLiveWorkers(store.db) === 0) {
    console.error("ingest: no worker is running: the run waits until `ingest worker` starts somewhere");
  }
  const json = globals(command).json === true;
  const tty = !json && process.stderr.isTTY === true;
  // On a terminal the progress bars say what the worker's log lines would; LOG_LEVEL still wins.
  if (tty && process.env.LOG_LEVEL === undefined) logger.level = "warn";
  const worker = options.localWorker
    ? await startWorker({ graph, pool: store.pool, concurrency: options.concurrency })
    : undefined;
  try {
    const runId = await requestRun(store.db, graph, request);
    const watching = json ? undefined : watchRun(store.db, runId, { tty });
    await waitForRun(store.db, runId);
    await watching;
    const details = (await runDetails(store.db, runId))!;
    output(command, details, () => [...runHeading(details.run, traceUrlOf()), stepTable(details.steps)].join("\n"));
    if (details.run.status !== "succeeded") process.exitCode = 1;
  } finally {
    await worker?.stop();
  }
}
