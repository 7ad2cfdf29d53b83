import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import type { MetadataDatabase } from "../db/schema.ts";
import { postgresConnectionError, type SettingSource } from "./connection-errors.ts";
import { rememberServer } from "./servers.ts";

// int8 (counts, bigserial ids) as JS numbers: every value we store fits in 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

/**
 * A node-postgres pool of at most `max` connections (default 10), without connecting: the first query
 * does, and fails there if the database cannot be reached. A connection that loses its server fails
 * its query instead of crashing the process. The caller ends it (`pool.end()`). `int8` values (counts,
 * bigserial ids) come back as JavaScript numbers, for every pool in the process.
 *
 * @example
 * ```ts
 * const pool = createPool(settings().databaseUrl);
 * try {
 *   await prepareDatabase(pool);
 * } finally {
 *   await pool.end();
 * }
 * ```
 */
export function createPool(connectionString: string, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString, max });
  // A client losing its server (a restart, a network blip) must fail its query, not crash the process.
  pool.on("error", () => {});
  pool.on("connect", (client) => client.on("error", () => {}));
  return rememberServer(pool, connectionString);
}

/**
 * A pool that has answered once: a database that cannot be reached fails here, with a
 * {@link postgresConnectionError} naming `what`, its address and `source`, not in the first query of a
 * run. A local-stack URL without a password (the stack never started here) is refused without
 * connecting: the server would hold the half-open login until its authentication timeout.
 */
export async function openPool(
  url: string,
  { what, source, max }: { what: string; source: SettingSource; max?: number },
): Promise<pg.Pool> {
  if (!source.fromEnvironment && /^postgres(ql)?:\/\//.test(url) && !new URL(url).password) {
    throw postgresConnectionError(what, url, source, new Error("password authentication: no password"));
  }
  let pool: pg.Pool;
  try {
    pool = createPool(url, max);
  } catch (error) {
    throw postgresConnectionError(what, url, source, error);
  }
  await pool.query("select 1").catch(async (error: unknown) => {
    await pool.end();
    throw postgresConnectionError(what, url, source, error);
  });
  return pool;
}

/**
 * The metadata store (schema `ingest`) through kysely, on a pool the caller owns: what `requestRun`,
 * `waitForRun`, `assetStatuses`, `lineageOf` and `listTicks` take. Destroying it ends the pool.
 *
 * @example
 * ```ts
 * const pool = createPool(settings().databaseUrl);
 * const db = metadataDb(pool);
 * const runs = await db.selectFrom("ingest.runs").select(["id", "status"]).orderBy("created_at", "desc").limit(5).execute();
 * ```
 */
export function metadataDb(pool: pg.Pool): Kysely<MetadataDatabase> {
  return new Kysely<MetadataDatabase>({ dialect: new PostgresDialect({ pool }) });
}

export type { pg };
