import type { Kysely } from "kysely";
import { Migrator } from "kysely/migration";
import { migrations } from "./migrations/index.ts";

/** Brings the metadata schema to the latest version; safe to call from every process at start-up. */
// deno-lint-ignore no-explicit-any -- kysely's Migrator takes a database of any schema
export async function migrateToLatest(db: Kysely<any>): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableSchema: "ingest",
    // Migrations are written side by side (0002, 0003, 0004 touch separate tables): a database that ran a later one first still takes an earlier one.
    allowUnorderedMigrations: true,
  });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === "Error");
  if (error || failed) {
    throw new Error(`metadata migration ${failed?.migrationName ?? ""} failed: ${(error as Error)?.message ?? error}`);
  }
}
