import { type Kysely, sql } from "kysely";
import {
  formerSignatures0005 as formerSignatures,
  functionBodies0005 as functionBodies,
} from "./0005_function_bodies.ts";

/**
 * Re-creates every `ingest.*` function from `db/functions/` (their bodies as they are now) and drops
 * the signatures they no longer have: a database migrated while `claim_steps` had five arguments
 * (between two commits of 0003) gets the six-argument one the code calls. This is the newest
 * migration that reads `db/functions/`: once it has shipped, a change there needs a new migration
 * (and this one a frozen copy of what it ran), as test/unit/migrations.test.ts says.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const signature of formerSignatures) await sql.raw(`drop function if exists ${signature}`).execute(db);
  for (const body of functionBodies) await sql.raw(body).execute(db);
}

export async function down(): Promise<void> {
  // 0003's functions are the same bodies under the same signatures: nothing to undo.
}
