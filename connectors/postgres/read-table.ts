import type pg from "pg";

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
 * Streams a query's rows through a server-side cursor (`DECLARE … CURSOR` in a read-only transaction,
 * then `FETCH` batches), so a table of any size is read in bounded memory, in the query's order.
 * The connection is held until the rows run out or the caller stops iterating (`break` releases it):
 * keep the loop body quick, or the transaction stays open. `params` fill the query's `$1`, `$2`, …
 * Nothing runs until the first iteration; a query error then rejects it, and the connection is released.
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
      const { rows } = await client.query(`fetch forward ${batchSize} from ${cursor}`);
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
