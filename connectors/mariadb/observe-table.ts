import type mysql from "mysql2/promise";
import { mysqlError } from "./errors.ts";
import { serverOf } from "./pool.ts";

/** A MySQL or MariaDB table's version as {@link observeMysqlTable} reads it. */
export type MysqlTableObservation = {
  /** Rows in the table. */
  rows: number;
  /** The greatest `updatedAt` value as the server prints it (null for an empty table); only with `updatedAt`. */
  latest?: string | null;
};

/**
 * A cheap version of a MySQL or MariaDB table for an observable source asset (its `observe`): the row count
 * and, given `updatedAt` (a column the application sets on every insert and update), its greatest value, in
 * one query. The source is stale as soon as either moves, without extracting it; without `updatedAt`, an
 * update that keeps the row count goes unseen until the next materialisation. Errors name the server, as
 * `readMysql`'s do.
 *
 * @example
 * ```ts
 * observe: ({ resources: { crmDatabase } }) => observeMysqlTable(crmDatabase, "deals", { updatedAt: "updated_at" }),
 * ```
 */
export async function observeMysqlTable(
  pool: mysql.Pool,
  table: string,
  options: {
    /** The column whose greatest value is part of the version (`updated_at`). */
    updatedAt?: string;
  } = {},
): Promise<MysqlTableObservation> {
  const latest = options.updatedAt ? `, max(${pool.escapeId(options.updatedAt)}) as latest` : "";
  const query = `select count(*) as \`rows\`${latest} from ${pool.escapeId(table)}`;
  const [rows] = await pool.query<mysql.RowDataPacket[]>(query).catch((error: unknown) => {
    throw mysqlError(serverOf(pool), error, query);
  });
  const row = rows[0]!;
  return {
    rows: Number(row.rows),
    ...(options.updatedAt && { latest: row.latest === null ? null : String(row.latest) }),
  };
}
