import type { Attributes, AttributeValue } from "@opentelemetry/api";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace";
import { redactText } from "./redact.ts";

const redactValue = (value: AttributeValue | undefined): AttributeValue | undefined =>
  typeof value === "string"
    ? redactText(value)
    : Array.isArray(value)
    ? (value.map((item) => (typeof item === "string" ? redactText(item) : item)) as AttributeValue)
    : value;

const redactAttributes = (attributes: Attributes): Attributes =>
  Object.fromEntries(Object.entries(attributes).map(([key, value]) => [key, redactValue(value)]));

/**
 * The span as it leaves the process: its name, attributes, status message and events' attributes through
 * `redactText`. The span itself stays as recorded (it is the SDK's, and other processors see it); the copy
 * reads everything else from it.
 */
function redactedSpan(span: ReadableSpan): ReadableSpan {
  return Object.create(span, {
    name: { value: redactText(span.name) },
    attributes: { value: redactAttributes(span.attributes) },
    status: { value: span.status.message ? { ...span.status, message: redactText(span.status.message) } : span.status },
    events: {
      value: span.events.map((
        event,
      ) => (event.attributes ? { ...event, attributes: redactAttributes(event.attributes) } : event)),
    },
  });
}

/**
 * An exporter that sends spans redacted, whoever recorded them: an exception recorded raw (an error's message
 * quoting a URL with its API key, a header a user's code put in it) leaves with the secrets this process read
 * (`envSecret`, the stack's), passwords in URLs and bearer tokens replaced, as log lines do.
 */
export function redactedExporter(exporter: SpanExporter): SpanExporter {
  return {
    export: (spans, resultCallback) => exporter.export(spans.map(redactedSpan), resultCallback),
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
}
