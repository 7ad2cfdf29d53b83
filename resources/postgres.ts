import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import type { MetadataDatabase } from "../db/schema.ts";

// int8 (counts, bigserial ids) as JS numbers: every value we store fits in 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export function createPool(connectionString: string, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString, max });
  // A client losing its server (a restart, a network blip) must fail its query, not crash the process.
  pool.on("error", () => {});
  pool.on("connect", (client) => client.on("error", () => {}));
  return pool;
}

/** The metadata store (schema `ingest`) through kysely, on a pool the caller owns. */
export function metadataDb(pool: pg.Pool): Kysely<MetadataDatabase> {
  return new Kysely<MetadataDatabase>({ dialect: new PostgresDialect({ pool }) });
}

export type { pg };
