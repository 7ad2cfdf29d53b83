import { useEffect, useState } from "preact/hooks";
import { get, post } from "./api.ts";
import { duration, href, shortId, time, version } from "./format.ts";
import { useLiveData } from "./live.ts";
import type { RunDescription, StepDetail } from "./types.ts";
import { Waterfall } from "./waterfall.tsx";

const countNames = ["extracted", "written", "unchanged", "removed", "deadLettered", "pending"];
const live = new Set(["queued", "running", "canceling"]);

/** Each step a row, each attempt a bar on one time axis: when it waited, ran, retried, failed. */
function Timeline({ run }: { run: RunDescription }) {
  const now = Date.now();
  const start = Date.parse(run.run.createdAt);
  const ends = run.steps.flatMap((s) => [
    ...s.tries.map((t) => Date.parse(t.finishedAt)),
    s.finishedAt ? Date.parse(s.finishedAt) : live.has(run.run.status) ? now : start,
  ]);
  const end = Math.max(start + 1, ...ends, run.run.finishedAt ? Date.parse(run.run.finishedAt) : start);
  const span = end - start;
  const pct = (t: number) => `${(((t - start) / span) * 100).toFixed(3)}%`;
  const width = (a: number, b: number) => `${Math.max(0.3, ((b - a) / span) * 100).toFixed(3)}%`;
  const steps = [...run.steps].sort((a, b) => (a.startedAt ?? "~").localeCompare(b.startedAt ?? "~"));
  return (
    <div class="timeline" data-steps={steps.length}>
      <div class="axis">
        <span>{time(run.run.createdAt)}</span>
        <span>{duration(span)}</span>
      </div>
      {steps.map((s) => {
        const tries = s.tries;
        const running = s.status === "running" && s.startedAt;
        const lastEnd = tries.length ? Date.parse(tries.at(-1)!.finishedAt) : undefined;
        return (
          <div class="lane" key={s.stepKey} data-step={s.stepKey}>
            <a class="label" href={href("asset", s.assetKey)} title={s.stepKey}>{s.stepKey}</a>
            <div class="track">
              {tries.map((t) => (
                <span
                  key={t.attempt}
                  class={`bar try-${t.status}`}
                  style={{
                    left: pct(Date.parse(t.startedAt)),
                    width: width(Date.parse(t.startedAt), Date.parse(t.finishedAt)),
                  }}
                  title={`attempt ${t.attempt} ${t.status} in ${duration(t.durationMs)}${
                    t.error ? `: ${t.error}` : ""
                  }`}
                />
              ))}
              {running && (
                <span
                  class="bar try-running"
                  style={{
                    left: pct(lastEnd ?? Date.parse(s.startedAt!)),
                    width: width(lastEnd ?? Date.parse(s.startedAt!), now),
                  }}
                  title={`attempt ${s.attempts} running`}
                />
              )}
              {!tries.length && !running && s.finishedAt && (
                <span
                  class={`bar try-${s.status}`}
                  style={{ left: pct(Date.parse(s.finishedAt)), width: "0.3%" }}
                  title={s.status}
                />
              )}
            </div>
            <span class={`chip step-${s.status}`}>{s.status}</span>
          </div>
        );
      })}
    </div>
  );
}

function StepTable({ steps }: { steps: StepDetail[] }) {
  return (
    <table class="steps">
      <thead>
        <tr>
          <th>status</th>
          <th>step</th>
          <th>tries</th>
          <th>time</th>
          {countNames.map((c) => <th key={c}>{c}</th>)}
          <th>data</th>
        </tr>
      </thead>
      <tbody>
        {steps.flatMap((s) => [
          <tr key={s.stepKey} class={s.status === "failed" ? "error" : ""}>
            <td>{s.status}</td>
            <td>
              <a href={href("asset", s.assetKey)}>{s.stepKey}</a>
            </td>
            <td class="num">{s.attempts}</td>
            <td>{duration(s.durationMs)}</td>
            {countNames.map((c) => <td key={c} class="num">{s.counts[c] ?? ""}</td>)}
            <td>{version(s.dataVersion)}</td>
          </tr>,
          ...(s.error && s.status !== "succeeded"
            ? [
              <tr key={`${s.stepKey}-error`} class="detail">
                <td />
                <td colSpan={10}>
                  <pre class="error">{s.error}</pre>
                </td>
              </tr>,
            ]
            : []),
          ...(s.checks.length
            ? [
              <tr key={`${s.stepKey}-checks`} class="detail">
                <td />
                <td colSpan={10}>
                  {s.checks.map((c) => (
                    <span key={c.name} class={`tag ${c.passed ? "" : "error"}`}>
                      {c.passed ? "✓" : "✗"} {c.name} ({c.severity}){" "}
                      {c.metadata && Object.keys(c.metadata).length ? JSON.stringify(c.metadata) : ""}
                    </span>
                  ))}
                </td>
              </tr>,
            ]
            : []),
        ])}
      </tbody>
    </table>
  );
}

/** One run: what it asked for, its steps on a timeline, their counts, errors and checks, its trace; cancel. */
export function RunPage({ runId }: { runId: string }) {
  const [run, error, reload] = useLiveData(
    () => get<RunDescription>(`/runs/${encodeURIComponent(runId)}`),
    ["runs", "run_steps", "materializations"],
    [runId],
  );
  const [message, setMessage] = useState<string>();
  // Progress is written every second, without a notification: poll it while the run goes on.
  useEffect(() => {
    if (!run || !live.has(run.run.status)) return;
    const timer = setInterval(reload, 2_000);
    return () => clearInterval(timer);
  }, [run?.run.status]);
  if (error) return <p class="error">{error}</p>;
  if (!run) return <p class="muted">loading run {runId}…</p>;
  const r = run.run;
  return (
    <div class="page run-page">
      <h1>
        run {shortId(r.id)} <span class={`chip run-${r.status}`} data-status={r.status}>{r.status}</span>
      </h1>
      <p>
        <code>{r.selection}</code> · requested {time(r.createdAt)}
        {r.finishedAt && `, finished ${time(r.finishedAt)}`}
        {r.startedAt && r.finishedAt && ` (${duration(Date.parse(r.finishedAt) - Date.parse(r.startedAt))})`}
        {r.priority !== 0 && ` · priority ${r.priority}`}
      </p>
      <p class="muted small">
        {r.id}
        {Object.entries(r.tags).map(([k, v]) => <span key={k} class="tag">{k}={v}</span>)}
      </p>
      {r.error && <pre class="error">{r.error}</pre>}
      {(r.status === "queued" || r.status === "running") && (
        <button
          type="button"
          class="danger"
          onClick={async () => {
            if (!confirm(`Cancel run ${shortId(r.id)}? Queued steps will not start; running ones are told to stop.`)) {
              return;
            }
            try {
              const { status } = await post<{ status: string }>(`/runs/${encodeURIComponent(r.id)}/cancel`);
              setMessage(`run ${status}`);
            } catch (e) {
              setMessage((e as Error).message);
            }
          }}
        >
          Cancel run
        </button>
      )}
      {message && <p class="notice">{message}</p>}
      {run.progress.length > 0 && (
        <ul class="progress">
          {run.progress.map((p) => {
            const seconds = Math.max(0.001, (Date.now() - Date.parse(p.startedAt)) / 1000);
            return (
              <li key={p.assetKey}>
                {p.assetKey}: {p.done}
                {p.total !== null ? ` of ${p.total}` : ""} records, {Math.round(p.done / seconds)}/s
                {p.total !== null && <progress value={p.done} max={p.total} />}
              </li>
            );
          })}
        </ul>
      )}
      <section>
        <h2>Timeline</h2>
        {run.steps.length ? <Timeline run={run} /> : <p class="muted">no steps</p>}
      </section>
      <section>
        <h2>Steps</h2>
        {run.steps.length > 0 && <StepTable steps={run.steps} />}
      </section>
      <section>
        <h2>Trace</h2>
        {run.traceId
          ? (
            <>
              <p class="small">
                trace {run.traceId}
                {run.traceUrl && (
                  <>
                    · <a href={run.traceUrl} target="_blank" rel="noreferrer">Jaeger's JSON</a>
                  </>
                )}
              </p>
              <Waterfall runId={r.id} />
            </>
          )
          : <p class="muted">this run was not traced</p>}
      </section>
    </div>
  );
}
