import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { guard, isLoopback, sessionCookie, sessionValue, uiToken } from "../../ui/access.ts";
import { withoutCredentials } from "../../ui/api.ts";

/** The UI's rules on who may ask what, on an app with one reading and one writing route. */
function app(options: { token?: string; loopback: boolean }) {
  const app = new Hono();
  app.use(guard({ ...options, open: (path) => path === "/login" }));
  app.get("/api/status", (c) => c.json([]));
  app.post("/api/runs", (c) => c.json({ runId: "r" }));
  return app;
}
const request = (a: Hono, method: string, headers: Record<string, string> = {}) =>
  a.request(method === "GET" ? "/api/status" : "/api/runs", {
    method,
    headers: { host: "127.0.0.1:58090", ...headers },
  });

describe("binding", () => {
  it("needs no token on loopback, and a token of 16 characters anywhere else", () => {
    expect(isLoopback("127.0.0.1") && isLoopback("localhost") && isLoopback("::1")).toBe(true);
    expect(isLoopback("0.0.0.0") || isLoopback("10.0.0.5")).toBe(false);
    expect(uiToken("127.0.0.1", undefined)).toBeUndefined();
    expect(() => uiToken("0.0.0.0", undefined)).toThrow("set INGEST_UI_TOKEN");
    expect(() => uiToken("0.0.0.0", "short")).toThrow("at least 16 characters");
    expect(uiToken("0.0.0.0", "a-long-enough-token")).toBe("a-long-enough-token");
  });

  it("shows addresses without user or password", () => {
    expect(withoutCredentials("postgres://ingest:s3cret@db.example:5432/ingest?sslmode=require")).toBe(
      "postgres://db.example:5432/ingest",
    );
    expect(withoutCredentials("neo4j+s://neo4j:pw@abc.databases.neo4j.io")).toBe("neo4j+s://abc.databases.neo4j.io");
  });
});

describe("on loopback without a token", () => {
  const open = app({ loopback: true });

  it("reads, but changes nothing without this UI's own Origin", async () => {
    expect((await request(open, "GET")).status).toBe(200);
    expect((await request(open, "POST")).status).toBe(403);
    expect((await request(open, "POST", { origin: "http://evil.example" })).status).toBe(403);
    expect((await request(open, "POST", { origin: "http://127.0.0.1:58091" })).status).toBe(403);
    expect((await request(open, "POST", { origin: "null" })).status).toBe(403);
    expect((await request(open, "POST", { origin: "http://127.0.0.1:58090" })).status).toBe(200);
    expect((await request(open, "POST", { "sec-fetch-site": "same-origin" })).status).toBe(200);
  });

  it("answers no other host name (DNS rebinding)", async () => {
    expect((await request(open, "GET", { host: "evil.example:58090" })).status).toBe(403);
    expect((await request(open, "GET", { host: "localhost:58090" })).status).toBe(200);
  });
});

describe("with a token", () => {
  const token = "a-long-enough-token";
  const locked = app({ token, loopback: false });

  it("needs it on every request, as a bearer header or the login's cookie", async () => {
    expect((await request(locked, "GET")).status).toBe(401);
    expect((await request(locked, "GET", { authorization: "Bearer wrong-token-of-length" })).status).toBe(401);
    expect((await request(locked, "GET", { authorization: `Bearer ${token}` })).status).toBe(200);
    expect((await request(locked, "GET", { cookie: `${sessionCookie}=${sessionValue(token)}` })).status).toBe(200);
    expect((await request(locked, "GET", { cookie: `${sessionCookie}=${token}` })).status).toBe(401);
  });

  it("takes a bearer token for the Origin (no browser sends one unasked), a cookie not", async () => {
    expect((await request(locked, "POST", { authorization: `Bearer ${token}` })).status).toBe(200);
    expect((await request(locked, "POST", { cookie: `${sessionCookie}=${sessionValue(token)}` })).status).toBe(403);
    expect(
      (await request(locked, "POST", {
        cookie: `${sessionCookie}=${sessionValue(token)}`,
        origin: "http://127.0.0.1:58090",
      })).status,
    ).toBe(200);
  });

  it("sends a browser without it to the login page", async () => {
    const page = await locked.request("/", { headers: { host: "etl-1:58090", accept: "text/html" } });
    expect(page.status).toBe(302);
    expect(page.headers.get("location")).toBe("/login");
  });
});
