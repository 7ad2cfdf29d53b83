import type pg from "pg";
import { assertIdentifier } from "../identifiers.ts";

/** What {@link observeTable} reads beside the row count. */
export interface ObserveTableOptions {
  /** A column the source sets on every insert and update (`updated_at`): its maximum is part of the version. */
  updatedAt?: string;
  /**
   * Add the server statistics' count of rows inserted, updated and deleted (`pg_stat_user_tables`), for a
   * table without an `updated_at`: it sees an update that keeps the row count. Postgres may publish the
   * count up to ~10 s after a commit, so a materialisation can record one that moves afterwards: the source
   * then looks changed once and a materialisation of it writes nothing. A statistics reset does the same.
   */
  modifications?: boolean;
  /**
   * Add the table's identity, its OID: another one after the table was dropped and created again, which
   * the row count and latest `updated_at` can miss (an incremental source's `identity`).
   */
  identity?: boolean;
}

/** A table's version as {@link observeTable} reads it (a type, not an interface: `observe` returns it as a record). */
export type TableObservation = {
  /** Rows in the table. */
  rows: number;
  /** The greatest `updatedAt` value, as ISO text (null for an empty table); only with `updatedAt`. */
  latest?: string | null;
  /** Rows inserted, updated and deleted as the server's statistics count them; only with `modifications`. */
  modifications?: number;
  /** The table's OID, as `oid 16385`; only with `identity`. */
  identity?: string;
};

/**
 * A cheap version of a Postgres table for an observable source asset (its `observe`): the row count and
 * the latest `updatedAt` (and, if asked, the statistics' count of modifications), in one query. The
 * source is stale as soon as one of them moves, without extracting it. Without `updatedAt` or
 * `modifications`, an update that keeps the row count goes unseen until the next materialisation.
 *
 * @example
 * ```ts
 * export const stagedOrders = defineStagedAsset<Order, Shop>({
 *   // …key, table, model, extract…
 *   observe: ({ resources: { shop } }) => observeTable(shop, "shop.orders", { updatedAt: "updated_at" }),
 * });
 * ```
 */
export async function observeTable(
  pool: pg.Pool,
  table: string,
  options: ObserveTableOptions = {},
): Promise<TableObservation> {
  const [schema, name] = table.includes(".") ? table.split(".", 2) : ["public", table];
  const qualified = `${assertIdentifier("schema", schema!)}.${assertIdentifier("table", name!)}`;
  const latest = options.updatedAt
    ? `, (select max(${assertIdentifier("column", options.updatedAt)}) from ${qualified}) as latest`
    : "";
  const modifications = options.modifications
    ? `, (select n_tup_ins + n_tup_upd + n_tup_del from pg_stat_user_tables where relid = '${qualified}'::regclass)::bigint
         as modifications`
    : "";
  const identity = options.identity ? `, '${qualified}'::regclass::oid::bigint as identity` : "";
  const { rows } = await pool.query(
    `select (select count(*) from ${qualified})::bigint as rows${latest}${modifications}${identity}`,
  );
  const row = rows[0];
  return {
    rows: Number(row.rows),
    ...(options.updatedAt && {
      latest: row.latest === null ? null : row.latest instanceof Date ? row.latest.toISOString() : String(row.latest),
    }),
    ...(options.modifications && { modifications: Number(row.modifications ?? 0) }),
    ...(options.identity && { identity: `oid ${row.identity}` }),
  };
}
