import { type Db, MongoClient, MongoError } from "mongodb";
import { defineResource, type ResourceDefinition } from "../../engine/resource.ts";
import { ConnectionError, withoutPassword } from "../../resources/connection-errors.ts";
import { registerSecret } from "../../resources/redact.ts";
import { settings } from "../../resources/settings.ts";

/** Where the URL came from, for the error to name: the variable, or the local stack. */
interface UrlSource {
  setting: string;
  fromEnvironment: boolean;
}

/** Why MongoDB could not be reached or refused us, naming the address (password hidden) and what to do. */
export function mongoConnectionError(url: string, source: UrlSource, error: unknown): ConnectionError {
  const message = error instanceof Error ? error.message : String(error);
  const at = `MongoDB at ${withoutPassword(url)} (${
    source.fromEnvironment ? `from ${source.setting}` : "the local stack's"
  })`;
  const fix = source.fromEnvironment
    ? `check ${source.setting}`
    : `run \`ingest stack up\` to start the local FerretDB, or set ${source.setting} to use your own`;
  const parsed = URL.canParse(url) ? new URL(url) : undefined;
  const refused = (error instanceof MongoError && error.code === 18) || /auth/i.test(message);
  const reason = !source.fromEnvironment && parsed && !parsed.password
    ? "there is no password for it yet: the local stack has not been started in this project"
    : refused
    ? `it refused user '${decodeURIComponent(parsed?.username ?? "")}' with the password given (${message})`
    : /ECONNREFUSED|ServerSelection|timed out/i.test(`${(error as Error)?.name} ${message}`)
    ? `nothing answers there (${message})`
    : message;
  return new ConnectionError(`cannot connect to ${at}: ${reason}; ${fix}`, { cause: error });
}

/** How {@link connectMongo} connects. */
export interface ConnectMongoOptions {
  /** Where the URL comes from, for a connection error to name (default `MONGODB_URL`). */
  setting?: string;
  /** How long to look for the server before failing (default 10 000 ms). */
  serverSelectionTimeoutMS?: number;
}

/**
 * A connected client's `Db` (the database the URL names), after a `ping`: an unreachable server or refused
 * credentials fail here, with an error naming the address (password hidden), where the URL came from and
 * the fix. The URL defaults to `settings().mongo.url`. Close it with `db.client.close()`.
 *
 * @example
 * ```ts
 * const catalog = await connectMongo();
 * try {
 *   console.log(await catalog.collection("products").countDocuments());
 * } finally {
 *   await catalog.client.close();
 * }
 * ```
 */
export async function connectMongo(url?: string, options: ConnectMongoOptions = {}): Promise<Db> {
  const resolved = url ?? settings().mongo.url;
  const source = {
    setting: options.setting ?? (url === undefined ? "MONGODB_URL" : "the URL given"),
    fromEnvironment: url !== undefined || settings().mongo.external,
  };
  let client: MongoClient;
  try {
    if (URL.canParse(resolved)) registerSecret(decodeURIComponent(new URL(resolved).password) || undefined);
    client = new MongoClient(resolved, { serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? 10_000 });
    await client.connect();
  } catch (error) {
    throw mongoConnectionError(resolved, source, error);
  }
  const db = client.db();
  await db.command({ ping: 1 }).catch(async (error: unknown) => {
    await client.close();
    throw mongoConnectionError(resolved, source, error);
  });
  return db;
}

/**
 * A MongoDB database as a resource: {@link connectMongo}'s `Db`, set up when an asset first needs it and
 * closed when the process is done with it. Read it with `readCollection`, which streams a collection in
 * bounded memory. The URL defaults to `settings().mongo.url` (`MONGODB_URL`, else the local stack's
 * FerretDB); give it as a function to read it only when the resource is first used. Assets receive a `Db`.
 *
 * @example
 * ```ts
 * resources: {
 *   catalog: mongoResource(),
 * }
 * // in a staged asset with resources: ["catalog"]:
 * extract: ({ resources: { catalog } }) => readCollection(catalog, "products", { sort: { _id: 1 } }),
 * ```
 */
export function mongoResource(
  url?: string | (() => string),
  options: ConnectMongoOptions = {},
): ResourceDefinition<Db> {
  return defineResource({
    kind: "mongodb",
    setup: () => connectMongo(typeof url === "function" ? url() : url, options),
    teardown: (db) => db.client.close(),
  });
}
