import { createHmac, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";

/** The cookie a login sets: HttpOnly, SameSite=Strict, holding a value derived from the token (never the token). */
export const sessionCookie = "ingest_ui_session";

const loopbackHosts = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

/** Whether the server binds only to this machine: then it may run without a token. */
export const isLoopback = (host: string): boolean => loopbackHosts.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);

/** The token `ingest ui` requires: `INGEST_UI_TOKEN`, refused when too short to resist guessing. */
export function uiToken(host: string, token = process.env.INGEST_UI_TOKEN): string | undefined {
  if (token !== undefined && token !== "" && token.length < 16) {
    throw new Error("INGEST_UI_TOKEN must be at least 16 characters (e.g. `openssl rand -hex 24`)");
  }
  if (!token && !isLoopback(host)) {
    throw new Error(
      `binding the UI to ${host} exposes it beyond this machine: set INGEST_UI_TOKEN (at least 16 characters, e.g. \`openssl rand -hex 24\`) and every request must carry it`,
    );
  }
  return token || undefined;
}

export const sessionValue = (token: string): string =>
  createHmac("sha256", token).update("ingest-ui session").digest("hex");

/** Whether `given` is the token, compared in constant time. */
export const tokenMatches = (given: string, token: string): boolean => same(sessionValue(given), sessionValue(token));

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A request carries the token: as `Authorization: Bearer <token>`, or as the session cookie a login set. */
export function authenticated(c: Context, token: string): "bearer" | "cookie" | undefined {
  const header = c.req.header("authorization");
  if (header?.startsWith("Bearer ") && same(header.slice(7).trim(), token)) return "bearer";
  const cookie = getCookie(c, sessionCookie);
  if (cookie && same(cookie, sessionValue(token))) return "cookie";
  return undefined;
}

const unsafe = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * Whether a state-changing request comes from a page of this server. Browsers send `Origin` with every
 * cross-origin request and with same-origin POSTs; a request without it must say `Sec-Fetch-Site:
 * same-origin`. A bearer token is no cookie a browser attaches on its own, so a request that carries it
 * is no forgery.
 */
export function sameOrigin(c: Context): boolean {
  const host = c.req.header("host");
  const origin = c.req.header("origin");
  if (origin !== undefined) {
    if (!host || !URL.canParse(origin)) return false;
    const url = new URL(origin);
    return url.host === host && (url.protocol === "http:" || url.protocol === "https:");
  }
  return c.req.header("sec-fetch-site") === "same-origin";
}

/**
 * The guard in front of everything: on loopback, a `Host` of this machine only (a page of another site
 * that rebinds its name to 127.0.0.1 reads nothing); with a token, every request carries it; every
 * state-changing request comes from this server's own pages.
 */
export function guard(
  options: { token?: string; loopback: boolean; open: (path: string) => boolean },
): MiddlewareHandler {
  return async (c, next) => {
    if (options.loopback) {
      const host = (c.req.header("host") ?? "").replace(/:\d+$/, "");
      if (!isLoopback(host)) return c.json({ error: `this UI answers to 127.0.0.1 and localhost, not ${host}` }, 403);
    }
    const how = options.token ? authenticated(c, options.token) : "open";
    if (!how && !options.open(c.req.path)) {
      if (c.req.method === "GET" && (c.req.header("accept") ?? "").includes("text/html")) return c.redirect("/login");
      return c.json({ error: "this UI needs its token: log in, or send Authorization: Bearer <INGEST_UI_TOKEN>" }, 401);
    }
    if (unsafe.has(c.req.method) && how !== "bearer" && !sameOrigin(c)) {
      return c.json({ error: "refused: a state-changing request must come from this UI's own pages (Origin)" }, 403);
    }
    await next();
  };
}

/** The login page: a form for the token, and nothing else. */
export function loginPage(failed: boolean): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>ingest ui · log in</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>body{font:15px system-ui,sans-serif;display:grid;place-items:center;height:100vh;margin:0;background:#f5f6f8}
form{background:#fff;padding:28px;border-radius:8px;box-shadow:0 1px 4px #0002;display:grid;gap:12px;min-width:320px}
input,button{font:inherit;padding:8px}button{background:#2563eb;color:#fff;border:0;border-radius:4px;cursor:pointer}
.error{color:#b91c1c}</style></head><body><form method="post" action="/login">
<h1 style="margin:0;font-size:20px">ingest ui</h1><label for="token">Token (INGEST_UI_TOKEN)</label>
<input id="token" name="token" type="password" autocomplete="current-password" autofocus required>
${
    failed
      ? '<p class="error">That is not the token.</p>'
      : ""
  }<button type="submit">Log in</button></form></body></html>`;
}
