/**
 * A store that cannot be reached, said so a user can act on it: which store, at which address, where
 * that address came from (an environment variable or the local stack), the driver's own words, and
 * what to do. The driver's error stays as `cause`.
 */
export class ConnectionError extends Error {
  override name = "ConnectionError";
}

/** Where a setting came from, for the message: the variable that set it, or the local stack. */
export interface SettingSource {
  /** The environment variable(s) that configure it: `DATABASE_URL`, or `NEO4J_URI`. */
  variable: string;
  /** true when the variable was set; false when the local stack's default was used. */
  fromEnvironment: boolean;
}

const codeOf = (error: unknown): string | undefined => {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
  }
  return undefined;
};

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** A URL without its password, to name in a message. */
export function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(not a URL)";
  }
}

function fixFor(source: SettingSource, also: string): string {
  return source.fromEnvironment
    ? `check ${source.variable}${also}`
    : `run \`ingest stack up\` to start the local one, or set ${source.variable}${also} to use your own`;
}

/** Why the metadata database (or another Postgres) could not be reached, and what to do. */
export function postgresConnectionError(
  what: string,
  url: string,
  source: SettingSource,
  error: unknown,
): ConnectionError {
  const where = withoutPassword(url);
  const code = codeOf(error);
  const message = messageOf(error);
  const at = `${what} at ${where} (${source.fromEnvironment ? `from ${source.variable}` : "the local stack's"})`;
  let reason: string;
  if (!/^postgres(ql)?:\/\//.test(url)) {
    reason = `${source.variable} is not a Postgres URL: give postgres://user:password@host:port/database`;
    return new ConnectionError(`cannot connect to ${what}: ${reason}`, { cause: error });
  } else if (code === "ECONNREFUSED") {
    reason = "nothing answers there";
  } else if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
    reason = `its host name does not resolve (${message})`;
  } else if (
    code === "28P01" || code === "28000" || /password must be a string|password authentication/.test(message)
  ) {
    reason = source.fromEnvironment
      ? `the server refused the user name or password (${message})`
      : "there is no password for it yet: the local stack has not been started in this project";
  } else if (code === "3D000") {
    reason = `the database does not exist (${message})`;
  } else {
    reason = message;
  }
  return new ConnectionError(
    `cannot connect to ${at}: ${reason}; ${fixFor(source, " (or DATABASE_URL_FILE)")}`,
    { cause: error },
  );
}

/** Why Neo4j could not be reached or refused us, and what to do. */
export function neo4jConnectionError(
  uri: string,
  user: string,
  source: SettingSource,
  error: unknown,
): ConnectionError {
  const code = codeOf(error);
  const message = messageOf(error);
  const at = `Neo4j at ${uri} (${source.fromEnvironment ? `from ${source.variable}` : "the local stack's"})`;
  if (code === "Neo.ClientError.Security.Unauthorized" || /unauthorized|authentication/i.test(message)) {
    return new ConnectionError(
      `cannot connect to ${at}: it refused user '${user}' with the password given; ${
        source.fromEnvironment
          ? "check NEO4J_USER and NEO4J_PASSWORD (or NEO4J_PASSWORD_FILE)"
          : "the local stack's password is in .ingest/secrets/neo4j: run `ingest stack up` in this project"
      }`,
      { cause: error },
    );
  }
  const reason = code === "ServiceUnavailable" || /ECONNREFUSED|Could not perform discovery/i.test(message)
    ? `nothing answers there (${message.split("Caused by: ").at(-1)})`
    : message;
  return new ConnectionError(`cannot connect to ${at}: ${reason}; ${fixFor(source, "")}`, { cause: error });
}

/** Why Chroma could not be reached, and what to do. */
export function chromaConnectionError(url: string, source: SettingSource, error: unknown): ConnectionError {
  const at = `Chroma at ${url} (${source.fromEnvironment ? `from ${source.variable}` : "the local stack's"})`;
  const message = messageOf(error);
  const reason = /^Failed to connect to chromadb/.test(message) ? "nothing answers there" : message;
  return new ConnectionError(`cannot connect to ${at}: ${reason}; ${fixFor(source, "")}`, { cause: error });
}

/** Error codes that say a server cannot be reached now (down, restarting, starting up, the network), not that a request was wrong. */
const unreachableCodes = new Set([
  // The network and the operating system.
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  // Postgres: admin_shutdown, crash_shutdown, cannot_connect_now, connection_exception and its kinds.
  "57P01",
  "57P02",
  "57P03",
  "08000",
  "08001",
  "08003",
  "08006",
  // MariaDB/MySQL (mysql2): the server went away.
  "PROTOCOL_CONNECTION_LOST",
  // Neo4j's driver.
  "ServiceUnavailable",
  "SessionExpired",
]);

/** Messages of drivers that lose their server without a code. */
const unreachableMessage =
  /Connection terminated unexpectedly|Connection terminated due to connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Failed to connect to (chroma|Chroma)|socket hang up/;

/** Errors of the MongoDB driver whose server cannot be reached (selection timed out, network lost). */
const unreachableNames =
  /^(MongoNetworkError|MongoNetworkTimeoutError|MongoServerSelectionError|ChromaConnectionError)$/;

/**
 * Whether `error` (or an error it wraps, through `cause` and `AggregateError`) says a store or source
 * cannot be reached right now — a server down or restarting, a connection lost — as opposed to a
 * request it refused. Said in words that name the store when the driver does: `Neo4j: …`, `Chroma: …`,
 * `Postgres: …`, `MongoDB: …`, else the address and code (`127.0.0.1:58080 refused the connection`).
 * undefined when the error is of another kind.
 */
export function unreachableStore(error: unknown, seen = new Set<unknown>()): string | undefined {
  if (!(error instanceof Error) || seen.has(error)) return undefined;
  seen.add(error);
  const { code, address, port, name } = error as Error & { code?: unknown; address?: unknown; port?: unknown };
  const message = error.message.split("\n")[0]!;
  // An API client's error after its own retries (connectors/http ApiError): no response at all, or a gateway's or
  // the service's "unavailable" — the API is down, not refusing the request.
  const api = error as Error & { source?: unknown; status?: unknown };
  if (typeof api.source === "string" && "status" in api && [undefined, 502, 503, 504].includes(api.status as number)) {
    return message;
  }
  const unreachable = (typeof code === "string" && unreachableCodes.has(code)) || unreachableNames.test(name) ||
    unreachableMessage.test(message);
  if (unreachable) {
    if (code === "ServiceUnavailable" || code === "SessionExpired" || name.startsWith("Neo4j")) {
      return `Neo4j: ${message}`;
    }
    if (name === "ChromaConnectionError" || /chroma/i.test(message)) return `Chroma: ${message}`;
    if (name.startsWith("Mongo")) return `MongoDB: ${message}`;
    if (typeof code === "string" && /^(57P0|08)/.test(code)) return `Postgres: ${message}`;
    if (code === "PROTOCOL_CONNECTION_LOST") return `MariaDB: ${message}`;
    if (typeof address === "string") return `${address}${typeof port === "number" ? `:${port}` : ""}: ${message}`;
  }
  const inner = [
    ...(error instanceof AggregateError ? error.errors : []),
    error.cause,
  ];
  for (const e of inner) {
    const found = unreachableStore(e, seen);
    // A wrapper that names the operation ("writing graph/Customer: …") keeps its words in front.
    if (found) return unreachable ? `${found} (${message})` : found;
  }
  return unreachable ? message : undefined;
}
