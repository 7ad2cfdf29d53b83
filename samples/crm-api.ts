import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { TokenBucket } from "../connectors/token-bucket.ts";

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

const objectTypes = new Set(["companies", "contacts", "deals", "owners"]);
const maxPageSize = 100;
/** Slack for timers and clocks before a request counts as ignoring Retry-After. */
const retryAfterSlackMs = 50;

interface Session {
  expiresAt: number;
  bucket: TokenBucket;
  /** Set by a 429: when the Retry-After it sent runs out. */
  retryAfterUntil: number;
}

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
  const sessions = new Map<string, Session>();
  const random = mulberry32(seed);
  const indexes = new Map<string, { version: string; index: Promise<LineIndex> }>();
  // Re-indexed whenever the file changes (a new `ingest generate`): an index of the old file would
  // read the new one at stale offsets.
  const indexOf = async (type: string) => {
    const path = join(dataDir, `${type}.jsonl`);
    const { mtimeMs, size } = await stat(path);
    const version = `${mtimeMs}:${size}`;
    const cached = indexes.get(type);
    if (cached?.version === version) return cached.index;
    const index = indexLines(path);
    indexes.set(type, { version, index });
    return index;
  };

  async function issueToken(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const form = new URLSearchParams(await readBody(request));
    if (form.get("grant_type") !== "client_credentials") {
      stats.tokensRefused += 1;
      return send(response, 400, {
        error: "unsupported_grant_type",
        error_description: "only grant_type=client_credentials is supported",
      });
    }
    if (!same(form.get("client_id"), clientId) || !same(form.get("client_secret"), clientSecret)) {
      stats.tokensRefused += 1;
      return send(response, 401, { error: "invalid_client", error_description: "client authentication failed" });
    }
    const token = randomBytes(24).toString("base64url");
    sessions.set(token, {
      expiresAt: Date.now() + tokenTtlSeconds * 1000,
      bucket: new TokenBucket(requestsPerSecond),
      retryAfterUntil: 0,
    });
    stats.tokensIssued += 1;
    send(response, 200, { access_token: token, token_type: "bearer", expires_in: tokenTtlSeconds });
  }

  /** The session behind the request's token, or the refusal already sent. */
  function admit(request: IncomingMessage, response: ServerResponse): boolean {
    const token = /^Bearer (.+)$/i.exec(request.headers.authorization ?? "")?.[1];
    const session = token === undefined ? undefined : sessions.get(token);
    const now = Date.now();
    if (!session || session.expiresAt <= now) {
      if (session) sessions.delete(token!);
      stats.unauthorized += 1;
      send(response, 401, {
        status: "error",
        category: session ? "EXPIRED_AUTHENTICATION" : "INVALID_AUTHENTICATION",
        message: session ? "the access token has expired" : "a valid Bearer token is required",
      });
      return false;
    }
    if (now < session.retryAfterUntil - retryAfterSlackMs) {
      stats.retryAfterIgnored += 1;
      return tooMany(response, session.retryAfterUntil - now);
    }
    const wait = session.bucket.tryTake();
    if (wait > 0) {
      const seconds = Math.ceil(wait / 1000);
      session.retryAfterUntil = now + seconds * 1000;
      return tooMany(response, seconds * 1000);
    }
    if (random() < failureRate) {
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

  async function listObjects(type: string, url: URL, response: ServerResponse): Promise<void> {
    const index = await indexOf(type).catch(() => undefined);
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
    if (request.method !== "GET" || type === undefined || !objectTypes.has(type)) {
      return send(response, 404, {
        status: "error",
        category: "OBJECT_NOT_FOUND",
        message: `no route for ${request.method} ${url.pathname}`,
      });
    }
    if (admit(request, response)) await listObjects(type, url, response);
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: Error) => {
      if (!response.headersSent) {
        send(response, 500, { status: "error", category: "INTERNAL_ERROR", message: error.message });
      } else response.destroy(error);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(":") ? `[${address}]` : address}:${port}`,
    stats,
    revokeTokens: () => sessions.clear(),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(json),
  });
  response.end(json);
}

async function readBody(request: IncomingMessage, limit = 16 * 1024): Promise<string> {
  let body = "";
  for await (const chunk of request) {
    body += String(chunk);
    if (body.length > limit) throw new Error("request body too large");
  }
  return body;
}

/** Compares credentials in constant time (hashes first, so lengths may differ). */
function same(given: string | null, expected: string): boolean {
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return given !== null && timingSafeEqual(digest(given), digest(expected));
}

const encodeCursor = (type: string, offset: number) => Buffer.from(`${type}:${offset}`).toString("base64url");

function decodeCursor(cursor: string, type: string): number | undefined {
  const [cursorType, offset] = Buffer.from(cursor, "base64url").toString().split(":");
  return cursorType === type && offset !== undefined && /^\d+$/.test(offset) ? Number(offset) : undefined;
}

/** Byte ranges of the non-blank lines of a JSON Lines file: a page is one read, whatever the file's size. */
interface LineIndex {
  path: string;
  starts: number[];
  ends: number[];
}

async function indexLines(path: string): Promise<LineIndex> {
  const index: LineIndex = { path, starts: [], ends: [] };
  let position = 0;
  let lineStart = 0;
  let blank = true;
  const endLine = (end: number) => {
    if (!blank) {
      index.starts.push(lineStart);
      index.ends.push(end);
    }
    lineStart = end + 1;
    blank = true;
  };
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (byte === 0x0a) endLine(position + i);
      else if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d) blank = false;
    }
    position += chunk.length;
  }
  endLine(position);
  return index;
}

async function readLines(index: LineIndex, from: number, to: number): Promise<unknown[]> {
  if (from >= to) return [];
  const start = index.starts[from]!;
  const buffer = Buffer.alloc(index.ends[to - 1]! - start);
  const file = await open(index.path);
  try {
    await file.read(buffer, 0, buffer.length, start);
  } finally {
    await file.close();
  }
  return buffer.toString("utf8").split("\n").filter((line) => line.trim() !== "").map((line) => JSON.parse(line));
}

/** A small seeded PRNG: the same seed injects the same 503s into the same sequence of requests. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
