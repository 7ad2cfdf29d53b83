import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";
import { bearerToken, decodeCursor, encodeCursor, type MountedApi, sameSecret, sendJson } from "./http.ts";
import { injectedFailures, RateLimits } from "./limits.ts";
import { indexedFile, indexLines, type LineIndex, readLinesAt } from "./line-index.ts";

/** How the sample chat API (Zendesk-shaped) serves the generator's `chat/api/` files. */
export interface ChatApiOptions {
  /** The folder holding `tickets.jsonl`, `users.jsonl` and `comments.jsonl` (`<out>/chat/api`). */
  dataDir: string;
  /** The API token callers send as `Authorization: Bearer <token>`. */
  token: string;
  /** Per token (default 10): more and the answer is 429 with a Retry-After. */
  requestsPerSecond?: number;
  /** The fraction of requests answered 503 (default 0), drawn from a generator seeded by `seed`. */
  failureRate?: number;
  /** Seeds the injected failures (default 1). */
  seed?: number;
}

/** What the chat API saw and answered: tests assert on it. */
export interface ChatApiStats {
  requests: number;
  /** 401s: no token, or a wrong one. */
  unauthorized: number;
  /** 429s. */
  tooManyRequests: number;
  /** Requests that came back sooner than a 429's Retry-After said (each answered 429 again). */
  retryAfterIgnored: number;
  /** Injected 503s. */
  serviceUnavailable: number;
  /** Pages of the incremental ticket export served. */
  ticketPages: number;
  /** Pages of ticket comments served. */
  commentPages: number;
}

const maxPerPage = 1000;
const maxCommentPage = 100;

interface TicketKey {
  /** `generated_timestamp`: the export is ordered by it. */
  at: number;
  users: number[];
}

interface Tickets {
  index: LineIndex<TicketKey>;
  /** Line numbers in export order: by generated_timestamp, then as written. */
  order: number[];
}

async function ticketsOf(path: string): Promise<Tickets> {
  const index = await indexLines(path, (value) => {
    const t = value as { generated_timestamp?: unknown; requester_id?: unknown; assignee_id?: unknown } | undefined;
    const users = [t?.requester_id, t?.assignee_id].filter((id): id is number => typeof id === "number");
    return { at: typeof t?.generated_timestamp === "number" ? t.generated_timestamp : 0, users };
  });
  const order = index.keys.map((_, i) => i).sort((a, b) => index.keys[a]!.at - index.keys[b]!.at || a - b);
  return { index, order };
}

async function usersOf(path: string): Promise<{ index: LineIndex<number | undefined>; lineOf: Map<number, number> }> {
  const index = await indexLines(path, (value) => (value as { id?: number } | undefined)?.id);
  const lineOf = new Map<number, number>();
  index.keys.forEach((id, line) => {
    if (id !== undefined) lineOf.set(id, line);
  });
  return { index, lineOf };
}

async function commentsOf(path: string) {
  const index = await indexLines(path, (value) => (value as { ticket_id?: number } | undefined)?.ticket_id);
  // A ticket's comments are consecutive lines.
  const linesOf = new Map<number, { from: number; to: number }>();
  index.keys.forEach((ticket, line) => {
    if (ticket === undefined) return;
    const range = linesOf.get(ticket);
    if (range) range.to = line + 1;
    else linesOf.set(ticket, { from: line, to: line + 1 });
  });
  return { index, linesOf };
}

/** The first position in export order whose generated_timestamp is at least `time`. */
function firstAtOrAfter(tickets: Tickets, time: number): number {
  let low = 0;
  let high = tickets.order.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (tickets.index.keys[tickets.order[middle]!]!.at < time) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * A Zendesk-shaped support API over the generator's `chat/api/` files (see samples/SOURCES.md):
 * - `GET /api/v2/incremental/tickets/cursor.json?start_time=<unix>` (or `cursor=`), `per_page` (≤ 1000),
 *   `include=users`: tickets in `generated_timestamp` order with `after_cursor`, `after_url`, `end_of_stream`,
 *   the users they name side-loaded;
 * - `GET /api/v2/tickets/{id}/comments.json?page[size]=&page[after]=`: cursor-paged comments with
 *   `meta.has_more` and `meta.after_cursor`;
 * - `Authorization: Bearer <token>`, else 401 `{"error":"Couldn't authenticate you"}`; 429 with `Retry-After`
 *   past the rate per token; a seeded fraction of 503s.
 *
 * @example
 * const api = await startSampleApis({ chat: { dataDir: "out/chat/api", token: "t0ken" } });
 */
export function chatApi(options: ChatApiOptions): MountedApi<ChatApiStats> {
  const { token, requestsPerSecond = 10, failureRate = 0, seed = 1 } = options;
  const stats: ChatApiStats = {
    requests: 0,
    unauthorized: 0,
    tooManyRequests: 0,
    retryAfterIgnored: 0,
    serviceUnavailable: 0,
    ticketPages: 0,
    commentPages: 0,
  };
  const limits = new RateLimits(requestsPerSecond);
  const failing = injectedFailures(failureRate, seed);
  const tickets = indexedFile(join(options.dataDir, "tickets.jsonl"), ticketsOf);
  const users = indexedFile(join(options.dataDir, "users.jsonl"), usersOf);
  const comments = indexedFile(join(options.dataDir, "comments.jsonl"), commentsOf);
  const invalid = (response: ServerResponse, error: string, description: string) =>
    sendJson(response, 400, { error, description });

  function admit(request: IncomingMessage, response: ServerResponse): boolean {
    if (!sameSecret(bearerToken(request), token)) {
      stats.unauthorized += 1;
      sendJson(response, 401, { error: "Couldn't authenticate you" });
      return false;
    }
    const admission = limits.admit(token);
    if (!admission.ok) {
      stats.tooManyRequests += 1;
      if (admission.early) stats.retryAfterIgnored += 1;
      sendJson(response, 429, {
        error: "APIRateLimitExceeded",
        description: `Number of allowed API requests per second (${requestsPerSecond}) exceeded`,
      }, { "retry-after": String(admission.retryAfterSeconds) });
      return false;
    }
    if (failing()) {
      stats.serviceUnavailable += 1;
      sendJson(response, 503, { error: "ServiceUnavailable", description: "Zendesk is temporarily unavailable" });
      return false;
    }
    return true;
  }

  async function exportTickets(url: URL, base: string, response: ServerResponse): Promise<void> {
    const perPage = Math.min(maxPerPage, Math.max(1, Number(url.searchParams.get("per_page") ?? maxPerPage) || 1));
    const cursor = url.searchParams.get("cursor");
    const startTime = url.searchParams.get("start_time");
    const all = await tickets();
    let from: number;
    if (cursor !== null) {
      const position = decodeCursor(cursor) as { p?: unknown } | undefined;
      if (typeof position?.p !== "number" || position.p < 0 || position.p > all.order.length) {
        return invalid(response, "InvalidPaginationParameter", "cursor is not valid");
      }
      from = position.p;
    } else if (startTime !== null && /^\d+$/.test(startTime)) {
      if (Number(startTime) > Date.now() / 1000 - 60) {
        return invalid(response, "InvalidValue", "start_time must be more than a minute in the past");
      }
      from = firstAtOrAfter(all, Number(startTime));
    } else return invalid(response, "InvalidPaginationParameter", "start_time or cursor is required");
    const to = Math.min(all.order.length, from + perPage);
    const lines = all.order.slice(from, to);
    const page = await readLinesAt(all.index, lines);
    const body: Record<string, unknown> = { tickets: page };
    if ((url.searchParams.get("include") ?? "").split(",").includes("users")) {
      const { index, lineOf } = await users();
      const ids = [...new Set(lines.flatMap((line) => all.index.keys[line]!.users))].sort((a, b) => a - b);
      body.users = await readLinesAt(index, ids.flatMap((id) => lineOf.has(id) ? [lineOf.get(id)!] : []));
    }
    const after = encodeCursor({ p: to });
    const before = encodeCursor({ p: from });
    const link = (c: string) => `${base}/api/v2/incremental/tickets/cursor.json?per_page=${perPage}&cursor=${c}`;
    Object.assign(body, {
      after_cursor: after,
      before_cursor: before,
      after_url: link(after),
      before_url: link(before),
      end_of_stream: to >= all.order.length,
    });
    stats.ticketPages += 1;
    sendJson(response, 200, body);
  }

  async function ticketComments(ticket: number, url: URL, base: string, response: ServerResponse): Promise<void> {
    const { index, linesOf } = await comments();
    const range = linesOf.get(ticket);
    if (!range) return sendJson(response, 404, { error: "RecordNotFound", description: "Not found" });
    const size = Math.min(maxCommentPage, Math.max(1, Number(url.searchParams.get("page[size]") ?? 100) || 1));
    const afterParam = url.searchParams.get("page[after]");
    let from = range.from;
    if (afterParam !== null) {
      const position = decodeCursor(afterParam) as { t?: unknown; p?: unknown } | undefined;
      if (
        position?.t !== ticket || typeof position.p !== "number" || position.p < range.from || position.p > range.to
      ) {
        return invalid(response, "InvalidPaginationParameter", "page[after] is not valid");
      }
      from = position.p;
    }
    const to = Math.min(range.to, from + size);
    const page = (await readLinesAt(index, Array.from({ length: to - from }, (_, i) => from + i)))
      .map((c) => {
        const { ticket_id: _, ...comment } = c as Record<string, unknown>;
        return comment;
      });
    const hasMore = to < range.to;
    const after = encodeCursor({ t: ticket, p: to });
    stats.commentPages += 1;
    sendJson(response, 200, {
      comments: page,
      meta: {
        has_more: hasMore,
        after_cursor: hasMore ? after : null,
        before_cursor: encodeCursor({ t: ticket, p: from }),
      },
      links: {
        next: hasMore ? `${base}/api/v2/tickets/${ticket}/comments.json?page[size]=${size}&page[after]=${after}` : null,
        prev: null,
      },
    });
  }

  return {
    stats,
    async handle(request, response, path, url) {
      stats.requests += 1;
      const base = `${url.origin}${url.pathname.slice(0, url.pathname.length - path.length)}`;
      const commentRoute = /^\/api\/v2\/tickets\/(\d+)\/comments\.json$/.exec(path);
      const known = path === "/api/v2/incremental/tickets/cursor.json" || commentRoute !== null;
      if (request.method !== "GET" || !known) {
        return sendJson(response, 404, {
          error: "InvalidEndpoint",
          description: `Not found: ${request.method} ${path}`,
        });
      }
      if (!admit(request, response)) return;
      if (commentRoute) return ticketComments(Number(commentRoute[1]), url, base, response);
      return exportTickets(url, base, response);
    },
  };
}
