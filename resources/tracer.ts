import { hostname } from "node:os";
import process from "node:process";
import {
  type Attributes,
  type Context,
  context,
  isSpanContextValid,
  type Link,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanStatusCode,
  trace,
  type Tracer,
} from "@opentelemetry/api";
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
import { redactText } from "./redact.ts";
import { packageVersion } from "./settings.ts";

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
 * not either (attributes are exported verbatim). Exception messages recorded on failed spans have credentials in
 * URLs (`scheme://user:password@host`) masked, since driver errors sometimes quote a connection string.
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

export interface SpanRunOptions {
  attributes?: Attributes;
  /** Parent context; defaults to the active one. Use `contextFromTraceparent` to continue a remote trace. */
  parent?: Context;
  links?: Link[];
}

const TRACER_NAME = "ingest";
const serviceVersion = packageVersion;

// Kept on globalThis rather than in a module variable: the OTel API globals are per process, and this module may
// be evaluated more than once in one process (test runners, different import specifiers).
const INSTANCE = Symbol.for("ingest.tracing");
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
    spanProcessors.push(new SimpleSpanProcessor({ exporter: options.exporter }));
  } else if (env("OTEL_EXPORTER_OTLP_ENDPOINT") ?? env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")) {
    spanProcessors.push(new BatchSpanProcessor({ exporter: new OTLPTraceExporter() }));
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

const activeTracer = (): Tracer =>
  (globalThis as TracingGlobal)[INSTANCE]?.tracer ?? trace.getTracer(TRACER_NAME, serviceVersion);

/** The W3C `traceparent` of the context's span (default: the active context), or undefined when there is none. */
export function traceparentOf(ctx: Context = context.active()): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier["traceparent"];
}

/** A context whose (remote) span is the one named by `traceparent`; ROOT_CONTEXT when missing or invalid. */
export function contextFromTraceparent(traceparent: string | null | undefined): Context {
  if (!traceparent) return ROOT_CONTEXT;
  const ctx = propagation.extract(ROOT_CONTEXT, { traceparent });
  const spanContext = trace.getSpanContext(ctx);
  return spanContext && isSpanContextValid(spanContext) ? ctx : ROOT_CONTEXT;
}

const scrub = redactText;

interface RecordedException {
  name: string;
  message: string;
  stack?: string;
  code?: string | number;
}

const toException = (error: unknown): RecordedException => {
  if (!(error instanceof Error)) return { name: "Error", message: scrub(String(error)) };
  const exception: RecordedException = { name: error.name, message: scrub(error.message) };
  if (error.stack !== undefined) exception.stack = scrub(error.stack);
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" || typeof code === "number") exception.code = code;
  return exception;
};

/**
 * Runs `fn` inside a new active span (a child of `options.parent`, else of the active span). A throw is recorded
 * as an exception event with ERROR status and rethrown; the span always ends.
 */
export async function withSpan<T>(name: string, options: SpanRunOptions, fn: (span: Span) => Promise<T>): Promise<T> {
  const parent = options.parent ?? context.active();
  const spanOptions: { attributes?: Attributes; links?: Link[] } = {};
  if (options.attributes) spanOptions.attributes = options.attributes;
  if (options.links) spanOptions.links = options.links;
  return activeTracer().startActiveSpan(name, spanOptions, parent, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      const exception = toException(error);
      span.recordException(exception);
      span.setStatus({ code: SpanStatusCode.ERROR, message: exception.message });
      throw error;
    } finally {
      span.end();
    }
  });
}
