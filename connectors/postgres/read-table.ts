import pg from "pg";

/** How {@link readTable} reads. */
export interface ReadTableOptions {
  /**
   * Rows fetched per round trip (default 1 000): what is held in memory at a time. Not a positive integer:
   * a `RangeError` when iteration starts.
   */
  batchSize?: number;
}

let cursors = 0;

/**
 * How a source's values are read: as pg reads them, but `bigint` (int8) a number only while it is exact and its
 * text beyond 2^53, as readMysql reads BIGINT. The framework's own pools read int8 as numbers (its counts and ids
 * fit), and a source's snowflake ids would have come back rounded, two rows with one key.
 */
const sourceTypes = {
  getTypeParser: ((oid: number, format?: "text" | "binary") => {
    if (oid !== pg.types.builtins.INT8) return pg.types.getTypeParser(oid, format);
    return (value: string) => (Number.isSafeInteger(Number(value)) ? Number(value) : value);
  }) as typeof pg.types.getTypeParser,
};

/**
 * Streams a query's rows through a server-side cursor (`DECLARE … CURSOR` in a read-only transaction,
 * then `FETCH` batches), so a table of any size is read in bounded memory, in the query's order.
 * The connection is held until the rows run out or the caller stops iterating (`break` releases it):
 * keep the loop body quick, or the transaction stays open. `params` fill the query's `$1`, `$2`, …
 * Nothing runs until the first iteration; a query error then rejects it, and the connection is released.
 * Values are as pg reads them, but `bigint` a number only while it is exact (text beyond 2^53).
 *
 * @example A staged asset's extract, with the pool received as the resource `shop`
 * ```ts
 * extract: ({ resources: { shop } }) =>
 *   readTable(shop, "select * from shop.reviews order by review_id", [], { batchSize: 5_000 }),
 * ```
 *
 * @example
 * ```ts
 * for await (const order of readTable<{ order_id: string }>(pool, "select * from shop.orders where status = $1", ["paid"])) {
 *   console.log(order.order_id);
 * }
 * ```
 */
export async function* readTable<T = Record<string, unknown>>(
  pool: pg.Pool,
  query: string,
  params: readonly unknown[] = [],
  { batchSize = 1_000 }: ReadTableOptions = {},
): AsyncGenerator<T> {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  }
  const cursor = `ingest_read_table_${++cursors}`;
  const client = await pool.connect();
  let committed = false;
  let broken: Error | undefined;
  try {
    await client.query("begin read only");
    await client.query(`declare ${cursor} no scroll cursor for ${query}`, [...params]);
    for (;;) {
      const { rows } = await client.query({ text: `fetch forward ${batchSize} from ${cursor}`, types: sourceTypes });
      yield* rows as T[];
      if (rows.length < batchSize) break;
    }
    await client.query("commit");
    committed = true;
  } finally {
    // An error or the caller's `break` leaves the transaction open: roll it back before the connection goes back
    // to the pool, and discard the connection if even that fails.
    if (!committed) await client.query("rollback").catch((error: Error) => (broken = error));
    client.release(broken);
  }
}
