import type { pg } from "../resources/postgres.ts";
import { migrations } from "./migrations/index.ts";

/** How far a database is prepared for this version: graphile-worker's queue there, and our migrations not yet applied. */
export interface SchemaState {
  queue: boolean;
  /** This version's metadata migrations the database has not run, oldest first. */
  missing: string[];
}

/**
 * Reads, in one round trip, whether this database has graphile-worker's schema and every metadata
 * migration of this version, so commands that only read need not load graphile-worker and the migrator.
 */
export async function schemaState(pool: pg.Pool): Promise<SchemaState> {
  let applied: Set<string>;
  let queue: boolean;
  try {
    const { rows } = await pool.query<{ queue: boolean; names: string[] }>(
      `select to_regclass('graphile_worker.migrations') is not null as queue,
        array(select name from ingest.kysely_migration) as names`,
    );
    queue = rows[0]!.queue;
    applied = new Set(rows[0]!.names);
  } catch (error) {
    // undefined_table, invalid_schema_name: a database no process of this framework has prepared yet.
    if (!["42P01", "3F000"].includes((error as { code?: string }).code ?? "")) throw error;
    const { rows } = await pool.query<{ queue: boolean }>(
      "select to_regclass('graphile_worker.migrations') is not null as queue",
    );
    queue = rows[0]!.queue;
    applied = new Set();
  }
  return { queue, missing: Object.keys(migrations).filter((name) => !applied.has(name)) };
}

/** The newest migration of this version. */
export const latestMigration: string = Object.keys(migrations).at(-1)!;
