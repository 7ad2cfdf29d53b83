import type { Command } from "commander";
import { formatVersion } from "../engine/versions.ts";
import { selectAssets } from "../engine/selection.ts";
import { cancelRun } from "../engine/cancel.ts";
import { type AssetStatus, assetStatuses } from "../engine/status.ts";
import { listRuns, runSteps } from "../engine/runs.ts";
import { globals, loadGraph, openMetadata, output } from "./context.ts";
import { wholeNumber } from "./options.ts";

function describeStatus(s: AssetStatus): string {
  const name = s.partitionKey ? `${s.assetKey} [${s.partitionKey}]` : s.assetKey;
  const last = s.lastMaterialization
    ? `  data ${formatVersion(s.lastMaterialization.dataVersion)} at ${s.lastMaterialization.finishedAt.toISOString()}`
    : "";
  const flight = s.inFlight.length
    ? `  (${s.inFlight.map((f) => `${f.status} in run ${f.runId.slice(0, 8)}`).join(", ")})`
    : "";
  return `${s.state.padEnd(6)} ${name}${last}${flight}${s.reasons.length ? `\n         ${s.reasons.join("; ")}` : ""}`;
}

/** A partitioned asset in one line: how many partitions are fresh, stale, never materialised. */
function summarisePartitions(assetKey: string, partitions: AssetStatus[]): string {
  const never = partitions.filter((p) => p.causes.some((c) => c.kind === "never-materialized")).length;
  const stale = partitions.filter((p) => p.state === "stale").length - never;
  const fresh = partitions.length - stale - never;
  const state = stale + never === 0 ? "fresh" : "stale";
  return `${
    state.padEnd(6)
  } ${assetKey}  ${partitions.length} partitions: ${fresh} fresh, ${stale} stale, ${never} never materialised (--partitions lists them)`;
}

export function registerStatus(program: Command): void {
  program
    .command("status [selection...]")
    .description("each asset's state (fresh or stale, and why) and its latest materialisation")
    .option("--partitions", "list every partition of partitioned assets")
    .action(async (words: string[], options: { partitions?: boolean }, command: Command) => {
      const graph = await loadGraph(globals(command).definitions);
      const keys = selectAssets(graph, words.length > 0 ? words.join(" ") : "*");
      await using store = await openMetadata();
      const statuses = await assetStatuses(store.db, graph, keys);
      output(command, statuses, () => {
        const lines: string[] = [];
        for (const key of keys) {
          const mine = statuses.filter((s) => s.assetKey === key);
          if (graph.byKey.get(key)!.partitions && !options.partitions) lines.push(summarisePartitions(key, mine));
          else lines.push(...mine.map(describeStatus));
        }
        return lines.join("\n");
      });
    });
}

export function registerRuns(program: Command): void {
  const runs = program
    .command("runs")
    .description("recent runs")
    .option("-n, --limit <n>", "how many", wholeNumber(1), 20)
    .action(async (options: { limit: number }, command: Command) => {
      await using store = await openMetadata();
      const list = await listRuns(store.db, options.limit);
      output(command, list, () =>
        list
          .map((r) => {
            const ms = r.finished_at && r.started_at
              ? ` in ${((new Date(r.finished_at).getTime() - new Date(r.started_at).getTime()) / 1000).toFixed(1)}s`
              : "";
            const priority = r.priority !== 0 ? `  priority ${r.priority}` : "";
            return `${r.id}  ${r.status.padEnd(9)} ${r.created_at.toISOString()}${ms}  ${r.selection}${priority}${
              r.error ? `\n    ${r.error.split("\n").join("\n    ")}` : ""
            }`;
          })
          .join("\n"));
    });
  runs
    .command("show <runId>")
    .description("the steps of one run")
    .action(async (runId: string, _options, command: Command) => {
      await using store = await openMetadata();
      const steps = await runSteps(store.db, runId);
      if (steps.length === 0) throw new Error(`no run ${runId}, or it had no steps`);
      output(
        command,
        steps,
        () =>
          steps.map((s) =>
            `${s.status.padEnd(9)} ${s.step_key}  attempts ${s.attempts}${s.error ? `  ${s.error.split("\n")[0]}` : ""}`
          ).join("\n"),
      );
    });
  runs
    .command("cancel <runId>")
    .description(
      "cancel a run: its queued steps do not start, and running materialisations only it waits for are told to stop",
    )
    .action(async (runId: string, _options, command: Command) => {
      await using store = await openMetadata();
      const status = await cancelRun(store.db, runId);
      output(
        command,
        { runId, status },
        () =>
          status === "canceling"
            ? `run ${runId} canceling: waiting for its running materialisations to stop (ingest runs show ${runId})`
            : status === "canceled"
            ? `run ${runId} canceled`
            : `run ${runId} had already finished: ${status}`,
      );
    });
}
