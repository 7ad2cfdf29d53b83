import { context, ROOT_CONTEXT, SpanStatusCode, trace } from "@opentelemetry/api";
import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "../../resources/logger.ts";
import { registerSecret } from "../../resources/redact.ts";
import { contextFromTraceparent, initTracing, traceparentOf, type Tracing, withSpan } from "../../resources/tracer.ts";

const exporter = new InMemorySpanExporter();
let tracing: Tracing;

beforeAll(() => {
  tracing = initTracing({ serviceName: "ingest-test", exporter });
});
afterAll(async () => {
  await tracing.shutdown();
});
beforeEach(() => exporter.reset());

const finished = async (): Promise<ReadableSpan[]> => {
  await tracing.forceFlush();
  return exporter.getFinishedSpans();
};
const byName = (spans: ReadableSpan[], name: string): ReadableSpan => {
  const span = spans.find((s) => s.name === name);
  if (!span) throw new Error(`no span ${name} among ${spans.map((s) => s.name).join(", ")}`);
  return span;
};

describe("tracing", () => {
  it("is initialised once per process", () => {
    expect(initTracing()).toBe(tracing);
  });

  it("nests spans into one trace", async () => {
    await withSpan("run", { attributes: { "ingest.run_id": "r1" } }, async () => {
      await withSpan("asset", {}, async () => {
        await new Promise((resolve) => setTimeout(resolve, 5)); // context survives an async hop
        await withSpan("write", {}, async () => undefined);
      });
    });
    const spans = await finished();
    const [run, asset, write] = ["run", "asset", "write"].map((n) => byName(spans, n));
    expect(new Set(spans.map((s) => s.spanContext().traceId)).size).toBe(1);
    expect(run!.parentSpanContext).toBeUndefined();
    expect(asset!.parentSpanContext?.spanId).toBe(run!.spanContext().spanId);
    expect(write!.parentSpanContext?.spanId).toBe(asset!.spanContext().spanId);
    expect(run!.attributes["ingest.run_id"]).toBe("r1");
    expect(run!.resource.attributes["service.name"]).toBe("ingest-test");
    expect(run!.resource.attributes["service.version"]).toBe("0.1.0");
    expect(run!.resource.attributes["process.pid"]).toBe(process.pid);
    expect(typeof run!.resource.attributes["host.name"]).toBe("string");
    expect(run!.status.code).toBe(SpanStatusCode.UNSET);
  });

  it("continues a trace from a traceparent, as a job in another process would", async () => {
    let traceparent: string | undefined;
    await withSpan("enqueue", {}, async () => {
      traceparent = traceparentOf();
    });
    expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);

    // The "worker": no active span, only the string stored with the job.
    await context.with(
      ROOT_CONTEXT,
      () =>
        withSpan("job", { parent: contextFromTraceparent(traceparent) }, async () => {
          await withSpan("job-step", {}, async () => undefined);
        }),
    );
    const spans = await finished();
    const [enqueue, job, step] = ["enqueue", "job", "job-step"].map((n) => byName(spans, n));
    expect(job!.spanContext().traceId).toBe(enqueue!.spanContext().traceId);
    expect(job!.parentSpanContext?.spanId).toBe(enqueue!.spanContext().spanId);
    expect(job!.parentSpanContext?.isRemote).toBe(true);
    expect(step!.parentSpanContext?.spanId).toBe(job!.spanContext().spanId);
    expect(traceparent).toBe(`00-${enqueue!.spanContext().traceId}-${enqueue!.spanContext().spanId}-01`);
  });

  it("treats a missing or malformed traceparent as a new trace", async () => {
    expect(contextFromTraceparent(undefined)).toBe(ROOT_CONTEXT);
    expect(contextFromTraceparent(null)).toBe(ROOT_CONTEXT);
    expect(contextFromTraceparent("not-a-traceparent")).toBe(ROOT_CONTEXT);
    expect(contextFromTraceparent(`00-${"0".repeat(32)}-${"1".repeat(16)}-01`)).toBe(ROOT_CONTEXT);
    expect(traceparentOf(ROOT_CONTEXT)).toBeUndefined();
    await withSpan("fresh", { parent: contextFromTraceparent("garbage") }, async () => undefined);
    expect(byName(await finished(), "fresh").parentSpanContext).toBeUndefined();
  });

  it("records a thrown error on the span and rethrows it", async () => {
    const boom = new Error("connect failed for postgres://ingest:hunter2@db:5432/ingest");
    await expect(withSpan("failing", {}, async () => {
      throw boom;
    })).rejects.toBe(boom);
    await expect(withSpan("failing-string", {}, async () => {
      throw "plain";
    })).rejects.toBe("plain");

    const spans = await finished();
    const failing = byName(spans, "failing");
    expect(failing.ended).toBe(true);
    expect(failing.status.code).toBe(SpanStatusCode.ERROR);
    const event = failing.events.find((e) => e.name === "exception");
    expect(event?.attributes?.["exception.type"]).toBe("Error");
    expect(event?.attributes?.["exception.message"]).toBe(
      "connect failed for postgres://ingest:[redacted]@db:5432/ingest",
    );
    expect(JSON.stringify([failing.events, failing.status, failing.attributes])).not.toContain("hunter2");
    const failingString = byName(spans, "failing-string");
    expect(failingString.status.code).toBe(SpanStatusCode.ERROR);
    expect(failingString.events[0]?.attributes?.["exception.message"]).toBe("plain");
  });

  it("exports every span redacted, whoever recorded it raw: name, attributes, status and events", async () => {
    registerSecret("planted-span-secret-7");
    const span = tracing.tracer.startSpan("GET https://api.example/items?api_key=k-123456");
    span.setAttribute("url.full", "https://api.example/items?page=2&access_token=at-987654");
    span.setAttribute("headers", ["authorization: Bearer abcdefghijklmnop", "accept: */*"]);
    span.recordException(new Error("refused planted-span-secret-7 for https://u:pw-31337@api.example"));
    span.setStatus({ code: SpanStatusCode.ERROR, message: "401 for Bearer abcdefghijklmnop" });
    span.end();
    const [exported] = await finished();
    const text = JSON.stringify([exported!.name, exported!.attributes, exported!.status, exported!.events]);
    for (const leaked of ["k-123456", "at-987654", "abcdefghijklmnop", "planted-span-secret-7", "pw-31337"]) {
      expect(text).not.toContain(leaked);
    }
    expect(exported!.name).toBe("GET https://api.example/items?api_key=[redacted]");
    expect(exported!.attributes["url.full"]).toBe("https://api.example/items?page=2&access_token=[redacted]");
    expect(exported!.status).toEqual({ code: SpanStatusCode.ERROR, message: "401 for Bearer [redacted]" });
    expect(exported!.events[0]?.attributes?.["exception.message"]).toBe(
      "refused [redacted] for https://u:[redacted]@api.example",
    );
    // The rest is the span as recorded.
    expect(exported!.spanContext().spanId).toBe(span.spanContext().spanId);
    expect(exported!.ended).toBe(true);
  });
});

describe("log lines", () => {
  const capture = () => {
    const lines: Record<string, unknown>[] = [];
    const log = createLogger({ write: (line: string) => void lines.push(JSON.parse(line)) });
    return { log, lines };
  };

  it("carry the active span's trace_id and span_id, and none outside a span", async () => {
    const { log, lines } = capture();
    log.info("before");
    let ids: { traceId: string; spanId: string } | undefined;
    let innerIds: { traceId: string; spanId: string } | undefined;
    await withSpan("logging", {}, async (span) => {
      ids = span.spanContext();
      log.info({ password: "hunter2" }, "inside");
      await withSpan("inner", {}, async () => {
        innerIds = trace.getActiveSpan()!.spanContext();
        log.warn("nested");
      });
    });
    log.info("after");

    const [before, inside, nested, after] = lines;
    expect(before).not.toHaveProperty("trace_id");
    expect(before).not.toHaveProperty("span_id");
    expect(inside).toMatchObject({
      msg: "inside",
      trace_id: ids!.traceId,
      span_id: ids!.spanId,
      password: "[redacted]",
    });
    expect(nested).toMatchObject({ msg: "nested", trace_id: ids!.traceId, span_id: innerIds!.spanId });
    expect(innerIds!.spanId).not.toBe(ids!.spanId);
    expect(after).not.toHaveProperty("trace_id");
    expect(after).not.toHaveProperty("span_id");
  });

  it("carry no ids for a context without a valid span", () => {
    const { log, lines } = capture();
    const invalid = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: "0".repeat(32),
      spanId: "0".repeat(16),
      traceFlags: 0,
    });
    context.with(invalid, () => log.info("invalid"));
    expect(lines[0]).not.toHaveProperty("trace_id");
  });
});

describe("log redaction", () => {
  const capture = () => {
    const lines: Record<string, unknown>[] = [];
    const log = createLogger({ write: (line: string) => void lines.push(JSON.parse(line)) });
    return { log, lines };
  };

  it("redacts credential-like keys at any depth, URL passwords, bearer tokens and registered secret values", () => {
    registerSecret("s3cr3t-value-42");
    const { log, lines } = capture();
    log.child({ clientSecret: "bound-secret" }).info({
      apiKey: "sk-123",
      config: { api_key: "sk-456", nested: { accessToken: "at-1", refresh_token: "rt-1", Authorization: "Basic x" } },
      headers: { cookie: "session=1" },
      url: "postgres://ingest:pa55word@db:5432/ingest",
      note: "the value s3cr3t-value-42 leaked into a message",
      assetKey: "ec/orders",
      sourceKey: "42",
      tokens: 17,
    }, "calling with Bearer abcdefghijklmnop and s3cr3t-value-42");
    const line = lines[0]!;
    const text = JSON.stringify(line);
    for (
      const leaked of [
        "sk-123",
        "sk-456",
        "at-1",
        "rt-1",
        "Basic x",
        "session=1",
        "pa55word",
        "s3cr3t-value-42",
        "abcdefghijklmnop",
        "bound-secret",
      ]
    ) {
      expect(text).not.toContain(leaked);
    }
    expect(line).toMatchObject({
      apiKey: "[redacted]",
      clientSecret: "[redacted]",
      url: "postgres://ingest:[redacted]@db:5432/ingest",
      assetKey: "ec/orders",
      sourceKey: "42",
      tokens: 17,
      msg: "calling with Bearer [redacted] and [redacted]",
    });
  });

  it("redacts credential-like query parameters, and leaves the others", () => {
    const { log, lines } = capture();
    log.warn(
      "GET https://api.example/v1/items?page=2&api_key=k1-secret&X-Api-Key=k2-secret&client_secret=cs-secret" +
        "&key=g-secret&access_token=at-secret&sort=name retried",
    );
    expect(lines[0]!.msg).toBe(
      "GET https://api.example/v1/items?page=2&api_key=[redacted]&X-Api-Key=[redacted]&client_secret=[redacted]" +
        "&key=[redacted]&access_token=[redacted]&sort=name retried",
    );
  });

  it("redacts inside logged errors: message, stack and their own fields", () => {
    registerSecret("another-secret-99");
    const { log, lines } = capture();
    const error = Object.assign(new Error("auth failed with another-secret-99 for https://u:pw123456@api.example"), {
      password: "pw123456",
    });
    log.error({ err: error }, "request failed");
    const text = JSON.stringify(lines[0]);
    expect(text).not.toContain("another-secret-99");
    expect(text).not.toContain("pw123456");
    expect(lines[0]).toMatchObject({ err: { type: "Error", password: "[redacted]" } });
    expect((lines[0]!.err as { message: string }).message).toBe(
      "auth failed with [redacted] for https://u:[redacted]@api.example",
    );
  });
});
