import mysql from "mysql2/promise";
import { rememberServer } from "../../resources/servers.ts";

/** What {@link createMysqlPool} takes besides the URL. */
export interface MysqlPoolOptions {
  /** Connections the pool opens at most (default 10); a reader holds one while it streams. */
  connectionLimit?: number;
}

/**
 * A mysql2 pool for a MySQL or MariaDB database, without connecting: the first query does. Values come
 * back as a source reader wants them: `DATETIME` and `DATE` (which have no time zone) as the text the
 * server holds (`"2025-03-01 13:00:00.000"`, and a zero date as `"0000-00-00"` rather than an invalid
 * `Date`), `TIMESTAMP` as a `Date` (each session runs in UTC), `DECIMAL` as a string, `BIGINT` as a
 * number while it is exact and as a string beyond 2^53. The caller ends it (`pool.end()`).
 *
 * @example
 * ```ts
 * const pool = createMysqlPool(settings().mariadb.url);
 * try {
 *   const [rows] = await pool.query("select count(*) as n from deals");
 * } finally {
 *   await pool.end();
 * }
 * ```
 */
export function createMysqlPool(url: string, { connectionLimit = 10 }: MysqlPoolOptions = {}): mysql.Pool {
  const pool = mysql.createPool({
    uri: url,
    connectionLimit,
    dateStrings: ["DATE", "DATETIME"],
    timezone: "Z",
    supportBigNumbers: true,
  });
  // TIMESTAMP values are read as UTC (timezone "Z"): the session must write them so. The statement is queued
  // on the new connection ahead of whatever it was opened for.
  pool.pool.on("connection", (connection) => connection.query("set time_zone = '+00:00'", () => {}));
  return rememberServer(pool, url);
}

/** Where a pool connects, for messages: never its password. */
export interface MysqlServer {
  host: string;
  port: number;
  database: string | undefined;
  user: string | undefined;
}

/** The server, database and user a mysql2 pool (ours or one made with `mysql.createPool`) connects to. */
export function serverOf(pool: mysql.Pool): MysqlServer {
  const config = pool.pool.config as mysql.PoolOptions & { connectionConfig?: mysql.ConnectionOptions };
  const { host, port, database, user } = config.connectionConfig ?? config;
  return { host: host || "localhost", port: port || 3306, database: database || undefined, user: user || undefined };
}

/** `the MySQL/MariaDB server at 127.0.0.1:53306 (database crm)`: how messages name a server. */
export function describeServer(server: MysqlServer): string {
  return `the MySQL/MariaDB server at ${server.host}:${server.port}${
    server.database ? ` (database ${server.database})` : ""
  }`;
}

export type { mysql };
