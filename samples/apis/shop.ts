import { randomUUID } from "node:crypto";
import {
  type DocumentNode,
  execute,
  type GraphQLError,
  Kind,
  type OperationDefinitionNode,
  parse,
  type SelectionSetNode,
  validate,
  valueFromASTUntyped,
} from "graphql";
import type { IncomingMessage, ServerResponse } from "node:http";
import type pg from "pg";
import { type MountedApi, readBody, sameSecret, sendJson } from "./http.ts";
import { injectedFailures } from "./limits.ts";
import { shopSchema } from "./shop-schema.ts";

/** How the sample shop GraphQL API (Shopify-shaped) serves the shop database. */
export interface ShopApiOptions {
  /** The shop database. */
  pool: pg.Pool;
  /** The schema holding `products`, `orders` and `order_items` (default `shop`). */
  schema?: string;
  /** The token callers send as `X-Shopify-Access-Token`. */
  accessToken: string;
  /** The cost bucket per token (default 1,000 points, Shopify's). */
  maximumAvailable?: number;
  /** Points restored a second (default 50, Shopify's standard plan). */
  restoreRate?: number;
  /** The fraction of queries answered with an `INTERNAL_SERVER_ERROR` inside a 200 (default 0), seeded by `seed`. */
  failureRate?: number;
  /** Seeds the injected failures (default 1). */
  seed?: number;
}

/** What the shop API saw and answered: tests assert on it. */
export interface ShopApiStats {
  requests: number;
  /** 401s: no access token, or a wrong one. */
  unauthorized: number;
  /** Queries refused as `THROTTLED` (in a 200). */
  throttled: number;
  /** Injected `INTERNAL_SERVER_ERROR`s (in a 200). */
  internalErrors: number;
  /** Queries that did not validate against the schema (errors in a 200). */
  invalidQueries: number;
  /** Queries executed. */
  queries: number;
  /** Field errors inside executed queries' responses (a price that is not a number…). */
  fieldErrors: number;
}

/** The path Shopify serves its Admin GraphQL API at (under the API's prefix here). */
export const shopGraphqlPath = "/admin/api/2025-01/graphql.json";

/**
 * Shopify's calculated query cost, simplified: a connection costs 2 plus `first` times (1 for its node
 * plus whatever connections the node selects); other fields cost nothing.
 */
function selectionCost(
  set: SelectionSetNode | undefined,
  variables: Record<string, unknown>,
  fragments: Map<string, SelectionSetNode>,
): number {
  let cost = 0;
  for (const selection of set?.selections ?? []) {
    if (selection.kind === Kind.FRAGMENT_SPREAD) {
      cost += selectionCost(fragments.get(selection.name.value), variables, fragments);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      cost += selectionCost(selection.selectionSet, variables, fragments);
    } else {
      const first = selection.arguments?.find((a) => a.name.value === "first");
      const inner = selectionCost(selection.selectionSet, variables, fragments);
      if (!first) cost += inner;
      else {
        const value = Number(valueFromASTUntyped(first.value, variables));
        cost += 2 + (Number.isFinite(value) && value > 0 ? value : 0) * (1 + inner);
      }
    }
  }
  return cost;
}

function costOf(document: DocumentNode, variables: Record<string, unknown>, operationName?: string): number {
  const fragments = new Map<string, SelectionSetNode>();
  let operation: OperationDefinitionNode | undefined;
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition.selectionSet);
    if (definition.kind === Kind.OPERATION_DEFINITION && (!operationName || definition.name?.value === operationName)) {
      operation ??= definition;
    }
  }
  return selectionCost(operation?.selectionSet, variables, fragments);
}

/** How many nodes the connections in the data returned: an empty page costs only its 2. */
function returnedNodes(data: unknown): number {
  if (typeof data !== "object" || data === null) return 0;
  let count = 0;
  for (const value of Object.values(data)) {
    const edges = (value as { edges?: unknown } | null)?.edges;
    if (Array.isArray(edges)) count += edges.length;
  }
  return count;
}

/**
 * A Shopify-shaped Admin GraphQL API (`POST <prefix>/admin/api/2025-01/graphql.json`, made with the
 * `graphql` library) over the shop database: `products` and `orders` connections with `first`/`after` and
 * `pageInfo { hasNextPage endCursor }`; the calculated cost of each query taken from a bucket per token that
 * refills at `restoreRate` points a second, reported in `extensions.cost.throttleStatus`; a query costing
 * more than is left answered `THROTTLED` inside a 200; validation and field errors inside 200s too; the
 * token in `X-Shopify-Access-Token`, else a 401.
 *
 * @example
 * const api = await startSampleApis({ shop: { pool: shopPool, accessToken: "shpat_…" } });
 */
export function shopApi(options: ShopApiOptions): MountedApi<ShopApiStats> {
  const { pool, accessToken, maximumAvailable = 1000, restoreRate = 50, failureRate = 0, seed = 1 } = options;
  const schema = options.schema ?? "shop";
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`not a schema name: ${schema}`);
  const stats: ShopApiStats = {
    requests: 0,
    unauthorized: 0,
    throttled: 0,
    internalErrors: 0,
    invalidQueries: 0,
    queries: 0,
    fieldErrors: 0,
  };
  const failing = injectedFailures(failureRate, seed);
  const bucket = { available: maximumAvailable, at: Date.now() };
  const throttleStatus = () => {
    const now = Date.now();
    bucket.available = Math.min(maximumAvailable, bucket.available + ((now - bucket.at) * restoreRate) / 1000);
    bucket.at = now;
    return { maximumAvailable, currentlyAvailable: Math.floor(bucket.available), restoreRate };
  };
  const cost = (requested: number, actual: number | null) => ({
    cost: { requestedQueryCost: requested, actualQueryCost: actual, throttleStatus: throttleStatus() },
  });

  async function query(request: IncomingMessage, response: ServerResponse) {
    let body: { query?: unknown; variables?: unknown; operationName?: unknown };
    try {
      body = JSON.parse(await readBody(request, 256 * 1024));
    } catch {
      return sendJson(response, 400, { errors: 'The request body is not JSON: send {"query": …, "variables": …}' });
    }
    if (typeof body.query !== "string") {
      return sendJson(response, 400, { errors: "Parameter Missing or Invalid: query" });
    }
    const variables = (typeof body.variables === "object" && body.variables !== null ? body.variables : {}) as Record<
      string,
      unknown
    >;
    const operationName = typeof body.operationName === "string" ? body.operationName : undefined;
    let document: DocumentNode;
    try {
      document = parse(body.query);
    } catch (error) {
      stats.invalidQueries += 1;
      return sendJson(response, 200, { errors: [(error as GraphQLError).toJSON()] });
    }
    const invalid = validate(shopSchema, document);
    if (invalid.length > 0) {
      stats.invalidQueries += 1;
      return sendJson(response, 200, { errors: invalid.map((e) => e.toJSON()) });
    }
    const requested = costOf(document, variables, operationName);
    if (requested > maximumAvailable) {
      return sendJson(response, 200, {
        errors: [{
          message: `Query cost is ${requested}, which exceeds the single query max cost limit (${maximumAvailable}).`,
          extensions: { code: "MAX_COST_EXCEEDED", cost: requested, maxCost: maximumAvailable },
        }],
        extensions: cost(requested, null),
      });
    }
    if (throttleStatus().currentlyAvailable < requested) {
      stats.throttled += 1;
      return sendJson(response, 200, {
        errors: [{
          message: "Throttled",
          extensions: { code: "THROTTLED", documentation: "https://shopify.dev/api/usage/rate-limits" },
        }],
        extensions: cost(requested, null),
      });
    }
    bucket.available -= requested;
    if (failing()) {
      stats.internalErrors += 1;
      const requestId = randomUUID();
      return sendJson(response, 200, {
        errors: [{
          message: `Internal error. Looks like something went wrong on our end.\nRequest ID: ${requestId}`,
          extensions: { code: "INTERNAL_SERVER_ERROR", requestId },
        }],
        extensions: cost(requested, null),
      });
    }
    stats.queries += 1;
    const result = await execute({
      schema: shopSchema,
      document,
      variableValues: variables,
      operationName,
      contextValue: { pool, schema },
    });
    stats.fieldErrors += result.errors?.length ?? 0;
    // Nodes asked for and not there are refunded, as Shopify's actual cost does.
    const actual = returnedNodes(result.data) > 0 ? requested : Math.min(requested, 2);
    bucket.available += requested - actual;
    sendJson(response, 200, { ...result, extensions: cost(requested, actual) });
  }

  return {
    stats,
    async handle(request, response, path) {
      stats.requests += 1;
      if (path !== shopGraphqlPath || request.method !== "POST") {
        return sendJson(response, 404, { errors: "Not Found" });
      }
      if (!sameSecret(request.headers["x-shopify-access-token"] as string | undefined, accessToken)) {
        stats.unauthorized += 1;
        return sendJson(response, 401, {
          errors: "[API] Invalid API key or access token (unrecognized login or wrong password)",
        });
      }
      await query(request, response);
    },
  };
}
