import { existsSync, readdirSync, readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { extname, join, relative } from "node:path";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { setCookie } from "hono/cookie";
import { streamSSE } from "hono/streaming";
import type { AssetGraph } from "../engine/asset-graph.ts";
import type { Definitions } from "../engine/definitions.ts";
import { ResourcePool } from "../engine/resource.ts";
import { metadataDb, type pg } from "../resources/postgres.ts";
import {
  guard,
  isLoopback,
  loginPage,
  sameOrigin,
  sessionCookie,
  sessionValue,
  tokenMatches,
  uiToken,
} from "./access.ts";
import { api } from "./api.ts";
import { ChangeFeed } from "./events.ts";

/** How `ingest ui` serves. */
export interface UiOptions {
  graph: AssetGraph<Definitions>;
  /** A pool on the framework's database, migrated. */
  pool: pg.Pool;
  /** Default 58090 (`INGEST_UI_PORT`); 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. Any other address needs a token. */
  host?: string;
  /** Default `INGEST_UI_TOKEN`. */
  token?: string;
  /** The built front end (default: this package's `ui/web/dist`). */
  webRoot: string;
  /** Where the graph's layout is cached (default: the state folder's `ui/`). */
  layoutFolder?: string;
  /** The project's name, for the page title. */
  project?: string;
  /** Whether this process executes runs too. */
  worker?: boolean;
}

/** A running UI server. */
export interface UiServer extends AsyncDisposable {
  url: string;
  close(): Promise<void>;
}

const types: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
};

/** The built front end, read once: a few files, served from memory. */
function readWeb(root: string): Map<string, { body: Uint8Array; type: string }> {
  if (!existsSync(join(root, "index.html"))) throw new Error(`no built UI at ${root}: run npm run build:ui`);
  const files = new Map<string, { body: Uint8Array; type: string }>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else {
        files.set(`/${relative(root, path).split("\\").join("/")}`, {
          body: readFileSync(path),
          type: types[extname(entry.name)] ?? "application/octet-stream",
        });
      }
    }
  };
  walk(root);
  return files;
}

const securityHeaders = {
  "X-Content-Type-Options": "nosniff",
  // Not no-referrer: under it Chromium sends `Origin: null` with a form POST, which the CSRF guard refuses.
  "Referrer-Policy": "same-origin",
  "X-Frame-Options": "DENY",
  "Content-Security-Policy":
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
};

/** The whole app: the guard, the login, the JSON API, the change feed as server-sent events, the front end. */
export function uiApp(
  options: Omit<UiOptions, "port" | "pool"> & { pool: pg.Pool; feed: ChangeFeed; resources: ResourcePool },
): Hono {
  const host = options.host ?? "127.0.0.1";
  const token = uiToken(host, options.token);
  const web = readWeb(options.webRoot);
  const app = new Hono();
  app.use(async (c, next) => {
    await next();
    for (const [name, value] of Object.entries(securityHeaders)) c.res.headers.set(name, value);
  });
  app.use(guard({ token, loopback: isLoopback(host), open: (path) => path === "/login" }));

  app.get("/login", (c) => (token ? c.html(loginPage(false)) : c.redirect("/")));
  app.post("/login", async (c) => {
    if (!token) return c.redirect("/");
    if (!sameOrigin(c)) return c.text("refused: log in from this UI's own page", 403);
    const form = await c.req.parseBody();
    const given = typeof form.token === "string" ? form.token : "";
    if (!tokenMatches(given, token)) {
      return c.html(loginPage(true), 401);
    }
    setCookie(c, sessionCookie, sessionValue(token), { httpOnly: true, sameSite: "Strict", path: "/" });
    return c.redirect("/");
  });

  app.route(
    "/api",
    api({
      graph: options.graph,
      db: metadataDb(options.pool),
      pool: options.pool,
      resources: options.resources,
      layoutFolder: options.layoutFolder,
      live: () => options.feed.connected,
      worker: options.worker === true,
      project: options.project ?? "ingest",
    }),
  );
  app.get("/api/events", (c) =>
    streamSSE(c, async (stream) => {
      let wake: () => void = () => {};
      const queue: string[][] = [];
      const unsubscribe = options.feed.subscribe((tables) => {
        queue.push(tables);
        wake();
      });
      stream.onAbort(() => {
        unsubscribe();
        wake();
      });
      await stream.writeSSE({ event: "hello", data: JSON.stringify({ live: options.feed.connected }) });
      while (!stream.aborted && !stream.closed) {
        const next = queue.shift();
        if (next) {
          await stream.writeSSE({ event: "change", data: JSON.stringify({ tables: next }) });
          continue;
        }
        // A comment every 15 s keeps proxies from closing a quiet stream.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 15_000);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        if (queue.length === 0 && !stream.aborted) await stream.write(": keep-alive\n\n");
      }
      unsubscribe();
    }));
  app.all("/api/*", (c) => c.json({ error: `no such endpoint: ${c.req.method} ${c.req.path}` }, 404));

  app.get("*", (c) => {
    const file = web.get(c.req.path) ?? web.get("/index.html")!;
    const immutable = c.req.path.startsWith("/assets/");
    return c.body(file.body as Uint8Array<ArrayBuffer>, 200, {
      "Content-Type": file.type,
      "Cache-Control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
    });
  });
  return app;
}

/**
 * Serves the UI until closed: binds 127.0.0.1 unless told otherwise, and anywhere else only with a
 * token (`INGEST_UI_TOKEN`), which every request must then carry.
 */
export async function startUi(options: UiOptions): Promise<UiServer> {
  const host = options.host ?? "127.0.0.1";
  uiToken(host, options.token); // refuse before anything starts
  const feed = new ChangeFeed(options.pool);
  await feed.start();
  const resources = new ResourcePool(options.graph.definitions.resources);
  const app = uiApp({ ...options, feed, resources });
  const sockets = new Set<import("node:net").Socket>();
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: options.port ?? 58090, hostname: host }, () => resolve(s));
    s.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "EADDRINUSE"
          ? new Error(
            `port ${options.port} on ${host} is taken: is the UI already running (npx ingest stack status)? --port picks another`,
          )
          : error,
      ));
    s.on("connection", (socket) => {
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  let closing: Promise<void> | undefined;
  const close = () =>
    closing ??= (async () => {
      await feed.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Server-sent event streams stay open until their browsers go: end them.
        for (const socket of sockets) socket.destroy();
      });
      await resources[Symbol.asyncDispose]();
    })();
  return { url, close, [Symbol.asyncDispose]: close };
}
