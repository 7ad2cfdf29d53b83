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
import { redactText } from "./redact.ts";
import { serverOf } from "./servers.ts";
import { packageVersion } from "./settings.ts";

/**
 * Spans, with OpenTelemetry's API alone: what assets, connectors and the engine use to record what they
 * do. Which processor exports them is set up once per process by `initTracing` (resources/tracer.ts),
 * which loads the SDK; code that only makes spans never loads it, so loading a project's definitions
 * stays quick.
 */

/** The name and version spans are recorded under. */
export const tracerName = "ingest";
/** Where `initTracing` keeps its tracer: on globalThis, since the OTel API globals are per process. */
export const tracingKey: unique symbol = Symbol.for("ingest.tracing") as never;

/** Where a span goes and what it carries. */
export interface SpanRunOptions {
  /** Attributes set when it starts. */
  attributes?: Attributes;
  /** Parent context; defaults to the active one. Use `contextFromTraceparent` to continue a remote trace. */
  parent?: Context;
  /** Spans of other traces this one relates to (the tick that requested a run, say). */
  links?: Link[];
}

const activeTracer = (): Tracer =>
  (globalThis as { [tracingKey]?: { tracer: Tracer } })[tracingKey]?.tracer ??
    trace.getTracer(tracerName, packageVersion);

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

/** One operation on a store, as a span: what OpenTelemetry's database conventions ask for. */
export interface DbOperation {
  /** `postgresql`, `neo4j`, `chroma`: `db.system.name`. */
  system: string;
  /** `MERGE`, `DELETE`, `upsert`, `COPY`…: `db.operation.name`. */
  operation: string;
  /** The table, label, relationship type or collection: `db.collection.name`. */
  collection: string;
  /** Records in the operation: `db.operation.batch.size` (left out below 2, as the conventions say). */
  batchSize?: number;
  /** The client whose server is named (see {@link rememberServer}). */
  client?: object;
}

/**
 * Runs one store operation in a span named `<operation> <collection>` with the database conventions'
 * attributes; `fn` may add its own (what it wrote, say). One span per operation on a batch, never per
 * record, so a load of millions of records makes hundreds of spans, not millions.
 */
export function withDbSpan<T>(op: DbOperation, fn: (span: Span) => Promise<T>): Promise<T> {
  const server = op.client ? serverOf(op.client) : undefined;
  const attributes: Attributes = {
    "db.system.name": op.system,
    "db.operation.name": op.operation,
    "db.collection.name": op.collection,
  };
  if (op.batchSize !== undefined && op.batchSize > 1) attributes["db.operation.batch.size"] = op.batchSize;
  if (server) {
    attributes["server.address"] = server.address;
    if (server.port !== undefined) attributes["server.port"] = server.port;
  }
  return withSpan(`${op.operation} ${op.collection}`, { attributes }, fn);
}
