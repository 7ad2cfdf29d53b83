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
 * Where logs go by default: stderr, as JSON lines, or, when stderr is a terminal (or
 * `LOG_FORMAT=pretty`), as one short readable line each; `LOG_FORMAT=json` keeps JSON on a terminal.
 */
async function defaultDestination(): Promise<pino.DestinationStream> {
  const format = process.env.LOG_FORMAT ?? (process.stderr.isTTY ? "pretty" : "json");
  // Asynchronous: a line does not wait for its write, and lines logged while one is being written go
  // out together; pino flushes what is pending when the process exits.
  if (format === "json") return pino.destination({ fd: 2, sync: false });
  if (format !== "pretty") throw new Error(`LOG_FORMAT must be 'json' or 'pretty', not '${format}'`);
  const { default: pretty } = await import("pino-pretty");
  return pretty({
    destination: 2,
    sync: true,
    singleLine: true,
    translateTime: "HH:MM:ss",
    // An error's message is part of the line; its stack only with LOG_STACKS=1 (`ingest --debug` sets it).
    ignore: `pid,hostname,service,trace_id,span_id,runIds,asset,attempt,partition${
      process.env.LOG_STACKS === "1" ? "" : ",err"
    }`,
    messageFormat: "{if asset}{asset}{end}{if partition} [{partition}]{end} {msg}{if err.message}: {err.message}{end}",
  });
}

/**
 * Structured logs (by default on stderr: stdout stays free for the CLI's own output and `--json`).
 * Credentials are redacted by pattern wherever they appear (resources/redact.ts): values under
 * credential-like keys (password, secret, token, apiKey, authorization, …), passwords in URLs, and
 * the values of the secrets this process has read, in messages, fields, bindings and errors alike.
 * The destination is a parameter only so tests can capture lines.
 */
export function createLogger(destination: pino.DestinationStream): pino.Logger {
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

export const logger = createLogger(await defaultDestination());

/** A pino logger: what `ctx.log` is, and what `CrmClientOptions.logger` takes. */
export type Logger = pino.Logger;
