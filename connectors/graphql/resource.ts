import type { ResourceDefinition } from "../../engine/resource.ts";
import { settings } from "../../resources/settings.ts";
import { apiClientResource } from "../http/resource.ts";
import { GraphqlClient, type GraphqlClientOptions } from "./client.ts";

/**
 * A {@link GraphqlClient} for the online store's Admin API as a resource: the endpoint `SHOP_GRAPHQL_URL`
 * with the token `SHOP_ACCESS_TOKEN` (or `SHOP_ACCESS_TOKEN_FILE`), else the local stack's sample shop API
 * and its generated token. `options` set the client's patience and name.
 *
 * @example
 * ```ts
 * resources: { shopApi: shopGraphqlResource() },
 * // in a staged asset with resources: ["shopApi"]:
 * extract: ({ resources: { shopApi } }) => shopApi.connection(productsQuery, { path: "products" }),
 * ```
 */
export function shopGraphqlResource(
  options: Omit<GraphqlClientOptions, "endpoint" | "accessToken"> = {},
): ResourceDefinition<GraphqlClient> {
  return apiClientResource(
    "graphql",
    { variable: "SHOP_ACCESS_TOKEN", value: () => settings().shopApi.accessToken, sample: "the local sample shop API" },
    (accessToken) =>
      new GraphqlClient({ name: "shop GraphQL API", ...options, endpoint: settings().shopApi.url, accessToken }),
  );
}
