import { defineResource, type ResourceDefinition, type ResourceKind } from "../../engine/resource.ts";
import { openPool } from "../../resources/postgres.ts";
import { settings } from "../../resources/settings.ts";
import { Staging } from "./staging.ts";

/** What staged assets write and node, relationship and collection assets read: received as `staging`. */
export const stagingKind: ResourceKind & { name: "staging" } = {
  kind: "staging",
  name: "staging",
  make: "stagingResource()",
  is: (value) => value instanceof Staging,
};

/**
 * The staging tables (schema `staging`) in the metadata database: `databaseUrl`, else `DATABASE_URL`,
 * else the local stack's database (`ingest stack up`). Setup connects once and fails with an error
 * naming the database, where its URL came from and the fix; the pool is ended at teardown.
 *
 * @example
 * ```ts
 * export const resources = {
 *   staging: stagingResource(),
 *   neo4j: neo4jResource(),
 * };
 * ```
 */
export function stagingResource(databaseUrl?: string): ResourceDefinition<Staging> {
  return defineResource({
    kind: stagingKind.kind,
    setup: async () => {
      const { databaseUrl: configured, external } = settings();
      const url = databaseUrl ?? configured;
      const pool = await openPool(url, {
        what: "the staging database",
        source: {
          variable: databaseUrl ? "the URL given to stagingResource" : "DATABASE_URL",
          fromEnvironment: databaseUrl !== undefined || external.postgres,
        },
      });
      return new Staging(pool);
    },
    teardown: (staging) => staging.close(),
  });
}
