import { useEffect, useState } from "preact/hooks";
import { get } from "./api.ts";
import { duration } from "./format.ts";

interface JaegerSpan {
  spanID: string;
  operationName: string;
  references?: { refType: string; spanID: string }[];
  startTime: number;
  duration: number;
  processID: string;
  tags?: { key: string; value: unknown }[];
}
interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string; tags?: { key: string; value: unknown }[] }>;
}

const shownSpans = 400;

/** Depth-first, children by start time: the order a waterfall reads in. */
function ordered(spans: JaegerSpan[]): { span: JaegerSpan; depth: number }[] {
  const ids = new Set(spans.map((s) => s.spanID));
  const children = new Map<string, JaegerSpan[]>();
  const roots: JaegerSpan[] = [];
  for (const span of spans) {
    const parent = span.references?.find((r) => r.refType === "CHILD_OF" && ids.has(r.spanID))?.spanID;
    if (parent) children.set(parent, [...(children.get(parent) ?? []), span]);
    else roots.push(span);
  }
  const out: { span: JaegerSpan; depth: number }[] = [];
  const visit = (span: JaegerSpan, depth: number) => {
    out.push({ span, depth });
    for (const child of (children.get(span.spanID) ?? []).sort((a, b) => a.startTime - b.startTime)) {
      visit(child, depth + 1);
    }
  };
  for (const root of roots.sort((a, b) => a.startTime - b.startTime)) visit(root, 0);
  return out;
}

const isError = (span: JaegerSpan) =>
  span.tags?.some((t) =>
    (t.key === "error" && t.value === true) || (t.key === "otel.status_code" && t.value === "ERROR")
  );

/** The run's trace as Jaeger has it, drawn as a waterfall: a span a row, indented under its parent. */
export function Waterfall({ runId }: { runId: string }) {
  const [trace, setTrace] = useState<JaegerTrace>();
  const [error, setError] = useState<string>();
  const load = () =>
    get<{ jaeger: { data?: JaegerTrace[] } }>(`/runs/${encodeURIComponent(runId)}/trace`).then((r) => {
      const found = r.jaeger.data?.[0];
      if (found) {
        setTrace(found);
        setError(undefined);
      } else setError("Jaeger has not received this trace (yet)");
    }, (e: Error) => setError(e.message));
  useEffect(() => void load(), [runId]);
  if (error) {
    return (
      <p class="muted">
        {error} <button type="button" onClick={load}>Try again</button>
      </p>
    );
  }
  if (!trace) return <p class="muted">asking Jaeger…</p>;
  const rows = ordered(trace.spans);
  const start = Math.min(...trace.spans.map((s) => s.startTime));
  const end = Math.max(...trace.spans.map((s) => s.startTime + s.duration));
  const span = Math.max(1, end - start);
  return (
    <div class="waterfall" data-spans={trace.spans.length}>
      <div class="axis">
        <span>
          {trace.spans.length} spans in {Object.keys(trace.processes).length}{" "}
          process{Object.keys(trace.processes).length === 1 ? "" : "es"}
        </span>
        <span>{duration(span / 1000)}</span>
        <button type="button" onClick={load}>Reload</button>
      </div>
      {rows.slice(0, shownSpans).map(({ span: s, depth }) => {
        const process = trace.processes[s.processID];
        const host = process?.tags?.find((t) => t.key === "hostname" || t.key === "host.name")?.value;
        const pid = process?.tags?.find((t) => t.key === "process.pid")?.value;
        return (
          <div class="lane" key={s.spanID}>
            <span
              class="label"
              style={{ paddingLeft: `${depth * 12}px` }}
              title={`${s.operationName}\n${process?.serviceName ?? ""} ${host ?? ""} ${pid ?? ""}`}
            >
              {s.operationName}
            </span>
            <div class="track">
              <span
                class={`bar span ${isError(s) ? "try-failed" : ""}`}
                style={{
                  left: `${((s.startTime - start) / span) * 100}%`,
                  width: `${Math.max(0.2, (s.duration / span) * 100)}%`,
                }}
                title={`${duration(s.duration / 1000)}\n${
                  (s.tags ?? []).slice(0, 12).map((t) => `${t.key}=${String(t.value)}`).join("\n")
                }`}
              />
            </div>
            <span class="small muted">{duration(s.duration / 1000)}</span>
          </div>
        );
      })}
      {rows.length > shownSpans && <p class="muted">…and {rows.length - shownSpans} more spans</p>}
    </div>
  );
}
