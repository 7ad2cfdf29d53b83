export { GraphqlClient, GraphqlError } from "./client.ts";
export type { ConnectionOptions, GraphqlClientOptions, GraphqlClientStats, GraphqlErrorEntry } from "./client.ts";
export { shopGraphqlResource } from "./resource.ts";
