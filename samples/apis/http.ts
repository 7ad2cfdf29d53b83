import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One API of the sample APIs server: it answers the requests under its prefix. */
export interface MountedApi<S> {
  /** `path` is the request's path without the API's prefix. */
  handle(request: IncomingMessage, response: ServerResponse, path: string, url: URL): Promise<void>;
  stats: S;
}

/** Answers with `body` as JSON. */
export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const json = JSON.stringify(body);
  response.writeHead(status, {
    ...headers,
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(json),
  });
  response.end(json);
}

/** The request's body as text, refused past `limit` characters. */
export async function readBody(request: IncomingMessage, limit = 64 * 1024): Promise<string> {
  let body = "";
  for await (const chunk of request) {
    body += String(chunk);
    if (body.length > limit) throw new Error("request body too large");
  }
  return body;
}

/** Compares credentials in constant time (hashes first, so lengths may differ). */
export function sameSecret(given: string | null | undefined, expected: string): boolean {
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return typeof given === "string" && timingSafeEqual(digest(given), digest(expected));
}

/** The token of an `Authorization: Bearer <token>` header. */
export const bearerToken = (request: IncomingMessage): string | undefined =>
  /^Bearer (.+)$/i.exec(request.headers.authorization ?? "")?.[1];

/** Listens on `host:port` (0: any free port) and returns the server's base URL. */
export async function listen(server: Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const { address, port: bound } = server.address() as AddressInfo;
  return `http://${address.includes(":") ? `[${address}]` : address}:${bound}`;
}

/** Stops listening and drops open connections. */
export const closeServer = (server: Server): Promise<void> =>
  new Promise<void>((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });

/** `base64url(JSON)`: an opaque cursor, as APIs hand them out. */
export const encodeCursor = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");

/** The value of a cursor made by {@link encodeCursor}, or undefined when it is not one. */
export function decodeCursor(cursor: string): unknown {
  try {
    return JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
}
