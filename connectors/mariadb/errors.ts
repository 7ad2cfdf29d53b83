import { ConnectionError, type SettingSource, withoutPassword } from "../../resources/connection-errors.ts";
import { SourceError } from "../bad-rows.ts";
import { describeServer, type MysqlServer } from "./pool.ts";

const unreachable = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH"]);
const refused = new Set(["ER_ACCESS_DENIED_ERROR", "ER_DBACCESS_DENIED_ERROR", "ER_ACCESS_DENIED_NO_PASSWORD_ERROR"]);
// How mysql2 reports a server that went away under a query: the socket closed or reset, or the server
// said it is shutting down or that an administrator killed the connection.
const lost = new Set([
  "PROTOCOL_CONNECTION_LOST",
  "ECONNRESET",
  "EPIPE",
  "ER_SERVER_SHUTDOWN",
  "ER_CONNECTION_KILLED",
  "ER_NET_READ_INTERRUPTED",
]);

const codeOf = (error: unknown) => (error as { code?: unknown } | null)?.code;
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
const shortened = (query: string) => {
  const line = query.replace(/\s+/g, " ").trim();
  return JSON.stringify(line.length > 200 ? `${line.slice(0, 200)}…` : line);
};

/**
 * A mysql2 error as a message a user can act on, naming the server and database (never the password):
 * a server that cannot be reached, refuses the login or went away while rows were read is a
 * `ConnectionError`; a query the server rejects (an unknown table, a syntax error) a `SourceError` quoting
 * the query. The driver's error stays as `cause`.
 */
export function mysqlError(server: MysqlServer, error: unknown, query?: string): ConnectionError | SourceError {
  const at = describeServer(server);
  const code = String(codeOf(error) ?? "");
  const message = messageOf(error);
  if (unreachable.has(code)) {
    return new ConnectionError(`cannot connect to ${at}: nothing answers there (${code})`, { cause: error });
  }
  if (refused.has(code)) {
    return new ConnectionError(
      `${at} refused user '${server.user ?? ""}' with the password given (${message})`,
      { cause: error },
    );
  }
  if (code === "ER_BAD_DB_ERROR") {
    return new ConnectionError(`cannot connect to ${at}: the database does not exist (${message})`, {
      cause: error,
    });
  }
  if (lost.has(code)) {
    return new ConnectionError(
      `lost the connection to ${at}${query ? ` while reading ${shortened(query)}` : ""}: ${message} (${code})`,
      { cause: error },
    );
  }
  return new SourceError(`${at}: ${message}${code ? ` (${code})` : ""}${query ? `, in ${shortened(query)}` : ""}`, {
    cause: error,
  });
}

/**
 * Why a pool set up from a URL could not answer, with where the URL came from and what to do: for a
 * resource's setup, where `source` names the setting (`MARIADB_URL`) or the local stack.
 */
export function mysqlConnectionError(
  url: string,
  server: MysqlServer,
  source: SettingSource,
  error: unknown,
): ConnectionError | SourceError {
  const translated = mysqlError(server, error);
  const from = source.fromEnvironment ? `from ${source.variable}` : "the local stack's";
  const variable = /^[A-Z][A-Z0-9_]*$/.test(source.variable);
  const fix = source.fromEnvironment
    ? `check ${source.variable}${variable ? ` (or ${source.variable}_FILE)` : ""}`
    : `run \`ingest stack up\` to start the local one, or set ${source.variable} to use your own`;
  return new ConnectionError(`${translated.message} [${withoutPassword(url)}, ${from}]; ${fix}`, { cause: error });
}
