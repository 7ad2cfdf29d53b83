import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { MongoClient } from "mongodb";
import pg from "pg";
import { withoutPassword } from "../resources/connection-errors.ts";
import { localPorts, packageRoot, settings, stateDir } from "../resources/settings.ts";
import { goBinary } from "./go-build.ts";
import { printsFromNow, startDetached, waitUntilReady } from "./process.ts";
import { ensureSecret } from "./secrets.ts";
import type { LocalService } from "./service.ts";

/**
 * The FerretDB binary: our small command around FerretDB's embeddable package (`stack/ferretdb/main.go`),
 * at the version its go.mod pins, without the SQLite backend (modernc.org/sqlite) the stack does not use.
 */
export const ferretdbBinary = () =>
  goBinary({
    name: "ferretdb",
    moduleDir: join(packageRoot, "stack", "ferretdb"),
    module: "github.com/FerretDB/FerretDB",
    package: ".",
    tags: ["ferretdb_no_sqlite"],
    withoutGo: "run a MongoDB-compatible server of your own and set MONGODB_URL to it",
  });

/**
 * FerretDB keeps each MongoDB database as a schema of one Postgres database, `ferretdb`, owned by a role of
 * its own: clients log in as that role (PLAIN), so the stack's admin password never leaves Postgres.
 */
async function ensureDatabase(): Promise<void> {
  const password = ensureSecret("ferretdb");
  const admin = new pg.Client({ connectionString: settings().databaseUrl.replace(/\/[^/]*$/, "/postgres") });
  await admin.connect();
  try {
    const role = await admin.query("select 1 from pg_roles where rolname = 'ferretdb'");
    // The password is a literal: Postgres takes no parameters in utility statements.
    const literal = admin.escapeLiteral(password);
    await admin.query(`${role.rowCount ? "alter" : "create"} role ferretdb login password ${literal}`);
    const database = await admin.query("select 1 from pg_database where datname = 'ferretdb'");
    if (database.rowCount === 0) await admin.query("create database ferretdb owner ferretdb");
  } finally {
    await admin.end();
  }
}

/**
 * FerretDB's command line: the MongoDB wire protocol on 127.0.0.1:`port` only, over the Postgres database
 * `database` (default `ferretdb`) of the server `postgresHost` without credentials (clients bring their
 * own), telemetry off. Two FerretDBs must not share a database: each keeps its own list of the collections.
 */
export function ferretdbArgs(
  { port, postgresHost, database = "ferretdb" }: { port: number; postgresHost: string; database?: string },
): string[] {
  return [
    `--listen-addr=127.0.0.1:${port}`,
    `--postgresql-url=postgres://${postgresHost}/${database}`,
    "--telemetry=disable",
  ];
}

/** Whether a MongoDB server answers `ping` at `url` with its credentials. */
export async function mongoAnswers(url: string): Promise<boolean> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 2000, connectTimeoutMS: 2000 });
  try {
    await client.connect();
    await client.db().command({ ping: 1 });
    return true;
  } catch {
    return false;
  } finally {
    await client.close().catch(() => {});
  }
}

/**
 * FerretDB v1 (the MongoDB wire protocol over the stack's Postgres), built from the Go module proxy into
 * the cache on its first start: `settings().mongo.url`. It holds the bundled project's catalogue, so a
 * project of your own starts it only when named (`stack up ferretdb`). Its Postgres URL carries no
 * password, so a client that does not log in gets nothing; telemetry is off, there is no debug or
 * metrics listener, and it listens on 127.0.0.1 only.
 */
export const ferretdb: LocalService = {
  name: "ferretdb",
  kind: "server",
  sample: true,
  external: settings().mongo.external,
  location: () => withoutPassword(settings().mongo.url),
  isReachable: () => mongoAnswers(settings().mongo.url),
  async start() {
    const binary = await ferretdbBinary();
    await ensureDatabase();
    const home = join(stateDir, "ferretdb");
    mkdirSync(home, { recursive: true });
    const postgresHost = new URL(settings().databaseUrl).host;
    const printed = printsFromNow("ferretdb");
    const pid = startDetached({
      name: "ferretdb",
      command: binary,
      args: ferretdbArgs({ port: localPorts.ferretdb, postgresHost }),
      cwd: home,
    });
    await waitUntilReady(
      "ferretdb",
      pid,
      async () => printed("FerretDB listening on") && (await mongoAnswers(settings().mongo.url)),
      60_000,
    );
  },
};
