import { type Logger, logger as rootLogger } from "../../resources/logger.ts";
import { sleep, TokenBucket } from "../token-bucket.ts";
import { ApiError, errorText, responseDetail, safeUrl } from "./errors.ts";
import { backoffMs, retryableStatus, retryAfterMs } from "./retry.ts";

/** Makes the error a client throws: an {@link ApiError}, or a subclass of its own (`CrmError`). */
export type NewApiError = (
  message: string,
  details: ConstructorParameters<typeof ApiError>[1],
  options?: ErrorOptions,
) => ApiError;

/** How an API client reaches its API and how patient it is; every client of this package takes these. */
export interface HttpClientOptions {
  /** The `fetch` to send requests with (default the global one). */
  fetch?: typeof globalThis.fetch;
  /** Client-side rate limit across all requests of this client (default 10 a second). */
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
  /** Where retries are logged (default the framework's logger), with the API's name as `component`. */
  logger?: Logger;
}

/** What a client did, for an asset's metadata (and tests). */
export interface HttpClientStats {
  /** Requests sent, retries and token requests included. */
  requests: number;
  /** Requests sent again after a failure (429, 5xx, a timeout, the network, or a throttled GraphQL query). */
  retries: number;
  /** 429 answers (each honoured by waiting its Retry-After), and throttled GraphQL queries. */
  rateLimited: number;
  /** 401 answers that made the client renew its credentials. */
  unauthorized: number;
}

/**
 * How requests are authorised: headers added to every attempt, and, for credentials that can be renewed
 * (an OAuth token), what to do when the server refuses them.
 */
export interface Authorization {
  /** The headers for the next attempt (asked again for each, after any wait, so they are current when sent). */
  headers(): Promise<Record<string, string>> | Record<string, string>;
  /** After a 401 to `refused` (what `headers` gave): true to try once more with new headers, false to fail. */
  renew?(refused: Record<string, string>): boolean;
  /** Said in the error when the credentials are refused (`" (check CHAT_API_TOKEN)"`). */
  hint?: string;
}

/** One request: method, headers and a body, and the statuses that are an answer rather than a failure. */
export interface JsonRequest {
  /** Default GET. */
  method?: string;
  /** Sent as they are, after the authorisation's. */
  headers?: Record<string, string>;
  /** A form, a string, or a value sent as JSON. */
  body?: URLSearchParams | string | Record<string, unknown>;
  /** Aborts the request in flight and any backoff wait. */
  signal?: AbortSignal;
  /** What a failure's message says first (default `<METHOD> <url>`). */
  what?: string;
  /** Said after a 401 or 403 (`" (check the client id and secret)"`), else the authorisation's hint. */
  hint?: string;
}

/**
 * The HTTP core every API client of this package is built on: a token bucket keeping under the API's rate
 * limit, 429s honoured by their `Retry-After`, 5xx, timeouts and network errors retried with exponential
 * backoff and jitter a bounded number of times, credentials renewed once on a 401, and failures thrown as
 * an {@link ApiError} naming the API, the method and URL, never a secret (`secrets` are scrubbed from any
 * text the server echoes). `CrmClient`, `ChatClient`, `GraphqlClient` and `PaymentsClient` use it; a client
 * of your own can too.
 *
 * @example
 * ```ts
 * const http = new HttpClient("status API", { requestsPerSecond: 5 }, [token]);
 * const auth = { headers: () => ({ authorization: `Bearer ${token}` }) };
 * const body = await http.json(new URL("https://status.example.com/api/v1/incidents"), auth);
 * ```
 */
export class HttpClient {
  /** What the client did so far. */
  readonly stats: HttpClientStats = { requests: 0, retries: 0, rateLimited: 0, unauthorized: 0 };
  /** The API's name, first in every error message and log line. */
  readonly name: string;
  /** Where the client logs (component = the API's name). */
  readonly log: Logger;
  readonly #fetch: typeof globalThis.fetch;
  readonly #bucket: TokenBucket;
  readonly #maxAttempts: number;
  readonly #backoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #timeoutMs: number;
  readonly #secrets: string[];
  readonly #newError: NewApiError;

  /** `name` names the API in errors and logs; `secrets` never appear in either. */
  constructor(
    name: string,
    options: HttpClientOptions,
    secrets: (string | undefined)[] = [],
    newError: NewApiError = (message, details, options) => new ApiError(message, details, options),
  ) {
    this.name = name;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#bucket = new TokenBucket(options.requestsPerSecond ?? 10, options.burst ?? 1);
    this.#maxAttempts = options.maxAttempts ?? 8;
    this.#backoffMs = options.backoffMs ?? 500;
    this.#maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.log = (options.logger ?? rootLogger).child({ component: name });
    // A secret of a few characters would blot out every word it occurs in, and tells nothing on its own.
    this.#secrets = secrets.filter((s): s is string => typeof s === "string" && s.length >= 4);
    this.#newError = newError;
  }

  /**
   * Sends a request (retried as the class says), renews the credentials once on a 401, and returns the
   * response's JSON. A status that is not 2xx after that throws an {@link ApiError}, as does a body that is
   * not JSON.
   */
  async json(url: URL, auth: Authorization | undefined, request: JsonRequest = {}): Promise<unknown> {
    const method = request.method ?? "GET";
    for (let renewed = false;; renewed = true) {
      let used: Record<string, string> = {};
      const init = async (): Promise<RequestInit> => {
        used = auth ? await auth.headers() : {};
        return {
          method,
          ...encodeBody(request.body),
          headers: { accept: "application/json", ...used, ...bodyHeaders(request.body), ...request.headers },
        };
      };
      const response = await this.send(url, init, request.signal);
      if (response.status === 401 && !renewed && auth?.renew) {
        this.stats.unauthorized += 1;
        await response.body?.cancel();
        if (auth.renew(used)) continue;
      }
      if (!response.ok) {
        const hint = response.status === 401 || response.status === 403
          ? `${renewed ? " (even with new credentials)" : ""}${request.hint ?? auth?.hint ?? ""}`
          : "";
        throw await this.failure(request.what ?? `${method} ${safeUrl(url)}`, url, response, hint);
      }
      return this.parse(url, method, response);
    }
  }

  /** The JSON of a successful response, or an {@link ApiError} saying it is not JSON. */
  async parse(url: URL, method: string, response: Response): Promise<unknown> {
    try {
      return await response.json();
    } catch (error) {
      throw this.error(
        `${method} ${safeUrl(url)}: the response is not JSON: ${errorText(error)}`,
        url,
        response.status,
      );
    }
  }

  /**
   * One request, tried again on 429 (after its Retry-After), 5xx, a timeout or a network error, up to the
   * attempts allowed; any other status is returned as it is. `init` is called for every attempt.
   */
  async send(url: URL, init: () => Promise<RequestInit>, signal: AbortSignal | undefined): Promise<Response> {
    for (let attempt = 1;; attempt++) {
      await this.#bucket.take();
      const request = await init();
      const method = request.method ?? "GET";
      this.stats.requests += 1;
      let response: Response | undefined;
      let failure: string;
      try {
        const timeout = AbortSignal.timeout(this.#timeoutMs);
        response = await this.#fetch(url, {
          ...request,
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        });
        if (!retryableStatus(response.status)) return response;
        failure = `${response.status} ${response.statusText}`.trim();
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        failure = this.scrub(errorText(error));
      }
      if (attempt >= this.#maxAttempts) {
        if (response) {
          throw await this.failure(`${method} ${safeUrl(url)}`, url, response, ` after ${attempt} attempts`);
        }
        throw this.error(`${method} ${safeUrl(url)} failed after ${attempt} attempts: ${failure}`, url, undefined);
      }
      const retryAfter = response ? retryAfterMs(response.headers.get("retry-after")) : undefined;
      const delayMs = retryAfter ?? this.backoff(attempt);
      await response?.body?.cancel();
      if (response?.status === 429) {
        this.stats.rateLimited += 1;
        this.pause(delayMs);
      }
      this.stats.retries += 1;
      this.log[response?.status === 429 ? "debug" : "warn"](
        { method, url: safeUrl(url), failure, attempt, delayMs },
        `${this.name} request retried`,
      );
      // After a 429 the bucket itself waits out the Retry-After, for every request of this client.
      if (response?.status !== 429) await sleep(delayMs, signal);
    }
  }

  /** Holds every request of this client back for `ms` (a Retry-After, or a GraphQL cost bucket refilling). */
  pause(ms: number): void {
    this.#bucket.pause(ms);
  }

  /** The backoff before retry number `attempt`, jittered. */
  backoff(attempt: number): number {
    return backoffMs(attempt, this.#backoffMs, this.#maxBackoffMs);
  }

  /** How many tries a request gets in all. */
  get maxAttempts(): number {
    return this.#maxAttempts;
  }

  /** An {@link ApiError} of this API for `url` (the message gets the API's name in front; secrets scrubbed). */
  error(message: string, url: URL, status: number | undefined, code?: string, options?: ErrorOptions): ApiError {
    const details = { source: this.name, url: safeUrl(url), status, code };
    return this.#newError(`${this.name}: ${this.scrub(message)}`, details, options);
  }

  /** The error for a failed response: its status and the server's own explanation, then `hint`. */
  async failure(what: string, url: URL, response: Response, hint = ""): Promise<ApiError> {
    const detail = await responseDetail(response);
    const status = `${response.status} ${response.statusText}`.trim();
    return this.error(
      `${what}: ${status}${detail.text ? ` (${detail.text})` : ""}${hint}`,
      url,
      response.status,
      detail.code,
    );
  }

  /** Server text echoed into an error could, in principle, quote a secret: it never leaves here. */
  scrub(text: string): string {
    let scrubbed = text;
    for (const secret of this.#secrets) {
      scrubbed = scrubbed.split(secret).join("[redacted]").split(encodeURIComponent(secret)).join("[redacted]");
    }
    return scrubbed;
  }
}

function encodeBody(body: JsonRequest["body"]): { body?: string | URLSearchParams } {
  if (body === undefined) return {};
  if (typeof body === "string" || body instanceof URLSearchParams) return { body };
  return { body: JSON.stringify(body) };
}

function bodyHeaders(body: JsonRequest["body"]): Record<string, string> {
  if (body === undefined || typeof body === "string") return {};
  if (body instanceof URLSearchParams) return { "content-type": "application/x-www-form-urlencoded" };
  return { "content-type": "application/json" };
}
