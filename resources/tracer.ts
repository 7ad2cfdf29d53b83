import { hostname } from "node:os";
import process from "node:process";
import { type Attributes, context, propagation, trace, type Tracer } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { defaultResource, resourceFromAttributes } from "@opentelemetry/resources";
import {
  BatchSpanProcessor,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from "@opentelemetry/semantic-conventions";
import { logger } from "./logger.ts";
import { redactedExporter } from "./redacted-spans.ts";
import { tracerName, tracingKey } from "./spans.ts";
import { runningPid } from "./local-services.ts";
import { packageVersion, settings } from "./settings.ts";

/**
 * Tracing for ingestion runs. A run is started by the CLI or a schedule and executed by graphile-worker jobs,
 * possibly in another process: the enqueuing side stores `traceparentOf()` with the job, the worker continues
 * the trace with `withSpan(name, { parent: contextFromTraceparent(traceparent) }, ...)`.
 *
 * Spans always get real trace/span ids (so they can be written to logs and to the metadata store) even when no
 * exporter is configured. Spans are exported over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set (the exporter reads those, and OTEL_EXPORTER_OTLP_HEADERS, itself).
 *
 * Secrets: nothing here puts credentials, connection strings or settings into span attributes, and callers must
 * not either. Whatever a span holds is exported redacted all the same (resources/redacted-spans.ts): the secrets
 * this process read, credentials in URLs (`scheme://user:password@host`) and bearer tokens are masked in its
 * name, attributes, status and events, since errors recorded on failed spans quote URLs and servers' answers.
 */

export interface Tracing {
  tracer: Tracer;
  /**
   * Flushes pending spans and unregisters the global provider, context manager and propagator; a later
   * `initTracing` starts afresh. Never rejects: an unreachable collector is logged, not fatal to a run.
   */
  shutdown(): Promise<void>;
  /** Exports pending spans. Never rejects (failures are logged). */
  forceFlush(): Promise<void>;
}

export interface TracingOptions {
  /** Defaults to OTEL_SERVICE_NAME, else "ingest". */
  serviceName?: string;
  /** Exported with a SimpleSpanProcessor (meant for tests, e.g. an InMemorySpanExporter). */
  exporter?: SpanExporter;
}

const TRACER_NAME = tracerName;
const serviceVersion = packageVersion;

// Kept on globalThis rather than in a module variable: the OTel API globals are per process, and this module may
// be evaluated more than once in one process (test runners, different import specifiers).
const INSTANCE = tracingKey;
type TracingGlobal = typeof globalThis & { [INSTANCE]?: Tracing };

const env = (name: string): string | undefined => {
  try {
    const value = process.env[name];
    return value === undefined || value === "" ? undefined : value;
  } catch {
    return undefined; // Deno without --allow-env
  }
};

const safeHostname = (): string | undefined => {
  try {
    return hostname();
  } catch {
    return undefined; // Deno without --allow-sys
  }
};

/** Sets up the global tracer provider, context manager and propagator once per process. */
export function initTracing(options: TracingOptions = {}): Tracing {
  const holder = globalThis as TracingGlobal;
  const existing = holder[INSTANCE];
  if (existing) return existing;

  const serviceName = options.serviceName ?? env("OTEL_SERVICE_NAME") ?? "ingest";
  const attributes: Attributes = {
    [ATTR_SERVICE_NAME]: serviceName,
    [ATTR_SERVICE_VERSION]: serviceVersion,
    "process.pid": process.pid,
  };
  const host = safeHostname();
  if (host !== undefined) attributes["host.name"] = host;

  const spanProcessors: SpanProcessor[] = [];
  if (options.exporter) {
    spanProcessors.push(new SimpleSpanProcessor({ exporter: redactedExporter(options.exporter) }));
  } else if (env("OTEL_EXPORTER_OTLP_ENDPOINT") ?? env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")) {
    spanProcessors.push(new BatchSpanProcessor({ exporter: redactedExporter(new OTLPTraceExporter()) }));
  } else if (runningPid("jaeger") !== undefined) {
    // The local stack's Jaeger runs (`ingest stack up jaeger`): every process traces into it, unasked.
    const url = `${settings().jaeger.otlpEndpoint}/v1/traces`;
    spanProcessors.push(new BatchSpanProcessor({ exporter: redactedExporter(new OTLPTraceExporter({ url })) }));
  }

  const provider = new TracerProvider({
    resource: defaultResource().merge(resourceFromAttributes(attributes)),
    spanProcessors,
  });

  const contextManager = new AsyncLocalStorageContextManager().enable();
  // Each setter returns false (and reports through diag) when something else registered first; the tracer
  // returned below comes from our provider either way.
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);

  const quietly = (what: string, pending: Promise<void>): Promise<void> =>
    pending.catch((error: unknown) => logger.warn({ err: error }, `tracing: ${what} failed, spans may be lost`));
  let shuttingDown: Promise<void> | undefined;
  const onBeforeExit = () => void instance.shutdown();

  const instance: Tracing = {
    tracer: provider.getTracer(TRACER_NAME, serviceVersion),
    forceFlush: () => quietly("flush", provider.forceFlush()),
    shutdown: () => {
      shuttingDown ??= (async () => {
        process.off("beforeExit", onBeforeExit);
        try {
          await quietly("shutdown", provider.shutdown());
        } finally {
          if (holder[INSTANCE] === instance) delete holder[INSTANCE];
          trace.disable();
          propagation.disable();
          context.disable();
        }
      })();
      return shuttingDown;
    },
  };
  // The batch processor's timer does not keep the process alive: flush what is queued when the loop empties.
  if (spanProcessors.length > 0) process.once("beforeExit", onBeforeExit);

  holder[INSTANCE] = instance;
  return instance;
}

export { contextFromTraceparent, traceparentOf, withDbSpan, withSpan } from "./spans.ts";
export type { DbOperation, SpanRunOptions } from "./spans.ts";
