import { setTimeout as sleep } from "node:timers/promises";
import cliProgress from "cli-progress";
import type { MetadataStore, Run } from "../db/schema.ts";
import { describeCheck } from "../engine/checks.ts";
import { getRun, runDetails, runSteps, type StepDetail } from "../engine/runs.ts";
import { formatVersion } from "../engine/versions.ts";
import { duration, shortTime, table } from "./table.ts";

/** The counts a run's table shows, in this order, under these headings; other counts stay in `--json`. */
const columns = [
  ["extracted", "EXTRACTED"],
  ["written", "WRITTEN"],
  ["unchanged", "UNCHANGED"],
  ["removed", "REMOVED"],
  ["deadLettered", "DEAD-LETTERED"],
  ["pending", "PENDING"],
] as const;

/**
 * What a run did, per step: status, attempts, time, the counts people ask about (blank where the
 * asset does not count it), the data version; below a step, its error and its checks.
 */
export function stepTable(steps: StepDetail[], indent = "  "): string {
  const rows: (string | number)[][] = [[
    "STATUS",
    "STEP",
    "TRIES",
    "TIME",
    ...columns.map(([, heading]) => heading),
    "DATA",
  ]];
  for (const s of steps) {
    rows.push([
      s.status,
      s.stepKey,
      s.attempts,
      s.durationMs === null ? "" : duration(s.durationMs),
      ...columns.map(([count]) => s.counts[count] ?? ""),
      s.dataVersion ? formatVersion(s.dataVersion) : "",
    ]);
  }
  return table(rows, { indent, header: true }).split("\n").flatMap((line, i) => {
    const step = steps[i - 1];
    if (!step) return [line];
    return [
      line,
      ...(step.error && step.status !== "succeeded" ? [`${indent}    ${step.error.split("\n")[0]}`] : []),
      ...step.checks.filter((c) => !c.passed || step.status !== "succeeded").map((c) =>
        `${indent}    ${describeCheck(c)}`
      ),
    ];
  }).join("\n");
}

/** A run's heading lines: id, status, selection, times, tags, trace. */
export function runHeading(run: Run, traceUrl?: (traceId: string) => string): string[] {
  const traceId = run.traceparent?.split("-")[1];
  return [
    `run ${run.id}  ${run.status}  ${run.selection}`,
    `  requested ${shortTime(run.createdAt)}${run.finishedAt ? `, finished ${shortTime(run.finishedAt)}` : ""}${
      Object.keys(run.tags).length ? `  tags ${Object.entries(run.tags).map(([k, v]) => `${k}=${v}`).join(" ")}` : ""
    }`,
    ...(traceId ? [`  trace ${traceId}${traceUrl ? `  ${traceUrl(traceId)}` : ""}`] : []),
  ];
}

/** The whole report of a run: its heading and its step table. */
export async function runReport(db: MetadataStore, runId: string, traceUrl?: (id: string) => string): Promise<string> {
  const details = await runDetails(db, runId);
  if (!details) throw new Error(`no run ${runId}: \`ingest runs\` lists the recent ones`);
  return [...runHeading(details.run, traceUrl), details.steps.length ? stepTable(details.steps) : "  no steps"]
    .join("\n");
}

const finished = new Set(["succeeded", "fresh", "failed", "skipped", "canceled"]);

/**
 * Shows a run's progress until it ends. On a terminal: a bar of steps done against all, and one line
 * per running step with its records, records per second and, when the step knows its total, the time
 * left. Otherwise a line as each step ends. Reads the store, so it follows steps on any worker.
 */
export async function watchRun(
  db: MetadataStore,
  runId: string,
  options: { tty: boolean; stream?: NodeJS.WriteStream; pollMs?: number },
): Promise<void> {
  const stream = options.stream ?? process.stderr;
  const pollMs = options.pollMs ?? 500;
  const reported = new Set<string>();
  const bars = options.tty
    ? new cliProgress.MultiBar({
      stream,
      clearOnComplete: true,
      hideCursor: true,
      format: "{label} {bar} {value}/{total} {detail}",
      barsize: 24,
      autopadding: true,
    }, cliProgress.Presets.shades_classic)
    : undefined;
  const overall = bars?.create(1, 0, { label: "steps", detail: "" });
  const running = new Map<string, cliProgress.SingleBar>();
  try {
    for (;;) {
      const run = await getRun(db, runId);
      const steps = await runSteps(db, runId);
      const progress = await db.selectFrom("ingest.step_progress").selectAll().execute();
      const done = steps.filter((s) => finished.has(s.status));
      if (bars && overall) {
        overall.setTotal(Math.max(1, steps.length));
        overall.update(done.length, { label: "steps", detail: `${steps.length - done.length} to go` });
        const now = Date.now();
        for (const step of steps.filter((s) => s.status === "running")) {
          const p = progress.find((r) => r.asset_key === step.assetKey && r.partition_key === step.partitionKey);
          const records = Number(p?.done ?? 0);
          const total = p?.total === null || p?.total === undefined ? undefined : Number(p.total);
          const seconds = p ? Math.max(0.001, (now - new Date(p.started_at).getTime()) / 1000) : 0;
          const rate = p ? records / seconds : 0;
          const eta = total !== undefined && rate > 0 ? ` ETA ${duration(((total - records) / rate) * 1000)}` : "";
          const detail = p ? `${Math.round(rate)} records/s${eta}` : "starting";
          const bar = running.get(step.stepKey) ??
            running.set(
              step.stepKey,
              bars.create(total ?? Math.max(records, 1), records, { label: step.stepKey, detail }),
            )
              .get(step.stepKey)!;
          bar.setTotal(total ?? Math.max(records, 1));
          bar.update(records, { label: step.stepKey, detail });
        }
        for (const [key, bar] of running) {
          if (!steps.some((s) => s.stepKey === key && s.status === "running")) {
            bars.remove(bar);
            running.delete(key);
          }
        }
      } else {
        for (const step of done) {
          if (reported.has(step.stepKey)) continue;
          reported.add(step.stepKey);
          stream.write(`${step.status.padEnd(9)} ${step.stepKey} (${done.length}/${steps.length})\n`);
        }
      }
      if (!run || ["succeeded", "failed", "canceled"].includes(run.status)) return;
      await sleep(pollMs);
    }
  } finally {
    bars?.stop();
  }
}
