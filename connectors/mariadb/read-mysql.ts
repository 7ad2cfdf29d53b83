import type { Connection as CoreConnection } from "mysql2";
import type mysql from "mysql2/promise";
import { mysqlError } from "./errors.ts";
import { serverOf } from "./pool.ts";

/** How {@link readMysql} reads. */
export interface ReadMysqlOptions {
  /**
   * Rows the reader buffers ahead of the loop at most (default 1 000): when the loop falls behind, the
   * connection stops reading from the server until it catches up. Not a positive integer: a `RangeError`
   * when iteration starts.
   */
  batchSize?: number;
}

/**
 * Streams a query's rows from a MySQL or MariaDB database (mysql2's row stream), in the query's order and
 * in bounded memory: at most `batchSize` rows wait in the client, and the server waits while they do, so
 * a table of any size is read at the pace of the loop. `params` fill the query's `?` placeholders. One
 * connection of the pool is held until the rows run out; a `break` stops the query on the server (the
 * connection is closed and its thread killed, rather than draining the rest of the result) and frees the
 * pool's slot. Nothing runs until the first iteration. Errors name the server and database, never the
 * password: one that cannot be reached or refuses the login, or that goes away while rows are read, is a
 * `ConnectionError`; a query it rejects (an unknown table) a `SourceError` quoting the query.
 *
 * Values are what the pool gives: with `createMysqlPool` or `mariadbResource`, `DATETIME` as text and
 * `DECIMAL` as strings (see {@link createMysqlPool}).
 *
 * @example A staged asset's extract, with the pool received as the resource `crmDatabase`
 * ```ts
 * extract: ({ resources: { crmDatabase } }) =>
 *   readMysql(crmDatabase, "select * from deals order by deal_id", [], { batchSize: 5_000 }),
 * ```
 *
 * @example
 * ```ts
 * for await (const deal of readMysql<{ deal_id: number }>(pool, "select * from deals where stage = ?", ["closedwon"])) {
 *   console.log(deal.deal_id);
 * }
 * ```
 */
export async function* readMysql<T = Record<string, unknown>>(
  pool: mysql.Pool,
  query: string,
  params: readonly unknown[] = [],
  { batchSize = 1_000 }: ReadMysqlOptions = {},
): AsyncGenerator<T> {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  }
  const server = serverOf(pool);
  const connection = await pool.getConnection().catch((error: unknown) => {
    throw mysqlError(server, error);
  });
  let outcome: "done" | "failed" | "stopped" = "stopped";
  try {
    // The promise API has no row stream: the connection underneath it (typed as a promise one) has.
    const core = connection.connection as unknown as CoreConnection;
    const rows = core.query({ sql: query, values: [...params] }).stream({ highWaterMark: batchSize });
    // A connection that dies under a query without a callback tells the connection, not the query: without
    // this, the stream would wait for rows that never come.
    const lost = (error: Error) => rows.destroy(error);
    core.on("error", lost);
    try {
      for await (const row of rows) yield row as T;
    } catch (error) {
      outcome = "failed";
      throw mysqlError(server, error, query);
    } finally {
      core.off("error", lost);
    }
    outcome = "done";
  } finally {
    if (outcome === "done") {
      connection.release();
    } else {
      // The rest of the result is still on its way: released, the connection would first read all of it.
      // Closed, it leaves the pool; killed, its thread stops working on the query now, not at its next write.
      const threadId = connection.threadId;
      connection.destroy();
      if (outcome === "stopped") await pool.query(`kill ${Number(threadId)}`).catch(() => {});
    }
  }
}
