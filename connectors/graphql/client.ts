import { sleep } from "../token-bucket.ts";
import { BadRow } from "../bad-rows.ts";
import {
  ApiError,
  type Authorization,
  HttpClient,
  type HttpClientOptions,
  type HttpClientStats,
} from "../http/index.ts";

/** How a {@link GraphqlClient} reaches a GraphQL API (the rest as every API client: `HttpClientOptions`). */
export interface GraphqlClientOptions extends HttpClientOptions {
  /** The endpoint queries are POSTed to, e.g. `https://acme.myshopify.com/admin/api/2025-01/graphql.json`. */
  endpoint: string;
  /** The access token; never logged, scrubbed from errors. */
  accessToken: string;
  /** The header it goes in (default `X-Shopify-Access-Token`; `authorization` sends `Bearer <token>`). */
  tokenHeader?: string;
  /** Names the API in errors, logs and bad rows (default `GraphQL API`). */
  name?: string;
}

/** One entry of a response's `errors`. */
export interface GraphqlErrorEntry {
  /** What went wrong, as the server says. */
  message: string;
  /** Where in the data: field names and list indexes (`["products", "edges", 3, "node", "price"]`). */
  path?: (string | number)[];
  /** The server's additions: `code` (`THROTTLED`, `INTERNAL_SERVER_ERROR`…) and more. */
  extensions?: Record<string, unknown>;
}

/**
 * A GraphQL response with errors that are not about one record (a query that does not validate, a cost over
 * the maximum, throttling or internal errors that outlasted the retries), though it came with HTTP 200.
 *
 * @example
 * ```ts
 * try {
 *   await shop.request("{ shop { name } }");
 * } catch (error) {
 *   if (error instanceof GraphqlError) console.error(error.errors.map((e) => e.message));
 *   throw error;
 * }
 * ```
 */
export class GraphqlError extends ApiError {
  /** Always `"GraphqlError"`. */
  override name = "GraphqlError";
  /** The response's errors. */
  errors: GraphqlErrorEntry[] = [];
}

/** What the client did, for an asset's metadata (and tests). */
export interface GraphqlClientStats extends HttpClientStats {
  /** Queries answered `THROTTLED` (each retried once the cost bucket had refilled enough). */
  throttled: number;
  /** Milliseconds waited for the cost bucket, before queries or after a `THROTTLED`. */
  throttleWaitMs: number;
  /** Records that came with a field error and were yielded as bad rows. */
  recordErrors: number;
}

/** The cost Shopify reports in `extensions.cost`. */
interface Cost {
  requestedQueryCost?: number;
  actualQueryCost?: number | null;
  throttleStatus?: { maximumAvailable?: number; currentlyAvailable?: number; restoreRate?: number };
}

interface Response<T> {
  data?: T | null;
  errors?: GraphqlErrorEntry[];
  extensions?: { cost?: Cost };
}

/** What {@link GraphqlClient.connection} needs to page a connection. */
export interface ConnectionOptions<N> {
  /**
   * Where the connection is in `data`: `"products"`, or `"shop.orders"` for a nested one. The query must
   * take `$first: Int!` and `$after: String`, pass them to it, and select `pageInfo { hasNextPage endCursor }`
   * and `edges { node { … } }`.
   */
  path: string;
  /** The query's other variables. */
  variables?: Record<string, unknown>;
  /** Nodes a page (default 50). */
  pageSize?: number;
  /** A node's source key, for the bad row of a node with a field error. */
  keyOf?: (node: N) => string | undefined;
  /** Aborts the request in flight and any wait. */
  signal?: AbortSignal;
}

const lookup = (data: unknown, path: string[]): unknown =>
  path.reduce<unknown>((value, key) => (value as Record<string, unknown> | null | undefined)?.[key], data);

/**
 * A GraphQL client for Shopify-shaped APIs: queries POSTed with the access token, connections paged through
 * `first`/`after` and `pageInfo`, cost-based throttling obeyed (a query is held back until the bucket that
 * `extensions.cost.throttleStatus` reports has refilled enough for it, and a `THROTTLED` answer is retried
 * after exactly that wait), `INTERNAL_SERVER_ERROR`s inside a 200 retried with backoff, and other errors
 * inside a 200 thrown as a {@link GraphqlError}, except a field error of one record, which
 * {@link GraphqlClient.connection} yields as a `BadRow` in the record's place (source key, field, message)
 * for the staged asset to dead-letter. On the package's HTTP core (`HttpClient`) for the rest.
 *
 * @example A staged asset reading the shop's products
 * ```ts
 * const shop = new GraphqlClient({ endpoint: "https://acme.myshopify.com/admin/api/2025-01/graphql.json", accessToken });
 * extract: () => shop.connection(`query ($first: Int!, $after: String) {
 *   products(first: $first, after: $after) { pageInfo { hasNextPage endCursor } edges { node { legacyResourceId title price } } }
 * }`, { path: "products", keyOf: (p) => p.legacyResourceId }),
 * ```
 */
export class GraphqlClient {
  readonly #endpoint: URL;
  readonly #http: HttpClient;
  readonly #auth: Authorization;
  readonly #stats = { throttled: 0, throttleWaitMs: 0, recordErrors: 0 };
  /** When the bucket, as last reported, holds enough for the last query's cost again. */
  #bucket: { available: number; restoreRate: number; at: number; lastCost: number } | undefined;

  /** Nothing is sent until the first query. */
  constructor(options: GraphqlClientOptions) {
    this.#endpoint = new URL(options.endpoint);
    const name = options.name ?? "GraphQL API";
    this.#http = new HttpClient(name, options, [options.accessToken], (message, details, init) => {
      return new GraphqlError(message, details, init);
    });
    const header = options.tokenHeader ?? "X-Shopify-Access-Token";
    const value = header.toLowerCase() === "authorization" ? `Bearer ${options.accessToken}` : options.accessToken;
    this.#auth = { headers: () => ({ [header]: value }), hint: " (check the access token)" };
  }

  /** What the client did so far. */
  get stats(): GraphqlClientStats {
    return { ...this.#http.stats, ...this.#stats };
  }

  /** The data of a query; any error in the response (even in a 200) throws a {@link GraphqlError}. */
  async request<T = Record<string, unknown>>(
    query: string,
    variables: Record<string, unknown> = {},
    { signal }: {
      /** Aborts the request in flight and any wait. */
      signal?: AbortSignal;
    } = {},
  ): Promise<T> {
    const response = await this.#query<T>(query, variables, signal);
    if (response.errors?.length) throw this.#error(response.errors);
    return response.data as T;
  }

  /**
   * Every node of a connection, page after page. A node with a field error (a price the server cannot
   * serialise) is yielded as a `BadRow` naming the node's key and the field; any other error throws a
   * {@link GraphqlError}, as does a page that says it has a next one without an `endCursor` that advances.
   */
  async *connection<N = Record<string, unknown>>(
    query: string,
    options: ConnectionOptions<N>,
  ): AsyncGenerator<N | BadRow> {
    const path = options.path.split(".");
    const first = options.pageSize ?? 50;
    let after: string | undefined;
    let position = 0;
    for (;;) {
      const response = await this.#query(query, { ...options.variables, first, after: after ?? null }, options.signal);
      const page = lookup(response.data, path) as
        | { edges?: ({ node?: N | null } | null)[]; pageInfo?: { hasNextPage?: unknown; endCursor?: unknown } }
        | null
        | undefined;
      const inEdge = (e: GraphqlErrorEntry) =>
        Array.isArray(e.path) && path.every((key, i) => e.path![i] === key) && e.path[path.length] === "edges" &&
        typeof e.path[path.length + 1] === "number";
      const other = (response.errors ?? []).filter((e) => !inEdge(e));
      if (other.length > 0 || !Array.isArray(page?.edges)) {
        throw other.length > 0 ? this.#error(other) : this.#http.error(
          `POST ${this.#endpoint.href}: no connection at "${options.path}" in the data`,
          this.#endpoint,
          200,
        );
      }
      const errorsAt = Map.groupBy((response.errors ?? []).filter(inEdge), (e) => e.path![path.length + 1] as number);
      for (const [i, edge] of page.edges.entries()) {
        position += 1;
        const errors = errorsAt.get(i);
        if (!errors) {
          yield edge?.node as N;
          continue;
        }
        this.#stats.recordErrors += 1;
        const node = edge?.node ?? undefined;
        const field = errors[0]!.path!.slice(path.length + 3).join(".");
        const message = errors.map((e) => `${e.message} (at ${e.path!.join(".")})`).join("; ");
        yield new BadRow(
          `${this.#http.name} ${options.path}`,
          position,
          `GraphQL error: ${message}`,
          JSON.stringify(edge ?? null),
          {
            sourceKey: node === undefined ? undefined : options.keyOf?.(node),
            path: field || undefined,
          },
        );
      }
      const more = page.pageInfo?.hasNextPage === true;
      if (!more) return;
      const next = page.pageInfo?.endCursor;
      if (typeof next !== "string" || next === after) {
        throw this.#http.error(
          `POST ${this.#endpoint.href}: ${options.path}'s endCursor ${JSON.stringify(next)} does not advance`,
          this.#endpoint,
          200,
        );
      }
      after = next;
    }
  }

  /** One query: held back while the cost bucket is short, retried on THROTTLED and internal errors. */
  async #query<T>(
    query: string,
    variables: Record<string, unknown>,
    signal: AbortSignal | undefined,
  ): Promise<Response<T>> {
    for (let attempt = 1;; attempt++) {
      await this.#waitForBucket(signal);
      const response = (await this.#http.json(this.#endpoint, this.#auth, {
        method: "POST",
        body: { query, variables },
        signal,
      })) as Response<T>;
      const { errors } = (response ?? {}) as { errors?: unknown };
      const unexpected = response === null || typeof response !== "object" || Array.isArray(response)
        ? "not a JSON object"
        : errors !== undefined && (!Array.isArray(errors) || !errors.every((e) => typeof e === "object" && e !== null))
        ? '"errors" is not a list of objects'
        : undefined;
      if (unexpected) {
        throw this.#http.error(`POST ${this.#endpoint.href}: unexpected response: ${unexpected}`, this.#endpoint, 200);
      }
      const cost = response?.extensions?.cost;
      this.#remember(cost);
      const codes = new Set((response?.errors ?? []).map((e) => e.extensions?.code));
      const throttled = codes.has("THROTTLED");
      const internal = codes.has("INTERNAL_SERVER_ERROR") && !response.data;
      if (!throttled && !internal) return response;
      if (attempt >= this.#http.maxAttempts) throw this.#error(response.errors!, ` after ${attempt} attempts`);
      let waitMs: number;
      if (throttled) {
        this.#stats.throttled += 1;
        waitMs = this.#refillMs(cost?.requestedQueryCost) ?? this.#http.backoff(attempt);
      } else waitMs = this.#http.backoff(attempt);
      this.#http.stats.retries += 1;
      this.#http.log[throttled ? "debug" : "warn"](
        { url: this.#endpoint.href, failure: [...codes].join(","), attempt, delayMs: waitMs },
        `${this.#http.name} query retried`,
      );
      if (throttled) this.#stats.throttleWaitMs += waitMs;
      await sleep(waitMs, signal);
    }
  }

  #remember(cost: Cost | undefined): void {
    const status = cost?.throttleStatus;
    if (typeof status?.currentlyAvailable !== "number" || typeof status.restoreRate !== "number") return;
    this.#bucket = {
      available: status.currentlyAvailable,
      restoreRate: status.restoreRate,
      at: performance.now(),
      lastCost: cost?.requestedQueryCost ?? this.#bucket?.lastCost ?? 0,
    };
  }

  /** How long until the bucket, as last reported, holds `cost` points (undefined without a report). */
  #refillMs(cost: number | undefined): number | undefined {
    const bucket = this.#bucket;
    if (!bucket || !(bucket.restoreRate > 0)) return undefined;
    const available = bucket.available + ((performance.now() - bucket.at) * bucket.restoreRate) / 1000;
    const missing = (cost ?? bucket.lastCost) - available;
    // A few milliseconds more than the arithmetic: the server's clock rounds down what it restored.
    return missing > 0 ? Math.ceil((missing / bucket.restoreRate) * 1000) + 20 : 0;
  }

  /** Before a query: if the last one would not fit in the bucket now, wait until it would. */
  async #waitForBucket(signal: AbortSignal | undefined): Promise<void> {
    const waitMs = this.#refillMs(undefined);
    if (!waitMs) return;
    this.#stats.throttleWaitMs += waitMs;
    await sleep(waitMs, signal);
  }

  #error(errors: GraphqlErrorEntry[], suffix = ""): GraphqlError {
    const codes = errors.map((e) => e.extensions?.code).filter((c): c is string => typeof c === "string");
    const text = errors.slice(0, 3).map((e) =>
      `${e.message}${Array.isArray(e.path) ? ` (at ${e.path.join(".")})` : ""}${
        e.extensions?.code ? ` [${e.extensions.code}]` : ""
      }`
    ).join("; ");
    const more = errors.length > 3 ? ` and ${errors.length - 3} more` : "";
    const error = this.#http.error(
      `POST ${this.#endpoint.href}: GraphQL errors in the response: ${text}${more}${suffix}`,
      this.#endpoint,
      200,
      codes[0],
    ) as GraphqlError;
    error.errors = errors;
    return error;
  }
}
