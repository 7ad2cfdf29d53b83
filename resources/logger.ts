import { isSpanContextValid, trace } from "@opentelemetry/api";
import pino from "pino";

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
 * Structured logs (by default on stderr: stdout stays free for the CLI's own output and `--json`). Anything that
 * looks like a credential is redacted wherever it appears in a log object. The destination is a parameter only so
 * tests can capture lines.
 */
export const createLogger = (destination: pino.DestinationStream = pino.destination({ fd: 2, sync: true })) =>
  pino(
    {
      level: process.env.LOG_LEVEL ?? "info",
      base: { service: "ingest" },
      mixin: traceMixin,
      redact: {
        paths: [
          "password",
          "*.password",
          "*.*.password",
          "secret",
          "*.secret",
          "token",
          "*.token",
          "accessToken",
          "*.accessToken",
          "authorization",
          "*.authorization",
          "headers.authorization",
          "*.headers.authorization",
          "connectionString",
          "*.connectionString",
          "databaseUrl",
          "*.databaseUrl",
          "auth",
          "*.auth",
          "credentials",
          "*.credentials",
        ],
        censor: "[redacted]",
      },
    },
    destination,
  );

export const logger = createLogger();

export type Logger = pino.Logger;
