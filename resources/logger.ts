import { isSpanContextValid, trace } from "@opentelemetry/api";
import pino from "pino";
import { redact } from "./redact.ts";

/**
 * Log lines written while a span is active carry its `trace_id` and `span_id` (see resources/tracer.ts), so logs
 * of a run can be joined with its trace. Nothing is added outside a span.
 */
export const traceMixin = (): { trace_id?: string; span_id?: string } => {
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (!spanContext || !isSpanContextValid(spanContext)) return {};
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
};

/**
 * Structured logs (by default on stderr: stdout stays free for the CLI's own output and `--json`).
 * Credentials are redacted by pattern wherever they appear (resources/redact.ts): values under
 * credential-like keys (password, secret, token, apiKey, authorization, …), passwords in URLs, and
 * the values of the secrets this process has read, in messages, fields, bindings and errors alike.
 * The destination is a parameter only so tests can capture lines.
 */
export function createLogger(
  destination: pino.DestinationStream = pino.destination({ fd: 2, sync: true }),
): pino.Logger {
  const root = pino(
    {
      level: process.env.LOG_LEVEL ?? "info",
      base: { service: "ingest" },
      mixin: traceMixin,
      formatters: { log: (object) => redact(object) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          return method.apply(this, args.map((arg) => redact(arg)) as Parameters<pino.LogFn>);
        },
      },
    },
    destination,
  );
  // pino applies `formatters.bindings` to the root's bindings only: a child's are redacted here.
  // Children inherit this `child` from the root, so grandchildren are covered too.
  const child = root.child;
  root.child = function (this: pino.Logger, bindings, options) {
    return child.call(this, redact(bindings) as pino.Bindings, options);
  } as typeof root.child;
  return root;
}

export const logger = createLogger();

export type Logger = pino.Logger;
