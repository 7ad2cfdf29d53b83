import { defineResource, type ResourceDefinition } from "../../engine/resource.ts";
import { openPool, type pg } from "../../resources/postgres.ts";

/**
 * A connection pool to a Postgres database of your own (a source, say), ended when the process is done
 * with it. Read it with `readTable`, which streams a query's rows in bounded memory. Give the URL as a
 * function to read it (from the environment, a secret file) only when the pool is first used.
 * Setup runs `select 1`, so an unreachable database fails there, with an error naming the database's
 * address (password hidden), `setting` and the fix. Assets receive a `pg.Pool`.
 *
 * @example
 * ```ts
 * resources: {
 *   shop: postgresResource(() => settings().shopDatabaseUrl, { setting: "SHOP_DATABASE_URL" }),
 * }
 * // in a staged asset with resources: ["shop"]:
 * extract: ({ resources: { shop } }) => readTable(shop, "select * from shop.products order by product_id"),
 * ```
 */
export function postgresResource(
  connectionString: string | (() => string),
  options: {
    /** Connections the pool opens at most (default 10). */
    max?: number;
    /** Where the URL comes from, for a connection error to name: `SHOP_DATABASE_URL`. */
    setting?: string;
  } = {},
): ResourceDefinition<pg.Pool> {
  return defineResource({
    kind: "postgres",
    setup: async () => {
      const url = typeof connectionString === "function" ? connectionString() : connectionString;
      return await openPool(url, {
        what: "the Postgres database",
        source: { variable: options.setting ?? "the URL given to postgresResource", fromEnvironment: true },
        max: options.max,
      });
    },
    teardown: (pool) => pool.end(),
  });
}
