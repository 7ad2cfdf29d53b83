import { createHash } from "node:crypto";
import type { Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { logger } from "../../resources/logger.ts";
import type { pg } from "../../resources/postgres.ts";
import { WebhookDeliveries } from "./deliveries.ts";
import {
  readSignature,
  type RejectionReason,
  signatureMatches,
  type WebhookSource,
  webhookSourceProblems,
} from "./source.ts";

/** What {@link webhookApp} serves. */
export interface WebhookAppOptions {
  /** A pool on the framework's database, migrated (`ingest.webhook_deliveries`); the caller ends it. */
  pool: pg.Pool;
  /** The sources served, each at `POST /webhooks/<name>`. */
  sources: WebhookSource[];
  /**
   * How long a delivery's insert may take before the sender is answered 503 (default 10 s): a database that
   * hangs is as good as one that is down. The insert may still land; the sender's retry is then a duplicate.
   */
  storeTimeoutMs?: number;
}

/** The headers naming a delivery, most specific first: a sender's retries carry the same value. */
const deliveryIdHeaders = ["x-delivery-id", "x-zendesk-webhook-id", "idempotency-key"] as const;

/** Seconds a sender is asked to wait when the database cannot take its delivery. */
const retryAfterSeconds = 5;

const sha256 = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex");

/** The delivery's id: the sender's (hashed if unreasonably long), else the body's sha256. */
function deliveryIdOf(header: (name: string) => string | undefined, body: Uint8Array): string {
  for (const name of deliveryIdHeaders) {
    const value = header(name)?.trim();
    if (value) return value.length <= 200 ? value : `sha256:${sha256(value)}`;
  }
  return `sha256:${sha256(body)}`;
}

/**
 * The body, read as it streams in, or undefined as soon as it passes `limit` bytes: what came so far is
 * dropped, and nothing more is taken from the stream.
 */
async function readBody(request: Request, limit: number): Promise<Buffer | undefined> {
  if (!request.body) return Buffer.alloc(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks, size);
    size += value.byteLength;
    if (size > limit) {
      reader.releaseLock();
      return undefined;
    }
    chunks.push(value);
  }
}

/** `promise`, or a rejection once `ms` have passed without it settling. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the database did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The webhook receiver as a Hono app (serve it with {@link serveWebhooks}, or mount it in an app of your
 * own): `POST /webhooks/<source>` checks the delivery's signature, stores it in `ingest.webhook_deliveries`
 * and answers 202 `{ id, deliveryId, duplicate }` only once the row is committed; `GET /webhooks/health`
 * answers 200. A delivery is refused with 404 (unknown source), 413 (body over the source's limit, by
 * `Content-Length` or as it streams), 401 (signature missing, malformed or wrong, or timestamp outside the
 * window: counted in `ingest.webhook_rejections`, the body never stored) or 503 with `Retry-After` (the
 * database cannot take it, or the source has no secret). A body need not be JSON: it is stored as sent,
 * with its `Content-Type`. Signatures, secrets and bodies are never logged.
 *
 * @example
 * ```ts
 * const app = webhookApp({ pool, sources: [chat] });
 * const response = await app.request("/webhooks/chat", { method: "POST", body, headers: signDelivery(chat, secret, body) });
 * ```
 */
export function webhookApp(options: WebhookAppOptions): Hono {
  const { pool, storeTimeoutMs = 10_000 } = options;
  const sources = new Map(options.sources.map((source) => [source.name, source]));
  const deliveries = new WebhookDeliveries(pool);
  const log = logger.child({ component: "webhooks" });
  const app = new Hono();

  app.get("/webhooks/health", (c) => c.json({ status: "ok" }));

  app.post("/webhooks/:source", async (c) => {
    const source = sources.get(c.req.param("source"));
    if (!source) return c.json({ error: "unknown webhook source" }, 404);
    const header = (name: string) => c.req.header(name);

    const refuse = async (status: 401 | 413, reason: RejectionReason) => {
      log.warn({ source: source.name, reason, status }, "webhook delivery refused");
      // Counted, best effort: a database that is down must not turn a refusal into an acceptance or a 5xx.
      await deliveries.reject(source.name, reason).catch((error: unknown) =>
        log.error({ source: source.name, reason, err: error }, "could not count a refused webhook delivery")
      );
      // The rest of a refused body is not read here: once answered, the server discards what still comes for at
      // most half a second (so that the sender reads the answer), then closes the connection.
      return c.json({ error: status === 413 ? "body too large" : "unauthorized", reason }, status);
    };
    const unavailable = (error: string) => c.json({ error }, 503, { "retry-after": String(retryAfterSeconds) });

    const length = Number(header("content-length") ?? Number.NaN);
    if (length > source.maxBodyBytes) return refuse(413, "too_large");
    const signed = readSignature(source, header);
    if ("rejected" in signed) return refuse(401, signed.rejected);
    let secrets: string[];
    try {
      secrets = source.secrets();
    } catch (error) {
      log.error({ source: source.name, err: error }, "could not read the webhook source's secrets");
      return unavailable("no secret configured");
    }
    if (secrets.length === 0) {
      log.error({ source: source.name }, "the webhook source has no secret: every delivery is refused with 503");
      return unavailable("no secret configured");
    }
    const body = await readBody(c.req.raw, source.maxBodyBytes);
    if (!body) return refuse(413, "too_large");
    if (!signatureMatches(secrets, signed, body)) return refuse(401, "bad_signature");

    const deliveryId = deliveryIdOf(header, body);
    const storing = deliveries.append({ source: source.name, deliveryId, contentType: header("content-type"), body });
    try {
      const { id, duplicate } = await within(storing, storeTimeoutMs);
      log.debug({ source: source.name, deliveryId, id, bytes: body.length, duplicate }, "webhook delivery stored");
      return c.json({ id, deliveryId, duplicate }, 202);
    } catch (error) {
      storing.catch(() => {}); // a timed-out insert that fails later has nothing left to answer
      log.error({ source: source.name, deliveryId, err: error }, "could not store a webhook delivery");
      return unavailable("the delivery could not be stored; retry later");
    }
  });

  return app;
}

/** Where {@link serveWebhooks} serves. */
export interface ServeWebhooksOptions extends WebhookAppOptions {
  /** The port; 0 picks a free one. */
  port: number;
  /** The address to bind (default 127.0.0.1). */
  host?: string;
  /** How long `close()` lets requests in flight finish before it cuts their connections (default 30 s). */
  drainMs?: number;
}

/** A running webhook receiver. */
export interface WebhookServer extends AsyncDisposable {
  /** `http://<host>:<port>`: deliveries go to `<url>/webhooks/<source>`. */
  url: string;
  /** Stops accepting connections, lets the requests in flight be answered, then closes; the pool stays open. */
  close(): Promise<void>;
}

/**
 * Serves {@link webhookApp} until closed: what `ingest webhooks` runs. Throws before listening when a
 * source has no secret, or two sources share a name.
 *
 * @example
 * ```ts
 * const server = await serveWebhooks({ pool, sources: [chat], port: 58084 });
 * console.log(`${server.url}/webhooks/chat`);
 * process.once("SIGTERM", () => server.close());
 * ```
 */
export async function serveWebhooks(options: ServeWebhooksOptions): Promise<WebhookServer> {
  const host = options.host ?? "127.0.0.1";
  const problems = webhookSourceProblems(options.sources);
  if (problems.length > 0) throw new Error(problems.join("\n"));
  for (const source of options.sources) {
    if (source.secrets().length === 0) {
      throw new Error(`webhook source '${source.name}' has no secret: its secrets() gave none (is its variable set?)`);
    }
  }
  const app = webhookApp(options);
  const inFlight = new Set<ServerResponse>();
  let drained: (() => void) | undefined;
  let closing = false;
  const server = await new Promise<Server>((resolve, reject) => {
    const s: Server = serve({
      fetch: app.fetch,
      port: options.port,
      hostname: host,
      // A sender has a minute to send its request: a trickling one does not hold a connection for Node's 5.
      serverOptions: { requestTimeout: 60_000 },
    }, () => resolve(s)) as Server;
    s.once("error", reject);
    s.on("request", (_request, response: ServerResponse) => {
      inFlight.add(response);
      if (closing) response.setHeader("connection", "close");
      response.once("close", () => {
        inFlight.delete(response);
        if (inFlight.size === 0) drained?.();
      });
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  let closed: Promise<void> | undefined;
  const close = () =>
    closed ??= (async () => {
      closing = true;
      // No new connections from here; idle keep-alive ones are closed, and the others once answered.
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const response of inFlight) if (!response.headersSent) response.setHeader("connection", "close");
      if (inFlight.size > 0) {
        await new Promise<void>((resolve) => {
          drained = resolve;
          setTimeout(resolve, options.drainMs ?? 30_000).unref();
        });
      }
      // What is left is idle between requests, or past the grace period.
      server.closeAllConnections();
      await stopped;
    })();
  return { url, close, [Symbol.asyncDispose]: close };
}
