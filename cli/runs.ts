import type { Command } from "commander";
import { cancelRun } from "../engine/cancel.ts";
import { listRuns, runDetails } from "../engine/runs.ts";
import { openMetadata, output } from "./context.ts";
import { duration, shortTime, table } from "./table.ts";
import { runHeading, stepTable } from "./run-report.ts";
import { runningPid } from "../resources/local-services.ts";
import { settings } from "../resources/settings.ts";

/** `ingest runs`. */
export async function list(options: { limit: number }, command: Command): Promise<void> {
  await using store = await openMetadata({ migrate: "if-behind" });
  const runs = await listRuns(store.db, options.limit);
  output(command, runs, () => {
    if (runs.length === 0) return "no runs yet: `ingest materialize` requests one";
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

/**
 * Where a trace can be read: the query API of the Jaeger the traces go to (`JAEGER_QUERY_URL`, or the
 * local stack's while it runs), else nowhere we know of.
 */
export function traceUrlOf(): ((traceId: string) => string) | undefined {
  const { jaeger, external } = settings();
  if (!external.jaeger && runningPid("jaeger") === undefined) return undefined;
  return (traceId) => `${jaeger.queryUrl}/api/traces/${traceId}`;
}

/** `ingest runs show <runId>`. */
export async function show(runId: string, _options: unknown, command: Command): Promise<void> {
  await using store = await openMetadata({ migrate: "if-behind" });
  const details = await runDetails(store.db, runId);
  if (!details) throw new Error(`no run ${runId}: \`ingest runs\` lists the recent ones`);
  const traceUrl = traceUrlOf();
  const traceId = details.run.traceparent?.split("-")[1];
  output(
    command,
    { ...details, traceId, traceUrl: traceId && traceUrl ? traceUrl(traceId) : undefined },
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
