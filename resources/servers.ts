/**
 * Which server each store client talks to, for the spans of its operations (`server.address`,
 * `server.port`): kept beside the client, not in it, and without credentials. A module of its own so
 * connecting to a store does not load OpenTelemetry.
 */

/** Where a client of a store connects, as OpenTelemetry's `server.address` and `server.port` name it. */
export interface ServerAddress {
  address: string;
  port?: number;
}

const servers = new WeakMap<object, ServerAddress>();

/**
 * Remembers the server a client (a driver, a pool, a store resource) talks to, from its URL, for the
 * spans of its operations. Credentials in the URL are never kept.
 */
export function rememberServer<T extends object>(client: T, url: string): T {
  if (URL.canParse(url)) {
    const { hostname, port } = new URL(url);
    servers.set(client, { address: hostname, ...(port && { port: Number(port) }) });
  }
  return client;
}

/** The server `client` talks to, when it was remembered. */
export function serverOf(client: object): ServerAddress | undefined {
  return servers.get(client);
}

/** `to` talks to the server `from` does (a wrapper around a pool, say). */
export function sameServer<T extends object>(to: T, from: object): T {
  const server = servers.get(from);
  if (server) servers.set(to, server);
  return to;
}
