import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";
import { type MountedApi, readBody, sameSecret, sendJson } from "./http.ts";
import { injectedFailures, RateLimits } from "./limits.ts";
import { indexedFile, indexLines, type LineIndex, readLinesAt } from "./line-index.ts";

/** How the sample payments API (Stripe-shaped) serves the generator's `payments/api/` files. */
export interface PaymentsApiOptions {
  /** The folder holding `charges.jsonl` and `refunds.jsonl` (`<out>/payments/api`). */
  dataDir: string;
  /** The secret key callers send as `Authorization: Bearer <key>` (or as Basic auth's user name). */
  secretKey: string;
  /** Per key (default 25): more and the answer is a 429 (without Retry-After, as Stripe's). */
  requestsPerSecond?: number;
  /** The fraction of list requests answered 500 (default 0), seeded by `seed`. */
  failureRate?: number;
  /**
   * The fraction of POSTs whose connection is dropped after the object was created (default 0): the caller
   * never sees the answer, and only its idempotency key keeps a retry from creating a second one.
   */
  dropAfterCreateRate?: number;
  /** Seeds the injected failures (default 1). */
  seed?: number;
}

/** What the payments API saw and answered: tests assert on it. */
export interface PaymentsApiStats {
  requests: number;
  /** 401s: no key, or a wrong one. */
  unauthorized: number;
  /** 429s. */
  tooManyRequests: number;
  /** Injected 500s. */
  serverErrors: number;
  /** Connections dropped after a POST created its object. */
  droppedAfterCreate: number;
  /** Pages of lists served. */
  pages: number;
  /** Objects created by POSTs (refunds). */
  created: number;
  /** POSTs answered from the idempotency store (`Idempotent-Replayed: true`). */
  replayed: number;
  /** POSTs refused because their idempotency key was used with other parameters. */
  idempotencyConflicts: number;
}

interface ListKey {
  id: string;
  /** `created`, or 0 when a malformed record has none that is a number. */
  created: number;
  charge?: string;
}

interface Listing {
  index: LineIndex<ListKey>;
  /** Line numbers newest first (created, then id, descending), as Stripe lists. */
  order: number[];
  positionOf: Map<string, number>;
}

const newestFirst = (a: ListKey, b: ListKey) => b.created - a.created || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

async function listingOf(path: string): Promise<Listing> {
  const index = await indexLines(path, (value): ListKey => {
    const v = value as { id?: unknown; created?: unknown; charge?: unknown } | undefined;
    return {
      id: String(v?.id ?? ""),
      created: typeof v?.created === "number" ? v.created : 0,
      ...(typeof v?.charge === "string" ? { charge: v.charge } : {}),
    };
  });
  const order = index.keys.map((_, i) => i).sort((a, b) => newestFirst(index.keys[a]!, index.keys[b]!));
  return { index, order, positionOf: new Map(order.map((line, position) => [index.keys[line]!.id, position])) };
}

const stripeError = (type: string, message: string, extra: Record<string, unknown> = {}) => ({
  error: { type, message, ...extra },
});

const mask = (key: string) => `${key.slice(0, key.indexOf("_", 3) + 1)}****${key.slice(-4)}`;

/** `created[gte]=…` and friends: a test on `created`; undefined when a bound is not an integer. */
function createdFilter(url: URL): ((created: number) => boolean) | undefined {
  const tests: ((created: number) => boolean)[] = [];
  for (
    const [op, test] of [
      ["gte", (c: number, v: number) => c >= v],
      ["gt", (c: number, v: number) => c > v],
      ["lte", (c: number, v: number) => c <= v],
      ["lt", (c: number, v: number) => c < v],
    ] as const
  ) {
    const raw = url.searchParams.get(`created[${op}]`);
    if (raw === null) continue;
    if (!/^\d+$/.test(raw)) return undefined;
    tests.push((c) => test(c, Number(raw)));
  }
  return (created) => tests.every((test) => test(created));
}

/**
 * A Stripe-shaped payments API over the generator's `payments/api/` files (see samples/SOURCES.md):
 * - `GET /v1/charges` and `GET /v1/refunds` (`?charge=`): lists newest first, `limit` (1–100, default 10),
 *   `starting_after`/`ending_before` object ids, `created[gte|gt|lte|lt]`, answered
 *   `{ object: "list", url, has_more, data }`;
 * - `POST /v1/refunds` (form-encoded `charge`, `amount`, `reason`) honouring `Idempotency-Key`: the same key
 *   and parameters replay the first answer (`Idempotent-Replayed: true`), other parameters are a 400
 *   `idempotency_error`;
 * - the secret key as Bearer (or Basic) auth, Stripe's error JSON `{ error: { type, code?, message, param? } }`,
 *   429s past the rate per key, a seeded fraction of 500s.
 *
 * @example
 * const api = await startSampleApis({ payments: { dataDir: "out/payments/api", secretKey: "sk_test_…" } });
 */
export function paymentsApi(options: PaymentsApiOptions): MountedApi<PaymentsApiStats> {
  const { secretKey, requestsPerSecond = 25, failureRate = 0, dropAfterCreateRate = 0, seed = 1 } = options;
  const stats: PaymentsApiStats = {
    requests: 0,
    unauthorized: 0,
    tooManyRequests: 0,
    serverErrors: 0,
    droppedAfterCreate: 0,
    pages: 0,
    created: 0,
    replayed: 0,
    idempotencyConflicts: 0,
  };
  const limits = new RateLimits(requestsPerSecond);
  const failing = injectedFailures(failureRate, seed);
  const dropping = injectedFailures(dropAfterCreateRate, seed + 1);
  const listings = {
    charges: indexedFile(join(options.dataDir, "charges.jsonl"), listingOf),
    refunds: indexedFile(join(options.dataDir, "refunds.jsonl"), listingOf),
  };
  /** Refunds made through the API, newest first. */
  const createdRefunds: (ListKey & { object: Record<string, unknown> })[] = [];
  const idempotency = new Map<string, { fingerprint: string; status: number; body: unknown }>();

  function keyOf(request: IncomingMessage): string | undefined {
    const header = request.headers.authorization ?? "";
    const bearer = /^Bearer (.+)$/i.exec(header)?.[1];
    if (bearer) return bearer;
    const basic = /^Basic (.+)$/i.exec(header)?.[1];
    return basic ? Buffer.from(basic, "base64").toString("utf8").replace(/:.*$/, "") : undefined;
  }

  function admit(request: IncomingMessage, response: ServerResponse): boolean {
    const key = keyOf(request);
    if (!sameSecret(key, secretKey)) {
      stats.unauthorized += 1;
      sendJson(
        response,
        401,
        stripeError(
          "invalid_request_error",
          key
            ? `Invalid API Key provided: ${mask(key)}`
            : "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
        ),
      );
      return false;
    }
    const admission = limits.admit(secretKey);
    if (!admission.ok) {
      stats.tooManyRequests += 1;
      sendJson(
        response,
        429,
        stripeError("invalid_request_error", "Request rate limit exceeded. Retry with exponential backoff.", {
          code: "rate_limit",
        }),
      );
      return false;
    }
    return true;
  }

  async function list(resource: "charges" | "refunds", url: URL, response: ServerResponse): Promise<void> {
    if (failing()) {
      stats.serverErrors += 1;
      return sendJson(response, 500, stripeError("api_error", "An unknown error occurred"));
    }
    const limit = Number(url.searchParams.get("limit") ?? 10);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      return sendJson(
        response,
        400,
        stripeError("invalid_request_error", "This value must be between 1 and 100 (it was set to " + limit + ")", {
          code: "parameter_invalid_integer",
          param: "limit",
        }),
      );
    }
    const matches = createdFilter(url);
    if (!matches) {
      return sendJson(
        response,
        400,
        stripeError("invalid_request_error", "Invalid integer in created", {
          code: "parameter_invalid_integer",
          param: "created",
        }),
      );
    }
    const charge = resource === "refunds" ? url.searchParams.get("charge") : null;
    const listing = await listings[resource]();
    const memory = resource === "refunds" ? createdRefunds : [];
    // One list, newest first: what was created here is newer than anything in the files.
    const total = memory.length + listing.order.length;
    const keyAt = (
      p: number,
    ) => (p < memory.length ? memory[p]! : listing.index.keys[listing.order[p - memory.length]!]!);
    const positionOf = (id: string) => {
      const inMemory = memory.findIndex((r) => r.id === id);
      if (inMemory >= 0) return inMemory;
      const inFile = listing.positionOf.get(id);
      return inFile === undefined ? undefined : memory.length + inFile;
    };
    const after = url.searchParams.get("starting_after");
    const before = url.searchParams.get("ending_before");
    const cursor = after ?? before;
    const anchor = cursor === null ? undefined : positionOf(cursor);
    if (cursor !== null && anchor === undefined) {
      return sendJson(
        response,
        400,
        stripeError("invalid_request_error", `No such object: '${cursor}'`, {
          code: "resource_missing",
          param: after !== null ? "starting_after" : "ending_before",
        }),
      );
    }
    const wanted = (p: number) => matches(keyAt(p).created) && (charge === null || keyAt(p).charge === charge);
    const positions: number[] = [];
    if (before !== null) {
      for (let p = anchor! - 1; p >= 0 && positions.length <= limit; p--) if (wanted(p)) positions.unshift(p);
    } else {
      for (let p = anchor === undefined ? 0 : anchor + 1; p < total && positions.length <= limit; p++) {
        if (wanted(p)) positions.push(p);
      }
    }
    // One more than the limit was looked for: its being there is `has_more`.
    const hasMore = positions.length > limit;
    if (hasMore && before !== null) positions.shift();
    else if (hasMore) positions.pop();
    const fromFile = await readLinesAt(
      listing.index,
      positions.filter((p) => p >= memory.length).map((p) => listing.order[p - memory.length]!),
    );
    const data = [...positions.filter((p) => p < memory.length).map((p) => memory[p]!.object), ...fromFile];
    stats.pages += 1;
    sendJson(response, 200, { object: "list", url: `/v1/${resource}`, has_more: hasMore, data });
  }

  async function createRefund(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const params = new URLSearchParams(await readBody(request));
    const key = request.headers["idempotency-key"] as string | undefined;
    const fingerprint = JSON.stringify(["POST /v1/refunds", [...params.entries()].sort()]);
    const saved = key === undefined ? undefined : idempotency.get(key);
    if (saved) {
      if (saved.fingerprint !== fingerprint) {
        stats.idempotencyConflicts += 1;
        return sendJson(
          response,
          400,
          stripeError(
            "idempotency_error",
            `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
          ),
        );
      }
      stats.replayed += 1;
      return sendJson(response, saved.status, saved.body, { "idempotent-replayed": "true", "idempotency-key": key! });
    }
    const answer = (status: number, body: unknown) => {
      if (key !== undefined) idempotency.set(key, { fingerprint, status, body });
      return { status, body };
    };
    const { status, body } = await refund(params, answer);
    if (status === 200 && dropping()) {
      // Created and saved, but the caller never hears of it: only the idempotency key saves a retry.
      stats.droppedAfterCreate += 1;
      response.destroy();
      return;
    }
    sendJson(response, status, body, key === undefined ? {} : { "idempotency-key": key });
  }

  async function refund(
    params: URLSearchParams,
    answer: (status: number, body: unknown) => { status: number; body: unknown },
  ): Promise<{ status: number; body: unknown }> {
    const chargeId = params.get("charge");
    if (!chargeId) {
      return answer(
        400,
        stripeError("invalid_request_error", "Missing required param: charge.", {
          code: "parameter_missing",
          param: "charge",
        }),
      );
    }
    const charges = await listings.charges();
    const position = charges.positionOf.get(chargeId);
    if (position === undefined) {
      return answer(
        400,
        stripeError("invalid_request_error", `No such charge: '${chargeId}'`, {
          code: "resource_missing",
          param: "charge",
        }),
      );
    }
    const [charge] = (await readLinesAt(charges.index, [charges.order[position]!])) as {
      amount: number;
      currency: string;
    }[];
    const refunded = createdRefunds.filter((r) => r.charge === chargeId).reduce(
      (sum, r) => sum + Number(r.object.amount),
      0,
    );
    const amount = params.has("amount") ? Number(params.get("amount")) : charge!.amount - refunded;
    if (!Number.isInteger(amount) || amount < 1 || amount > charge!.amount - refunded) {
      return answer(
        400,
        stripeError(
          "invalid_request_error",
          `Refund amount (${params.get("amount")}) is greater than the unrefunded amount on the charge (${
            charge!.amount - refunded
          }).`,
          { code: "amount_too_large", param: "amount" },
        ),
      );
    }
    const created = Math.floor(Date.now() / 1000);
    const object = {
      id: `re_${randomBytes(12).toString("base64url")}`,
      object: "refund",
      amount,
      charge: chargeId,
      currency: charge!.currency,
      created,
      reason: params.get("reason"),
      status: "succeeded",
      metadata: {},
    };
    createdRefunds.unshift({ id: object.id, created, charge: chargeId, object });
    stats.created += 1;
    return answer(200, object);
  }

  return {
    stats,
    async handle(request, response, path, url) {
      stats.requests += 1;
      const route = `${request.method} ${path}`;
      const known = ["GET /v1/charges", "GET /v1/refunds", "POST /v1/refunds"];
      if (!known.includes(route)) {
        return sendJson(
          response,
          404,
          stripeError("invalid_request_error", `Unrecognized request URL (${request.method}: ${path}).`),
        );
      }
      if (!admit(request, response)) return;
      if (route === "POST /v1/refunds") return createRefund(request, response);
      return list(path === "/v1/charges" ? "charges" : "refunds", url, response);
    },
  };
}
