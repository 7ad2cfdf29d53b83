import type { Command } from "commander";
import { cancelRun } from "../engine/cancel.ts";
import { describeRun, listRuns, type RunFilter } from "../engine/runs.ts";
import { openMetadata, output } from "./context.ts";
import { duration, shortTime, table } from "./table.ts";
import { runHeading, stepTable } from "./run-report.ts";
import { traceUrlOf } from "../resources/jaeger-query.ts";

/** `ingest runs`. */
export async function list(
  options: { limit: number; asset?: string } & Omit<RunFilter, "assetKey">,
  command: Command,
): Promise<void> {
  await using store = await openMetadata({ migrate: "if-behind" });
  const { limit, asset, status, tag, instigator } = options;
  const runs = await listRuns(store.db, limit, { assetKey: asset, status, tag, instigator });
  output(command, runs, () => {
    if (runs.length === 0) {
      return asset || status || tag || instigator
        ? "no runs match these filters"
        : "no runs yet: `ingest materialize` requests one";
    }
    const rows = runs.map((r) => [
      r.id,
      r.status,
      shortTime(r.createdAt),
      r.finishedAt && r.startedAt ? duration(new Date(r.finishedAt).getTime() - new Date(r.startedAt).getTime()) : "",
      r.priority !== 0 ? `${r.selection}  (priority ${r.priority})` : r.selection,
    ]);
    const errors = new Map(runs.map((r, i) => [i, r.error]));
    return table(rows).split("\n").flatMap((line, i) => {
      const error = errors.get(i);
      return error ? [line, `    ${error.split("\n").join("\n    ")}`] : [line];
    }).join("\n");
  });
}

/** `ingest runs show <runId>`. */
export async function show(runId: string, _options: unknown, command: Command): Promise<void> {
  await using store = await openMetadata({ migrate: "if-behind" });
  const traceUrl = traceUrlOf();
  const details = await describeRun(store.db, runId, traceUrl);
  if (!details) throw new Error(`no run ${runId}: \`ingest runs\` lists the recent ones`);
  output(
    command,
    details,
    () =>
      [...runHeading(details.run, traceUrl), details.steps.length ? stepTable(details.steps) : "  no steps"].join("\n"),
  );
}

/** `ingest runs cancel <runId>`. */
export async function cancel(runId: string, _options: unknown, command: Command): Promise<void> {
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
}
