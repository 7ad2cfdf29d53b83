import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { join } from "node:path";
import { bearerToken, closeServer, listen, readBody, sameSecret, sendJson as send } from "./apis/http.ts";
import { indexedFile, indexLines, readLines } from "./apis/line-index.ts";
import { injectedFailures, RateLimits } from "./apis/limits.ts";

export interface CrmApiOptions {
  /** The folder holding `companies.jsonl`, `contacts.jsonl`, `deals.jsonl` and `owners.jsonl` (`<out>/crm/api`). */
  dataDir: string;
  /** Default 0: any free port. */
  port?: number;
  host?: string;
  clientId: string;
  clientSecret: string;
  /** Per access token (default 10): more and the answer is 429 with a Retry-After. */
  requestsPerSecond?: number;
  /** Default 1 800 (HubSpot's 30 minutes). */
  tokenTtlSeconds?: number;
  /** The fraction of object requests answered 503 (default 0), drawn from a generator seeded by `seed`. */
  failureRate?: number;
  seed?: number;
}

/** What the server saw and answered: tests assert on it. */
export interface CrmApiStats {
  requests: number;
  tokensIssued: number;
  /** Token requests refused: wrong client id or secret, or not a client-credentials grant. */
  tokensRefused: number;
  /** 401s: a missing, unknown, revoked or expired token. */
  unauthorized: number;
  /** 429s. */
  tooManyRequests: number;
  /** Requests that came back sooner than a 429's Retry-After said (each answered 429 again). */
  retryAfterIgnored: number;
  /** Injected 503s. */
  serviceUnavailable: number;
  /** Pages of objects served. */
  pages: number;
}

export interface CrmApi {
  url: string;
  stats: CrmApiStats;
  /** Makes every token issued so far invalid: the next request with one gets a 401. */
  revokeTokens(): void;
  close(): Promise<void>;
}

const objectTypes = ["companies", "contacts", "deals", "owners"] as const;
type CrmObjectType = (typeof objectTypes)[number];
const maxPageSize = 100;

/**
 * A local stand-in for the CRM's REST API as samples/SOURCES.md documents it: OAuth2 client
 * credentials, Bearer tokens that expire, `after`-cursor paging over the JSON Lines files in
 * `dataDir` (indexed by byte offset, never loaded whole), 429 + Retry-After past the rate per token,
 * and a seeded fraction of 503s.
 *
 * @example
 * const api = await startCrmApi({ dataDir: "out/crm/api", clientId: "ingest", clientSecret: "s3cret", failureRate: 0.05 });
 * console.log(api.url, api.stats);
 * await api.close();
 */
export async function startCrmApi(options: CrmApiOptions): Promise<CrmApi> {
  const {
    dataDir,
    clientId,
    clientSecret,
    requestsPerSecond = 10,
    tokenTtlSeconds = 1_800,
    failureRate = 0,
    seed = 1,
  } = options;
  const stats: CrmApiStats = {
    requests: 0,
    tokensIssued: 0,
    tokensRefused: 0,
    unauthorized: 0,
    tooManyRequests: 0,
    retryAfterIgnored: 0,
    serviceUnavailable: 0,
    pages: 0,
  };
  const sessions = new Map<string, { expiresAt: number }>();
  const limits = new RateLimits(requestsPerSecond);
  const failing = injectedFailures(failureRate, seed);
  const indexes = new Map(
    objectTypes.map((type) => [type, indexedFile(join(dataDir, `${type}.jsonl`), (path) => indexLines(path))]),
  );

  async function issueToken(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const form = new URLSearchParams(await readBody(request));
    if (form.get("grant_type") !== "client_credentials") {
      stats.tokensRefused += 1;
      return send(response, 400, {
        error: "unsupported_grant_type",
        error_description: "only grant_type=client_credentials is supported",
      });
    }
    if (!sameSecret(form.get("client_id"), clientId) || !sameSecret(form.get("client_secret"), clientSecret)) {
      stats.tokensRefused += 1;
      return send(response, 401, { error: "invalid_client", error_description: "client authentication failed" });
    }
    const token = randomBytes(24).toString("base64url");
    sessions.set(token, { expiresAt: Date.now() + tokenTtlSeconds * 1000 });
    stats.tokensIssued += 1;
    send(response, 200, { access_token: token, token_type: "bearer", expires_in: tokenTtlSeconds });
  }

  /** The session behind the request's token, or the refusal already sent. */
  function admit(request: IncomingMessage, response: ServerResponse): boolean {
    const token = bearerToken(request);
    const session = token === undefined ? undefined : sessions.get(token);
    if (!session || session.expiresAt <= Date.now()) {
      if (session) sessions.delete(token!);
      stats.unauthorized += 1;
      send(response, 401, {
        status: "error",
        category: session ? "EXPIRED_AUTHENTICATION" : "INVALID_AUTHENTICATION",
        message: session ? "the access token has expired" : "a valid Bearer token is required",
      });
      return false;
    }
    const admission = limits.admit(token!);
    if (!admission.ok) {
      if (admission.early) stats.retryAfterIgnored += 1;
      return tooMany(response, admission.retryAfterSeconds * 1000);
    }
    if (failing()) {
      stats.serviceUnavailable += 1;
      send(response, 503, {
        status: "error",
        category: "SERVICE_UNAVAILABLE",
        message: "the service is temporarily unavailable",
      });
      return false;
    }
    return true;
  }

  function tooMany(response: ServerResponse, waitMs: number): false {
    stats.tooManyRequests += 1;
    response.setHeader("retry-after", String(Math.ceil(waitMs / 1000)));
    send(response, 429, {
      status: "error",
      category: "RATE_LIMITS",
      message: `more than ${requestsPerSecond} requests a second`,
    });
    return false;
  }

  async function listObjects(type: CrmObjectType, url: URL, response: ServerResponse): Promise<void> {
    const index = await indexes.get(type)!().catch(() => undefined);
    if (!index) {
      return send(response, 404, { status: "error", category: "OBJECT_NOT_FOUND", message: `no data for ${type}` });
    }
    const limit = Math.min(maxPageSize, Math.max(1, Number(url.searchParams.get("limit") ?? 10) || 10));
    const after = url.searchParams.get("after");
    const offset = after === null ? 0 : decodeCursor(after, type);
    if (offset === undefined || offset > index.starts.length) {
      return send(response, 400, { status: "error", category: "VALIDATION_ERROR", message: "invalid after cursor" });
    }
    const results = await readLines(index, offset, Math.min(offset + limit, index.starts.length));
    const next = offset + limit < index.starts.length ? encodeCursor(type, offset + limit) : undefined;
    stats.pages += 1;
    send(response, 200, {
      results,
      ...(next
        ? { paging: { next: { after: next, link: `${url.origin}${url.pathname}?limit=${limit}&after=${next}` } } }
        : {}),
    });
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    stats.requests += 1;
    const url = new URL(request.url ?? "/", "http://localhost");
    if (request.method === "POST" && url.pathname === "/oauth/token") return issueToken(request, response);
    const type = /^\/crm\/v3\/objects\/([a-z]+)$/.exec(url.pathname)?.[1];
    if (request.method !== "GET" || type === undefined || !indexes.has(type as CrmObjectType)) {
      return send(response, 404, {
        status: "error",
        category: "OBJECT_NOT_FOUND",
        message: `no route for ${request.method} ${url.pathname}`,
      });
    }
    if (admit(request, response)) await listObjects(type as CrmObjectType, url, response);
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: Error) => {
      if (!response.headersSent) {
        send(response, 500, { status: "error", category: "INTERNAL_ERROR", message: error.message });
      } else response.destroy(error);
    });
  });
  const url = await listen(server, options.port ?? 0, options.host ?? "127.0.0.1");
  return {
    url,
    stats,
    revokeTokens: () => sessions.clear(),
    close: () => closeServer(server),
  };
}

const encodeCursor = (type: string, offset: number) => Buffer.from(`${type}:${offset}`).toString("base64url");

function decodeCursor(cursor: string, type: string): number | undefined {
  const [cursorType, offset] = Buffer.from(cursor, "base64url").toString().split(":");
  return cursorType === type && offset !== undefined && /^\d+$/.test(offset) ? Number(offset) : undefined;
}
