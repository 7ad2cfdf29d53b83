import { randomUUID } from "node:crypto";
import {
  type Authorization,
  HttpClient,
  type HttpClientOptions,
  type HttpClientStats,
  paginate,
} from "../http/index.ts";

/** How a {@link PaymentsClient} reaches a Stripe-shaped API (the rest as every API client: `HttpClientOptions`). */
export interface PaymentsClientOptions extends HttpClientOptions {
  /** Where the API lives, e.g. `https://api.stripe.com`: `/v1/…` is resolved against it. */
  baseUrl: string;
  /** The secret key (`sk_…`), sent as a Bearer token; never logged, scrubbed from errors. */
  secretKey: string;
}

/** An object of a list: `id`, `object` and `created` (unix seconds), and whatever else its kind has. */
export interface PaymentsObject {
  /** `ch_…`, `re_…`. */
  id: string;
  /** `charge`, `refund`. */
  object?: string;
  /** Unix seconds. */
  created?: unknown;
  /** Whatever else the object has (`amount` in minor units, `currency`, `metadata`…). */
  [field: string]: unknown;
}

/** A `created` range: unix seconds, each bound optional. */
export interface CreatedRange {
  /** At or after. */
  gte?: number;
  /** After. */
  gt?: number;
  /** At or before. */
  lte?: number;
  /** Before. */
  lt?: number;
}

/**
 * A client for a Stripe-shaped payments API (see samples/SOURCES.md): lists paged through
 * `starting_after` while `has_more`, filtered by `created`, and POSTs that send an `Idempotency-Key`, the
 * same on every retry, so that a retried request never creates twice. On the package's HTTP core
 * (`HttpClient`): rate limit, 429s and 5xx retried with backoff and jitter, errors naming the API with
 * Stripe's own message and `error.code` set to its `code` or `type`, never the key.
 *
 * @example
 * ```ts
 * const payments = new PaymentsClient({ baseUrl: "https://api.stripe.com", secretKey });
 * for await (const charge of payments.list("charges", { created: { gte: 1767225600 } })) console.log(charge.id);
 * const refund = await payments.create("refunds", { charge: "ch_123", amount: 500 }, { idempotencyKey: "refund-O-17" });
 * ```
 */
export class PaymentsClient {
  readonly #base: string;
  readonly #http: HttpClient;
  readonly #auth: Authorization;

  /** Nothing is sent until the first request. */
  constructor(options: PaymentsClientOptions) {
    this.#base = options.baseUrl.replace(/\/+$/, "");
    this.#http = new HttpClient("payments API", { requestsPerSecond: 25, ...options }, [options.secretKey]);
    this.#auth = {
      headers: () => ({ authorization: `Bearer ${options.secretKey}` }),
      hint: " (check the secret key)",
    };
  }

  /** What the client did so far. */
  get stats(): HttpClientStats {
    return { ...this.#http.stats };
  }

  /** Every object of a list (`charges`, `refunds`), newest first, page after page. */
  list<T extends PaymentsObject = PaymentsObject>(
    resource: string,
    { limit = 100, created, params = {}, signal }: {
      /** Objects a page (default 100, Stripe's most). */
      limit?: number;
      /** Only objects created in this range. */
      created?: CreatedRange;
      /** Other filters (`{ charge: "ch_123" }` for a charge's refunds). */
      params?: Record<string, string>;
      /** Aborts the request in flight and any backoff wait. */
      signal?: AbortSignal;
    } = {},
  ): AsyncGenerator<T> {
    const url = (after: string | undefined) => {
      const url = new URL(`${this.#base}/v1/${resource}`);
      url.searchParams.set("limit", String(limit));
      for (const [op, value] of Object.entries(created ?? {})) url.searchParams.set(`created[${op}]`, String(value));
      for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
      if (after !== undefined) url.searchParams.set("starting_after", after);
      return url;
    };
    return paginate<T, string>(undefined, async (after) => {
      const at = url(after);
      const page = (await this.#http.json(at, this.#auth, { signal })) as { data?: unknown; has_more?: unknown };
      if (!Array.isArray(page?.data)) {
        throw this.#http.error(`GET ${at.href}: unexpected response: no "data" array`, at, 200);
      }
      const data = page.data as T[];
      const last = data.at(-1)?.id;
      if (page.has_more === true && typeof last !== "string") {
        throw this.#http.error(`GET ${at.href}: has_more with no object to start after`, at, 200);
      }
      return { records: data, next: page.has_more === true ? last : undefined };
    }, (next) => this.#http.error(`GET ${url(next).href}: starting_after ${next} does not advance`, url(next), 200));
  }

  /**
   * The newest object of a list (one request, `limit=1`), or undefined when the list is empty: a cheap
   * version of the source, for an observable source asset.
   */
  async newest<T extends PaymentsObject = PaymentsObject>(
    resource: string,
    { signal }: {
      /** Aborts the request in flight and any backoff wait. */
      signal?: AbortSignal;
    } = {},
  ): Promise<T | undefined> {
    const at = new URL(`${this.#base}/v1/${resource}`);
    at.searchParams.set("limit", "1");
    const page = (await this.#http.json(at, this.#auth, { signal })) as { data?: T[] };
    return Array.isArray(page?.data) ? page.data[0] : undefined;
  }

  /**
   * Creates an object (`refunds`) with form-encoded `params`. The `Idempotency-Key` (default a new UUID) goes
   * with every retry of this call, so a request whose answer was lost is answered, not done twice; give your
   * own key (an order id, say) to make a call safe to repeat across runs too. A key already used with other
   * parameters is refused with a 400, `code` `idempotency_error`.
   */
  async create<T extends PaymentsObject = PaymentsObject>(
    resource: string,
    params: Record<string, string | number>,
    { idempotencyKey = randomUUID(), signal }: {
      /** The same key, the same result. */
      idempotencyKey?: string;
      /** Aborts the request in flight and any backoff wait. */
      signal?: AbortSignal;
    } = {},
  ): Promise<T> {
    const at = new URL(`${this.#base}/v1/${resource}`);
    const body = new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]));
    return (await this.#http.json(at, this.#auth, {
      method: "POST",
      body,
      headers: { "idempotency-key": idempotencyKey },
      signal,
    })) as T;
  }
}
