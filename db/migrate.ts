import type { Kysely } from "kysely";
import { type Migration, Migrator } from "kysely/migration";
import { migrations } from "./migrations/index.ts";

/**
 * Brings a schema to its latest migration, recorded in that schema's own `kysely_migration` table;
 * safe to call from every process at start-up (kysely's migrator takes a lock).
 */
// deno-lint-ignore no-explicit-any -- kysely's Migrator takes a database of any schema
export async function migrateSchema(db: Kysely<any>, schema: string, all: Record<string, Migration>): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => all },
    migrationTableSchema: schema,
    // Migrations are written side by side (0002, 0003, 0004 touch separate tables): a database that ran a later one first still takes an earlier one.
    allowUnorderedMigrations: true,
  });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === "Error");
  if (error || failed) {
    throw new Error(`${schema} migration ${failed?.migrationName ?? ""} failed: ${(error as Error)?.message ?? error}`);
  }
}

/** Brings the metadata schema (`ingest`) to the latest version. */
// deno-lint-ignore no-explicit-any -- as above
export function migrateToLatest(db: Kysely<any>): Promise<void> {
  return migrateSchema(db, "ingest", migrations);
}
