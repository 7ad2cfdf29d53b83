import { type Logger, logger as rootLogger } from "../../resources/logger.ts";
import { sleep, TokenBucket } from "../token-bucket.ts";

/** The object types `CrmClient.objects` pages through: `/crm/v3/objects/<type>`. */
export type CrmObjectType = "companies" | "contacts" | "deals" | "owners";

/** An object as the CRM API returns it; the models validate and map `properties`. */
export interface CrmObject {
  /** The object's id in the CRM. */
  id: string;
  /** Its fields, as the CRM names them (`email`, `dealstage`, …). */
  properties: Record<string, unknown>;
  /** ISO 8601 timestamp. */
  createdAt: string;
  /** ISO 8601 timestamp. */
  updatedAt: string;
  /** Whether the CRM has archived it. */
  archived: boolean;
}

/** How a {@link CrmClient} reaches the API and how patient it is. */
export interface CrmClientOptions {
  /** Where the API lives, e.g. `https://api.example-crm.com`: `/oauth/token` and `/crm/v3/…` are resolved against it. */
  baseUrl: string;
  /** The OAuth2 client id. */
  clientId: string;
  /** Sent only in the token request's body; never logged, and scrubbed from any error text. */
  clientSecret: string;
  /** The `fetch` to send requests with (default the global one): tests pass a fake. */
  fetch?: typeof globalThis.fetch;
  /** Client-side rate limit across all requests (default 10 a second, the API's limit per token). */
  requestsPerSecond?: number;
  /** Requests that may go out at once after a quiet spell (default 1: evenly spaced). */
  burst?: number;
  /** Tries per request in all, whatever failed: 429, 5xx, a timeout or the network (default 8). */
  maxAttempts?: number;
  /** Backoff before the first retry of a 5xx or network failure (default 500 ms); doubled each time, with jitter. */
  backoffMs?: number;
  /** Longest backoff, in milliseconds (default 30 000); a `Retry-After` is honoured whatever its length. */
  maxBackoffMs?: number;
  /** Per request (default 30 s). */
  timeoutMs?: number;
  /** Where retries and token renewals are logged (default the framework's logger), as component `crm`. */
  logger?: Logger;
}

/**
 * A request that failed for good: names the URL and the last status, never a secret.
 *
 * @example
 * ```ts
 * try {
 *   for await (const deal of crm.objects("deals")) console.log(deal.id);
 * } catch (error) {
 *   if (error instanceof CrmError && error.status === 401) console.error("check CRM_CLIENT_ID and CRM_CLIENT_SECRET");
 *   throw error;
 * }
 * ```
 */
export class CrmError extends Error {
  /** Always `"CrmError"`. */
  override name = "CrmError";
  /** The URL requested, without credentials. */
  readonly url: string;
  /** The last HTTP status, or undefined when no response came (a timeout, the network). */
  readonly status: number | undefined;

  /** A failure of the request to `url`; `status` as above. */
  constructor(message: string, url: string, status: number | undefined, options?: ErrorOptions) {
    super(message, options);
    this.url = url;
    this.status = status;
  }
}

/** What the client did, for an asset's metadata (and tests). */
export interface CrmClientStats {
  /** Requests sent, retries and token requests included. */
  requests: number;
  /** Requests sent again after a failure. */
  retries: number;
  /** 429 answers (each honoured by waiting its Retry-After). */
  rateLimited: number;
  /** 401 answers that made the client fetch a new token. */
  unauthorized: number;
  /** Access tokens obtained. */
  tokensFetched: number;
}

interface AccessToken {
  value: string;
  /** performance.now() after which the token is renewed before use. */
  renewAt: number;
}

const retryable = (status: number) => status === 408 || status === 429 || status >= 500;

/**
 * A client for a HubSpot-shaped CRM REST API (see samples/SOURCES.md): OAuth2 client credentials with
 * the token renewed before it expires (and once on a 401), paging through `after` cursors, a token
 * bucket keeping under the rate limit, 429s honoured by their `Retry-After`, and 5xx, timeouts and
 * network errors retried with exponential backoff and jitter, a bounded number of times. A request that
 * still fails throws a {@link CrmError} naming the URL and status; the secret never appears in errors or logs.
 *
 * @example A resource of the project, and a staged asset that reads it
 * ```ts
 * crm: defineResource({
 *   setup: () => new CrmClient({ baseUrl: process.env.CRM_API_URL!, clientId: "ingest", clientSecret: process.env.CRM_CLIENT_SECRET! }),
 * }),
 * extract: ({ resources: { crm } }) => crm.objects("contacts"),
 * ```
 *
 * @example
 * ```ts
 * const crm = new CrmClient({ baseUrl: "https://api.example-crm.com", clientId: "ingest", clientSecret });
 * for await (const contact of crm.objects("contacts", { pageSize: 100 })) console.log(contact.id, contact.properties.email);
 * console.log(crm.stats); // { requests: 12, retries: 1, rateLimited: 1, … }
 * ```
 */
export class CrmClient {
  /** What the client did so far: requests, retries, rate limiting, tokens. */
  readonly stats: CrmClientStats = { requests: 0, retries: 0, rateLimited: 0, unauthorized: 0, tokensFetched: 0 };
  readonly #base: string;
  readonly #clientId: string;
  readonly #clientSecret: string;
  readonly #fetch: typeof globalThis.fetch;
  readonly #bucket: TokenBucket;
  readonly #maxAttempts: number;
  readonly #backoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #timeoutMs: number;
  readonly #log: Logger;
  #token: AccessToken | undefined;
  #tokenRequest: Promise<AccessToken> | undefined;

  /** Nothing is sent until the first page is read; the token is fetched then. */
  constructor(options: CrmClientOptions) {
    this.#base = options.baseUrl.replace(/\/+$/, "");
    this.#clientId = options.clientId;
    this.#clientSecret = options.clientSecret;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#bucket = new TokenBucket(options.requestsPerSecond ?? 10, options.burst ?? 1);
    this.#maxAttempts = options.maxAttempts ?? 8;
    this.#backoffMs = options.backoffMs ?? 500;
    this.#maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#log = (options.logger ?? rootLogger).child({ component: "crm" });
  }

  /**
   * Every object of a type, page after page (`limit` = `pageSize`, at most 100 for HubSpot). A page
   * without a `results` array, or a cursor that does not advance, throws a {@link CrmError}.
   */
  async *objects(
    type: CrmObjectType,
    { pageSize = 100, signal }: {
      /** Objects per page (default 100). */
      pageSize?: number;
      /** Aborts the request in flight and any backoff wait: the generator then rejects with the signal's reason. */
      signal?: AbortSignal;
    } = {},
  ): AsyncGenerator<CrmObject> {
    let after: string | undefined;
    do {
      const url = new URL(`${this.#base}/crm/v3/objects/${type}`);
      url.searchParams.set("limit", String(pageSize));
      if (after !== undefined) url.searchParams.set("after", after);
      const page = (await this.#get(url, signal)) as { results?: unknown; paging?: { next?: { after?: unknown } } };
      if (!Array.isArray(page?.results)) {
        throw new CrmError(`GET ${safeUrl(url)}: unexpected response: no "results" array`, safeUrl(url), 200);
      }
      yield* page.results as CrmObject[];
      const next = page.paging?.next?.after;
      if (next !== undefined && (typeof next !== "string" || next === after)) {
        throw new CrmError(
          `GET ${safeUrl(url)}: the next page's cursor ${JSON.stringify(next)} does not advance`,
          safeUrl(url),
          200,
        );
      }
      after = next;
    } while (after !== undefined);
  }

  async #get(url: URL, signal: AbortSignal | undefined): Promise<unknown> {
    for (let renewed = false;; renewed = true) {
      let token = "";
      // The token is taken at each attempt, after any wait for the rate limit, so that it is current when sent.
      const authorized = async (): Promise<RequestInit> => {
        token = await this.#accessToken();
        return { headers: { authorization: `Bearer ${token}`, accept: "application/json" } };
      };
      const response = await this.#send(url, authorized, signal);
      if (response.status === 401 && !renewed) {
        // Expired early or revoked: one new token, one more try; a second 401 is an error.
        this.stats.unauthorized += 1;
        await response.body?.cancel();
        if (this.#token?.value === token) this.#token = undefined;
        continue;
      }
      if (!response.ok) {
        throw await this.#failure(
          `GET ${safeUrl(url)}`,
          url,
          response,
          renewed && response.status === 401 ? " (even with a new token)" : "",
        );
      }
      try {
        return await response.json();
      } catch (error) {
        throw new CrmError(
          `GET ${safeUrl(url)}: the response is not JSON: ${errorText(error)}`,
          safeUrl(url),
          response.status,
          { cause: error },
        );
      }
    }
  }

  async #accessToken(): Promise<string> {
    if (this.#token && performance.now() < this.#token.renewAt) return this.#token.value;
    this.#tokenRequest ??= this.#fetchToken()
      .then((token) => (this.#token = token))
      .finally(() => (this.#tokenRequest = undefined));
    return (await this.#tokenRequest).value;
  }

  async #fetchToken(): Promise<AccessToken> {
    const url = new URL(`${this.#base}/oauth/token`);
    const body = new URLSearchParams({
      grant_type: "client_credentials",
      client_id: this.#clientId,
      client_secret: this.#clientSecret,
    });
    const request = {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body,
    };
    const response = await this.#send(url, async () => request, undefined);
    if (!response.ok) {
      throw await this.#failure(
        `POST ${safeUrl(url)}: token request refused`,
        url,
        response,
        " (check the client id and secret)",
      );
    }
    const token = (await response.json().catch(() => ({}))) as { access_token?: unknown; expires_in?: unknown };
    if (typeof token.access_token !== "string" || typeof token.expires_in !== "number") {
      throw new CrmError(
        `POST ${safeUrl(url)}: unexpected token response: no access_token or expires_in`,
        safeUrl(url),
        response.status,
      );
    }
    this.stats.tokensFetched += 1;
    this.#log.debug({ expiresInSeconds: token.expires_in }, "CRM access token fetched");
    // Renewed a tenth of its life (at most 30 s) early, so that no request goes out with a token about to expire.
    const lifeMs = token.expires_in * 1000;
    return { value: token.access_token, renewAt: performance.now() + lifeMs - Math.min(30_000, lifeMs / 10) };
  }

  /** One request, tried again on 429 (after its Retry-After), 5xx, a timeout or a network error. */
  async #send(url: URL, init: () => Promise<RequestInit>, signal: AbortSignal | undefined): Promise<Response> {
    let method = "GET";
    for (let attempt = 1;; attempt++) {
      await this.#bucket.take();
      const request = await init();
      method = request.method ?? "GET";
      this.stats.requests += 1;
      let response: Response | undefined;
      let failure: string;
      try {
        const timeout = AbortSignal.timeout(this.#timeoutMs);
        response = await this.#fetch(url, {
          ...request,
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        });
        if (!retryable(response.status)) return response;
        failure = `${response.status} ${response.statusText}`.trim();
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        failure = this.#scrub(errorText(error));
      }
      if (attempt >= this.#maxAttempts) {
        if (response) {
          throw await this.#failure(`${method} ${safeUrl(url)}`, url, response, ` after ${attempt} attempts`);
        }
        throw new CrmError(
          `${method} ${safeUrl(url)} failed after ${attempt} attempts: ${failure}`,
          safeUrl(url),
          undefined,
        );
      }
      const retryAfter = response ? retryAfterMs(response.headers.get("retry-after")) : undefined;
      const delayMs = retryAfter ?? this.#backoff(attempt);
      if (response?.status === 429) {
        this.stats.rateLimited += 1;
        this.#bucket.pause(delayMs);
      }
      await response?.body?.cancel();
      this.stats.retries += 1;
      this.#log[response?.status === 429 ? "debug" : "warn"](
        { method, url: safeUrl(url), failure, attempt, delayMs },
        "CRM request retried",
      );
      if (response?.status !== 429) await sleep(delayMs, signal);
    }
  }

  #backoff(attempt: number): number {
    const ceiling = Math.min(this.#maxBackoffMs, this.#backoffMs * 2 ** (attempt - 1));
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }

  async #failure(what: string, url: URL, response: Response, hint: string): Promise<CrmError> {
    const detail = this.#scrub(await responseDetail(response));
    const status = `${response.status} ${response.statusText}`.trim();
    return new CrmError(`${what}: ${status}${detail ? ` (${detail})` : ""}${hint}`, safeUrl(url), response.status);
  }

  /** Server text echoed into an error could, in principle, quote the secret: it never leaves here. */
  #scrub(text: string): string {
    if (!this.#clientSecret) return text;
    return text.split(this.#clientSecret).join("[redacted]").split(encodeURIComponent(this.#clientSecret)).join(
      "[redacted]",
    );
  }
}

/** The server's own explanation (OAuth `error_description`/`error`, HubSpot `message`), shortened. */
async function responseDetail(response: Response): Promise<string> {
  const text = (await response.text().catch(() => "")).slice(0, 500);
  try {
    const body = JSON.parse(text) as { error_description?: unknown; error?: unknown; message?: unknown };
    const detail = body.error_description ?? body.message ?? body.error;
    if (typeof detail === "string") return detail;
  } catch {
    // not JSON: the text itself
  }
  return text.replace(/\s+/g, " ").trim().slice(0, 200);
}

/** `Retry-After` as seconds or an HTTP date, in milliseconds; undefined when absent or unreadable. */
function retryAfterMs(header: string | null): number | undefined {
  if (header === null || header.trim() === "") return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** A URL fit for messages and logs: credentials in it, if any, removed. */
function safeUrl(url: URL): string {
  if (!url.username && !url.password) return url.href;
  const copy = new URL(url);
  copy.username = "";
  copy.password = "";
  return copy.href;
}

const errorText = (error: unknown): string => {
  const e = error as { message?: string; cause?: { message?: string; code?: string } };
  const cause = e.cause?.code ?? e.cause?.message;
  return `${e.message ?? String(error)}${cause ? ` (${cause})` : ""}`;
};
