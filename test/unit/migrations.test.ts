import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type CompiledQuery,
  type DatabaseConnection,
  type Driver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryResult,
} from "kysely";
import type { Migration } from "kysely/migration";
import { describe, expect, it } from "vitest";
import { stagingMigrations } from "../../connectors/staging/migrations/index.ts";
import { migrations } from "../../db/migrations/index.ts";
import { packageRoot } from "../../resources/settings.ts";

/** A kysely that runs nothing and keeps every statement it is given, with its parameters. */
function recordingDb(statements: string[]): Kysely<unknown> {
  const connection: DatabaseConnection = {
    executeQuery: <R>(query: CompiledQuery): Promise<QueryResult<R>> => {
      statements.push(`${query.sql}\n-- ${JSON.stringify(query.parameters)}`);
      return Promise.resolve({ rows: [] });
    },
    // deno-lint-ignore require-yield
    async *streamQuery() {
      throw new Error("a migration streams nothing");
    },
  };
  const driver: Driver = {
    init: async () => {},
    acquireConnection: async () => connection,
    beginTransaction: async () => {},
    commitTransaction: async () => {},
    rollbackTransaction: async () => {},
    releaseConnection: async () => {},
    destroy: async () => {},
  };
  return new Kysely({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => driver,
      createIntrospector: (db) => new PostgresIntrospector(db),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  });
}

/** What a migration runs, as a hash of every statement it sends. */
async function sqlHash(migration: Migration): Promise<string> {
  const statements: string[] = [];
  await migration.up(recordingDb(statements));
  return createHash("sha256").update(statements.join("\n;\n")).digest("hex");
}

const shipped = JSON.parse(readFileSync(join(packageRoot, "db", "shipped-migrations.json"), "utf8")) as Record<
  string,
  Record<string, string>
>;

describe.each(
  [
    ["ingest", migrations],
    ["staging", stagingMigrations],
  ] as const,
)("the %s schema's migrations", (schema, all) => {
  it("are each exactly the SQL they shipped with (a change is a new migration)", async () => {
    const changed: string[] = [];
    for (const [name, hash] of Object.entries(shipped[schema] ?? {})) {
      const migration = all[name];
      if (!migration) {
        changed.push(`${name} shipped and is gone: a shipped migration stays, even when a later one undoes it`);
      } else if ((await sqlHash(migration)) !== hash) {
        changed.push(
          `${name} shipped, and what it runs changed since: undo the change (freeze what it imports, such as db/functions/) and put it in a new migration`,
        );
      }
    }
    expect(changed).toEqual([]);
  });

  it("are all recorded as shipped", async () => {
    const unrecorded: string[] = [];
    for (const [name, migration] of Object.entries(all)) {
      if (!(name in (shipped[schema] ?? {}))) {
        unrecorded.push(`"${name}": "${await sqlHash(migration)}" belongs in db/shipped-migrations.json (${schema})`);
      }
    }
    expect(unrecorded).toEqual([]);
  });
});
