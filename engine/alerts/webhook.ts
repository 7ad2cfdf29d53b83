import { createHmac, timingSafeEqual } from "node:crypto";
import { packageVersion } from "../../resources/settings.ts";
import type { WebhookChannelConfig } from "./config.ts";
import type { Attempt, Sender } from "./deliveries.ts";
import type { AlertMessage } from "./message.ts";

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<seconds>.<body>">`, as Stripe signs its webhooks. */
export function signature(secret: string, body: string, seconds: number): string {
  return `t=${seconds},v1=${createHmac("sha256", secret).update(`${seconds}.${body}`).digest("hex")}`;
}

/**
 * Whether a webhook POST from `ingest daemon` is genuine: `header` is its `X-Ingest-Signature`, `body`
 * the raw request body exactly as received (before any JSON parsing), `secret` the channel's. It checks
 * the HMAC-SHA256 over `<timestamp>.<body>` in constant time, and that the timestamp is within
 * `toleranceSeconds` (default 300) of `now`, so a captured request cannot be replayed later. A missing
 * or malformed header is simply not genuine.
 *
 * @example
 * ```ts
 * createServer(async (req, res) => {
 *   let body = "";
 *   for await (const chunk of req) body += chunk;
 *   if (!verifyWebhookSignature(process.env.ALERT_SECRET!, req.headers["x-ingest-signature"], body)) {
 *     res.writeHead(401).end();
 *     return;
 *   }
 *   const alert = JSON.parse(body); // { event, kind, subject, summary, details, links, … }
 *   res.writeHead(204).end();
 * });
 * ```
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | string[] | undefined,
  body: string,
  toleranceSeconds = 300,
  now: Date = new Date(),
): boolean {
  const match = typeof header === "string" ? /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header.trim()) : null;
  if (!match) return false;
  const seconds = Number(match[1]);
  if (Math.abs(now.getTime() / 1000 - seconds) > toleranceSeconds) return false;
  const expected = Buffer.from(signature(secret, body, seconds).split("v1=")[1]!, "hex");
  return timingSafeEqual(expected, Buffer.from(match[2]!, "hex"));
}

const transient = (status: number) => status === 408 || status === 425 || status === 429 || status >= 500;

/**
 * POSTs each message to the hook: a 2xx is delivered; a connection error, a timeout, 408, 425, 429 or 5xx is
 * tried again; any other answer fails the delivery.
 */
export function webhookSender(hook: WebhookChannelConfig, timeoutMs: number): Sender {
  return { send: (message) => postWebhook(hook, message, timeoutMs), close: async () => {} };
}

async function postWebhook(hook: WebhookChannelConfig, message: AlertMessage, timeoutMs: number): Promise<Attempt> {
  const body = JSON.stringify(message);
  const headers: Record<string, string> = {
    ...hook.headers,
    "content-type": "application/json",
    "user-agent": `ingest-graph/${packageVersion}`,
    "x-ingest-event": `incident.${message.event}`,
    "x-ingest-delivery": String(message.deliveryId),
  };
  if (hook.secret) headers["x-ingest-signature"] = signature(hook.secret, body, Math.floor(Date.now() / 1000));
  let response: Response;
  try {
    response = await fetch(hook.url, { method: "POST", headers, body, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    return { delivered: false, retry: true, error: connectionError(error, timeoutMs) };
  }
  const text = await response.text().catch(() => "");
  if (response.ok) return { delivered: true, status: response.status };
  const error = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""}${
    text.trim() ? `: ${text.trim().slice(0, 200)}` : ""
  }`;
  return {
    delivered: false,
    retry: transient(response.status),
    status: response.status,
    error,
    ...(response.status === 429 || response.status === 503
      ? { retryAfterMs: retryAfter(response.headers.get("retry-after")) }
      : {}),
  };
}

/** `Retry-After` as seconds or an HTTP date, in milliseconds from now; undefined when absent or unreadable. */
export function retryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** fetch's own words ("fetch failed") say nothing; its cause says what: refused, unknown host, timed out. */
function connectionError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
    return `no answer within ${timeoutMs} ms`;
  }
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const message = error instanceof Error ? error.message : String(error);
  return cause?.message ? `${message}: ${cause.message}` : message;
}
