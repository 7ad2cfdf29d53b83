import { ApiError, type Authorization, HttpClient, type HttpClientOptions, paginate } from "../http/index.ts";

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

/** How a {@link CrmClient} reaches the API and how patient it is (the rest as every API client: `HttpClientOptions`). */
export interface CrmClientOptions extends HttpClientOptions {
  /** Where the API lives, e.g. `https://api.example-crm.com`: `/oauth/token` and `/crm/v3/…` are resolved against it. */
  baseUrl: string;
  /** The OAuth2 client id. */
  clientId: string;
  /** Sent only in the token request's body; never logged, and scrubbed from any error text. */
  clientSecret: string;
}

/**
 * A request to the CRM API that failed for good: names the API, the URL and the last status, never a secret.
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
export class CrmError extends ApiError {
  /** Always `"CrmError"`. */
  override name = "CrmError";
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

/**
 * A client for a HubSpot-shaped CRM REST API (see samples/SOURCES.md): OAuth2 client credentials with
 * the token renewed before it expires (and once on a 401), paging through `after` cursors, and the
 * retries, backoff and rate limit of the package's HTTP core (`HttpClient`). A request that still fails
 * throws a {@link CrmError} naming the API, the URL and status; the secret never appears in errors or logs.
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
  readonly #base: string;
  readonly #clientId: string;
  readonly #clientSecret: string;
  readonly #http: HttpClient;
  readonly #auth: Authorization;
  #tokensFetched = 0;
  #token: AccessToken | undefined;
  #tokenRequest: Promise<AccessToken> | undefined;

  /** Nothing is sent until the first page is read; the token is fetched then. */
  constructor(options: CrmClientOptions) {
    this.#base = options.baseUrl.replace(/\/+$/, "");
    this.#clientId = options.clientId;
    this.#clientSecret = options.clientSecret;
    this.#http = new HttpClient(
      "CRM API",
      options,
      [options.clientSecret],
      (message, details, init) => new CrmError(message, details, init),
    );
    this.#auth = {
      headers: async () => ({ authorization: `Bearer ${await this.#accessToken()}` }),
      // Expired early or revoked: one new token, one more try; a second 401 is an error.
      renew: (refused) => {
        if (this.#token && refused.authorization === `Bearer ${this.#token.value}`) this.#token = undefined;
        return true;
      },
    };
  }

  /** What the client did so far: requests, retries, rate limiting, tokens. */
  get stats(): CrmClientStats {
    return { ...this.#http.stats, tokensFetched: this.#tokensFetched };
  }

  /**
   * Every object of a type, page after page (`limit` = `pageSize`, at most 100 for HubSpot). A page
   * without a `results` array, or a cursor that does not advance, throws a {@link CrmError}.
   */
  objects(
    type: CrmObjectType,
    { pageSize = 100, signal }: {
      /** Objects per page (default 100). */
      pageSize?: number;
      /** Aborts the request in flight and any backoff wait: the generator then rejects with the signal's reason. */
      signal?: AbortSignal;
    } = {},
  ): AsyncGenerator<CrmObject> {
    const url = (after: string | undefined) => {
      const url = new URL(`${this.#base}/crm/v3/objects/${type}`);
      url.searchParams.set("limit", String(pageSize));
      if (after !== undefined) url.searchParams.set("after", after);
      return url;
    };
    return paginate<CrmObject, string>(undefined, async (after) => {
      const page = (await this.#http.json(url(after), this.#auth, { signal })) as {
        results?: unknown;
        paging?: { next?: { after?: unknown } };
      };
      if (!Array.isArray(page?.results)) {
        throw this.#http.error(`GET ${url(after).href}: unexpected response: no "results" array`, url(after), 200);
      }
      const next = page.paging?.next?.after;
      if (next !== undefined && typeof next !== "string") {
        throw this.#http.error(`GET ${url(after).href}: the next page's cursor is not a string`, url(after), 200);
      }
      return { records: page.results as CrmObject[], next };
    }, (next) =>
      this.#http.error(
        `GET ${url(next).href}: the next page's cursor ${JSON.stringify(next)} does not advance`,
        url(next),
        200,
      ));
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
    const token = (await this.#http.json(url, undefined, {
      method: "POST",
      body,
      what: `POST ${url.href}: token request refused`,
      hint: " (check the client id and secret)",
    })) as { access_token?: unknown; expires_in?: unknown };
    if (typeof token?.access_token !== "string" || typeof token.expires_in !== "number") {
      throw this.#http.error(`POST ${url.href}: unexpected token response: no access_token or expires_in`, url, 200);
    }
    this.#tokensFetched += 1;
    this.#http.log.debug({ expiresInSeconds: token.expires_in }, "CRM access token fetched");
    // Renewed a tenth of its life (at most 30 s) early, so that no request goes out with a token about to expire.
    const lifeMs = token.expires_in * 1000;
    return { value: token.access_token, renewAt: performance.now() + lifeMs - Math.min(30_000, lifeMs / 10) };
  }
}
