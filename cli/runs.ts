import type { Command } from "commander";
import { cancelRun } from "../engine/cancel.ts";
import { describeCheck } from "../engine/checks.ts";
import { listRuns, runDetails } from "../engine/runs.ts";
import { formatVersion } from "../engine/versions.ts";
import { openMetadata, output } from "./context.ts";
import { duration, shortTime, table } from "./table.ts";

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

/** `ingest runs show <runId>`. */
export async function show(runId: string, _options: unknown, command: Command): Promise<void> {
  await using store = await openMetadata({ migrate: "if-behind" });
  const details = await runDetails(store.db, runId);
  if (!details) throw new Error(`no run ${runId}: \`ingest runs\` lists the recent ones`);
  const { run, steps } = details;
  output(command, details, () => {
    const head = [
      `run ${run.id}  ${run.status}  ${run.selection}`,
      `  requested ${shortTime(run.createdAt)}${run.finishedAt ? `, finished ${shortTime(run.finishedAt)}` : ""}${
        Object.keys(run.tags).length ? `  tags ${Object.entries(run.tags).map(([k, v]) => `${k}=${v}`).join(" ")}` : ""
      }`,
      ...(run.traceparent ? [`  trace ${run.traceparent.split("-")[1]}`] : []),
    ];
    if (steps.length === 0) return [...head, "  no steps"].join("\n");
    const rows = steps.map((s) => [
      s.status,
      s.stepKey,
      `attempts ${s.attempts}`,
      s.durationMs === null ? "" : duration(s.durationMs),
      s.dataVersion ? formatVersion(s.dataVersion) : "",
      Object.entries(s.counts).filter(([, n]) => n !== 0).map(([k, n]) => `${k} ${n}`).join(", "),
    ]);
    const lines = table(rows, { indent: "  " }).split("\n").flatMap((line, i) => {
      const step = steps[i]!;
      return [
        line,
        ...(step.error && step.status !== "succeeded" ? [`      ${step.error.split("\n")[0]}`] : []),
        ...step.checks.map((c) => `      ${describeCheck(c)}`),
      ];
    });
    return [...head, ...lines].join("\n");
  });
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
