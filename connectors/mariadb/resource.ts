import { defineResource, type ResourceDefinition } from "../../engine/resource.ts";
import { ConnectionError } from "../../resources/connection-errors.ts";
import { settings } from "../../resources/settings.ts";
import { mysqlConnectionError } from "./errors.ts";
import type mysql from "mysql2/promise";
import { createMysqlPool, type MysqlPoolOptions, serverOf } from "./pool.ts";

/**
 * A connection pool to a MySQL or MariaDB database (a mysql2/promise `Pool`, see {@link createMysqlPool}),
 * ended when the process is done with it. Read it with `readMysql`, which streams a query's rows in bounded
 * memory. Without `url`, the database is `MARIADB_URL` (or the file `MARIADB_URL_FILE` names), else the local
 * stack's `crm` database; give the URL as a function to read it (from a secret file, say) only when the pool
 * is first used. Setup runs `select 1`, so a database that cannot be reached or refuses the login fails there,
 * with an error naming its address (password hidden), where it came from and the fix. Assets receive a
 * `mysql.Pool`.
 *
 * @example
 * ```ts
 * resources: { crmDatabase: mariadbResource() }
 * // in a staged asset with resources: ["crmDatabase"]:
 * extract: ({ resources: { crmDatabase } }) => readMysql(crmDatabase, "select * from deals order by deal_id"),
 * ```
 *
 * @example
 * ```ts
 * resources: { erp: mariadbResource(() => readFileSync("/run/secrets/erp-url", "utf8").trim(), { setting: "/run/secrets/erp-url" }) }
 * ```
 */
export function mariadbResource(
  url?: string | (() => string),
  options: MysqlPoolOptions & {
    /** Where `url` comes from, for a connection error to name (default: `the URL given to mariadbResource`). */
    setting?: string;
  } = {},
): ResourceDefinition<mysql.Pool> {
  return defineResource({
    kind: "mariadb",
    setup: async () => {
      const defaults = settings().mariadb;
      const resolved = url === undefined ? defaults.url : typeof url === "function" ? url() : url;
      const source = url === undefined
        ? { variable: "MARIADB_URL", fromEnvironment: defaults.external }
        : { variable: options.setting ?? "the URL given to mariadbResource", fromEnvironment: true };
      if (!URL.canParse(resolved)) {
        throw new ConnectionError(
          `cannot connect to MySQL/MariaDB: ${source.variable} is not a URL: give mysql://user:password@host:port/database`,
        );
      }
      if (!source.fromEnvironment && !new URL(resolved).password) {
        // The local stack's URL carries the password it generated on its first start: none, no stack here yet.
        throw new ConnectionError(
          "cannot connect to the local stack's MariaDB: there is no password for it yet, as the stack has not been " +
            "started in this project; run `ingest stack up`, or set MARIADB_URL to use your own",
        );
      }
      const pool = createMysqlPool(resolved, options);
      await pool.query("select 1").catch(async (error: unknown) => {
        await pool.end().catch(() => {});
        throw mysqlConnectionError(resolved, serverOf(pool), source, error);
      });
      return pool;
    },
    teardown: (pool) => pool.end(),
  });
}
