import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mysql from "mysql2/promise";
import neo4jDriver from "neo4j-driver";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signDelivery } from "../../connectors/webhooks/index.ts";
import { runningPid } from "../../resources/local-services.ts";
import { createPool } from "../../resources/postgres.ts";
import { localPorts, packageRoot, settings, stateDir } from "../../resources/settings.ts";
import { sessionCookie, sessionValue } from "../../ui/access.ts";
import { ensureWebBuilt } from "../../ui/web-build.ts";
import { exitOf, type Started, startUntil } from "../processes.ts";
import { recordFigure } from "../reliability.ts";
import { boundSockets, isLoopback, processTree } from "../sockets.ts";
import { dropDatabase, freshDatabase } from "../support.ts";

/**
 * Who can reach what: every server of the stack, and every server the CLI starts (the UI, the webhook
 * receiver, a worker's and a daemon's metrics), listens on loopback only, as its sockets in /proc say;
 * Postgres, Neo4j and MariaDB let nobody in without the password; and the UI and the webhook receiver change
 * nothing for a request that is not authenticated (no token, a wrong one, another site's page, a rebound
 * host name, no signature, a bad or stale one): Postgres holds the same runs, steps, jobs, dead letters and
 * deliveries afterwards. A project of its own on a database of its own, so no other test's rows move.
 */
const id = randomBytes(4).toString("hex");
const node = join(packageRoot, "node_modules", ".bin", "node");
const cli = join(packageRoot, "bin", "ingest.js");
const project = mkdtempSync(join(tmpdir(), "ingest-security-access-"));
const database = `ingest_security_access_${id}`;
const token = randomBytes(24).toString("hex");
const webhookSecret = randomBytes(24).toString("base64url");
let pool: pg.Pool;
let env: NodeJS.ProcessEnv;
const started: Started[] = [];
let openUi: string;
let lockedUi: string;
let webhooks: string;

beforeAll(async () => {
  await ensureWebBuilt();
  mkdirSync(join(project, "node_modules"));
  symlinkSync(packageRoot, join(project, "node_modules", "ingest-graph"));
  symlinkSync(join(packageRoot, "node_modules", "zod"), join(project, "node_modules", "zod"));
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "security-project", type: "module" }));
  writeFileSync(join(project, "books.csv"), "isbn,title\n1,Dune\nx-2,Nameless\n3,Emma\n");
  writeFileSync(
    join(project, "definitions.ts"),
    `import { defineAsset, defineDefinitions, defineStagedAsset, defineWebhookSource, envSecret, readCsv, stagingResource } from "ingest-graph";
import { z } from "zod";

const books = defineStagedAsset({
  key: "shop/books", table: "sec_books", source: "books.csv", codeVersion: "1",
  model: z.object({ isbn: z.string().regex(/^\\d+$/, "not an ISBN"), title: z.string().min(1) }),
  sourceKey: (b) => b.isbn, rawKey: (row) => row.isbn,
  extract: () => readCsv(${JSON.stringify(join(project, "books.csv"))}),
});
const report = defineAsset({
  key: "reports/books", deps: ["shop/books"], codeVersion: "1",
  materialize: async () => ({ counts: { books: 2 } }),
});
const chat = defineWebhookSource({ name: "chat", scheme: "zendesk", secrets: () => [envSecret("SECURITY_WEBHOOK_SECRET")] });
export default defineDefinitions({ assets: [books, report], resources: { staging: stagingResource() }, webhookSources: [chat] });
`,
  );
  const url = await freshDatabase(database);
  pool = createPool(url);
  env = { ...process.env, DATABASE_URL: url, INGEST_STATE_DIR: stateDir, SECURITY_WEBHOOK_SECRET: webhookSecret };
  delete env.INGEST_DEFINITIONS;
  delete env.INGEST_UI_TOKEN;
  delete env.INGEST_METRICS_PORT;
  // A run that leaves a dead letter (the ISBN 'x-2'), for the replay button to want to replay.
  const first = ingest("materialize", "--wait");
  expect(first.status, first.stderr).toBe(0);

  const serve = async (command: string, ready: RegExp, extra: NodeJS.ProcessEnv = {}) => {
    const process = await startUntil(`exec ${node} ${cli} ${command}`, {
      cwd: project,
      env: { ...env, ...extra },
      ready,
    });
    started.push(process);
    return ready.exec(process.output())![1]!;
  };
  openUi = await serve("ui --port 0", /ingest ui listening on (\S+)/);
  lockedUi = await serve("ui --port 0", /ingest ui listening on (\S+)/, { INGEST_UI_TOKEN: token });
  webhooks = await serve("webhooks --port 0", /webhooks listening on (\S+)/);
}, 300_000);

afterAll(async () => {
  for (const { child } of started) {
    child.kill("SIGTERM");
    await exitOf(child);
  }
  await pool?.end();
  await dropDatabase(database);
  rmSync(project, { recursive: true, force: true });
});

const ingest = (...args: string[]) =>
  spawnSync(node, [cli, ...args], { cwd: project, env, encoding: "utf8", timeout: 120_000 });

/** One HTTP request, every header as given (a `Host` of another name too, which fetch would not send). */
function send(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? "POST", headers: options.headers }, (response) => {
      response.resume();
      response.on("end", () => resolve({ status: response.statusCode!, headers: response.headers }));
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

describe("the servers", () => {
  it("listen on loopback only: every stack server, the UI, the webhook receiver, a worker's and a daemon's metrics", async () => {
    // Their metrics are served only when asked for: asked here, on a port of their own each.
    const worker = await startUntil(`exec ${node} ${cli} worker --metrics-port 0`, {
      cwd: project,
      env,
      ready: /worker started/,
    });
    const daemon = await startUntil(`exec ${node} ${cli} daemon --metrics-port 0`, {
      cwd: project,
      env,
      ready: /serving metrics/,
    });
    try {
      const metricsPort = (output: string) => Number(/"metrics":"http:\/\/[^"]*:(\d+)/.exec(output)?.[1]);
      const portOf = (url: string) => Number(new URL(url).port);
      // Every server `stack up` started has a pid file: Postgres, Neo4j, Chroma, FerretDB, MariaDB, Kafka,
      // RabbitMQ and its epmd, the CRM and sample APIs, and Jaeger and the UI when they run. Each is the
      // process meant when it holds the port it serves.
      const stackPorts: Record<string, number> = {
        postgres: localPorts.postgres,
        neo4j: localPorts.neo4j,
        chroma: localPorts.chroma,
        ferretdb: localPorts.ferretdb,
        mariadb: localPorts.mariadb,
        kafka: localPorts.kafka,
        rabbitmq: localPorts.rabbitmq,
        "rabbitmq-epmd": localPorts.rabbitmqEpmd,
        "crm-api": localPorts.crmApi,
        "sample-apis": localPorts.sampleApis,
        jaeger: localPorts.jaegerOtlpHttp,
        ui: localPorts.ui,
      };
      const servers: Record<string, { pid: number; port: number }> = {};
      for (const file of readdirSync(join(stateDir, "run"))) {
        const name = file.replace(/\.pid$/, "");
        const pid = runningPid(name);
        if (pid !== undefined) servers[name] = { pid, port: stackPorts[name] ?? 0 };
      }
      expect(Object.keys(servers)).toEqual(
        expect.arrayContaining(["postgres", "neo4j"]),
      );
      Object.assign(servers, {
        "ingest ui": { pid: started[0]!.child.pid!, port: portOf(openUi) },
        "ingest ui (token)": { pid: started[1]!.child.pid!, port: portOf(lockedUi) },
        "ingest webhooks": { pid: started[2]!.child.pid!, port: portOf(webhooks) },
        "ingest worker --metrics-port": { pid: worker.child.pid!, port: metricsPort(worker.output()) },
        "ingest daemon --metrics-port": { pid: daemon.child.pid!, port: metricsPort(daemon.output()) },
      });
      const listening: Record<string, string[]> = {};
      for (const [name, { pid, port }] of Object.entries(servers)) {
        const sockets = processTree(pid).flatMap((p) => {
          try {
            return boundSockets(p);
          } catch {
            return []; // ended while we looked
          }
        });
        listening[name] = [...new Set(sockets)].sort();
        if (port > 0) {
          expect(listening[name]!.map((s) => Number(s.slice(s.lastIndexOf(":") + 1))), name).toContain(port);
        }
      }
      const beyond = Object.entries(listening).flatMap(([name, sockets]) =>
        sockets.filter((s) => !isLoopback(s)).map((s) => `${name} ${s}`)
      );
      expect(beyond).toEqual([]);
      const count = Object.values(listening).flat().length;
      recordFigure(
        "servers listening beyond loopback",
        beyond.length,
        "sockets",
        "<= 0",
        `${count} listening sockets of ${Object.keys(listening).length} servers, read from /proc: ${
          Object.entries(listening).map(([name, sockets]) => `${name} ${sockets.join(" ")}`).join("; ")
        }`,
      );
    } finally {
      for (const { child } of [worker, daemon]) {
        child.kill("SIGTERM");
        await exitOf(child);
      }
    }
  });

  it("Postgres, Neo4j and MariaDB let nobody in without the password", async () => {
    const postgres = new URL(settings().databaseUrl);
    const login = async (user: string, password: string | undefined) => {
      const client = new pg.Client({
        host: postgres.hostname,
        port: Number(postgres.port),
        database: "ingest",
        user,
        password,
      });
      client.on("error", () => {});
      const refused = await client.connect().then(() => undefined, (error: Error & { code?: string }) => error);
      await client.end().catch(() => {});
      return refused;
    };
    // No password at all: the server asks for one (SCRAM), which the client cannot give.
    expect((await login("ingest", undefined))?.message).toMatch(/password/);
    for (const [user, password] of [["ingest", ""], ["ingest", "not-the-password"], ["postgres", "postgres"]]) {
      const refused = await login(user!, password);
      expect(refused, `${user}/${JSON.stringify(password)}`).toBeDefined();
      if (password !== "") expect(refused!.code, refused!.message).toBe("28P01"); // invalid_password
    }

    // Two wrong logins at most: Neo4j locks a user out for a while after three in a row.
    for (const auth of [neo4jDriver.auth.basic("neo4j", "not-the-password"), { scheme: "none" }]) {
      const driver = neo4jDriver.driver(settings().neo4j.uri, auth as never, {
        logging: { level: "error", logger: () => {} },
      });
      try {
        const refused = await driver.executeQuery("RETURN 1").then(
          () => undefined,
          (error: { code?: string }) => error,
        );
        expect(refused?.code, auth.scheme).toBe("Neo.ClientError.Security.Unauthorized");
      } finally {
        await driver.close();
      }
    }

    const mariadb = new URL(settings().mariadb.url);
    for (const password of [undefined, "not-the-password"]) {
      const refused = await mysql.createConnection({
        host: mariadb.hostname,
        port: Number(mariadb.port),
        user: "ingest",
        password,
      }).then(async (c) => void (await c.end()), (error: { code?: string }) => error);
      expect(refused?.code, String(password)).toBe("ER_ACCESS_DENIED_ERROR");
    }
  });
});

/** What a state-changing request could move: compared before and after every refused attempt. */
async function state() {
  const rows = async (query: string) => (await pool.query(query)).rows;
  return {
    runs: await rows("select id, status, error from ingest.runs order by id"),
    steps: await rows("select run_id, step_key, status, attempts from ingest.run_steps order by run_id, step_key"),
    jobs: await rows("select id, attempts from graphile_worker.jobs order by id"),
    deadLetters: await rows("select id, status, issues, replayed_at from ingest.dead_letters order by id"),
    staged: await rows("select source_key, content_hash from staging.sec_books order by source_key"),
    deliveries: await rows("select id from ingest.webhook_deliveries order by id"),
  };
}

/** Attempts that changed something or were answered as if they had (2xx, 3xx): what the figure reports. */
let accepted = 0;
let tried = 0;
const routesTried = new Set<string>();

describe("the UI", () => {
  /** A run nobody executes (no worker runs): the cancel button's target. */
  let queued: string;
  beforeAll(() => {
    const requested = ingest("--json", "materialize", "reports/books");
    expect(requested.status, requested.stderr).toBe(0);
    queued = JSON.parse(requested.stdout).runId;
  });

  /** Every route of the UI that changes something, with a body it takes. */
  const routes = () => [
    { path: "/api/runs", body: JSON.stringify({ selection: "*" }) },
    { path: "/api/runs", body: JSON.stringify({ selection: "reports/books", stale: true }) },
    { path: `/api/runs/${queued}/cancel`, body: "" },
    { path: "/api/dead-letters/replay", body: JSON.stringify({ asset: "shop/books" }) },
  ];

  /** Sends each route with `headers`, expecting it refused with `status`; afterwards Postgres holds what it held. */
  async function refusedEverywhere(base: string, variant: string, headers: Record<string, string>, status: number) {
    const before = await state();
    for (const route of routes()) {
      for (const contentType of ["application/json", "text/plain"]) {
        tried += 1;
        routesTried.add(`POST ${route.path.replace(queued, ":id")}`);
        const answer = await send(`${base}${route.path}`, {
          headers: { "content-type": contentType, ...headers },
          body: route.body,
        });
        if (answer.status < 400) accepted += 1;
        expect(answer.status, `${variant}: POST ${route.path} (${contentType})`).toBe(status);
      }
    }
    expect(await state(), variant).toEqual(before);
  }

  it("on loopback without a token, changes nothing for a request of another site or of no page", async () => {
    const host = new URL(openUi).host;
    const variants: [string, Record<string, string>][] = [
      ["no Origin", {}],
      ["another site's Origin", { origin: "http://evil.example" }],
      ["Origin null (a sandboxed frame, a file)", { origin: "null" }],
      ["another port of this machine", { origin: `http://127.0.0.1:${localPorts.ui + 1}` }],
      ["this host and port as another site's user name", { origin: `http://${host}@evil.example` }],
      ["a name under another site", { origin: `http://${host}.evil.example` }],
      ["Sec-Fetch-Site cross-site", { "sec-fetch-site": "cross-site" }],
      ["Sec-Fetch-Site same-site (a neighbour's port)", { "sec-fetch-site": "same-site" }],
    ];
    for (const [variant, headers] of variants) await refusedEverywhere(openUi, variant, headers, 403);
    // DNS rebinding: another site's name resolving to 127.0.0.1, its page same-origin with itself.
    const rebound = `evil.example:${new URL(openUi).port}`;
    await refusedEverywhere(openUi, "DNS rebinding", { host: rebound, origin: `http://${rebound}` }, 403);
  });

  it("with a token, changes nothing without it, with a wrong one, or with its cookie from another site", async () => {
    const origin = new URL(lockedUi).origin;
    const cookie = `${sessionCookie}=${sessionValue(token)}`;
    const variants: [string, Record<string, string>, number][] = [
      ["no credentials", { origin }, 401],
      ["a wrong bearer token", { origin, authorization: `Bearer ${randomBytes(24).toString("hex")}` }, 401],
      ["half of the token", { origin, authorization: `Bearer ${token.slice(0, 24)}` }, 401],
      ["the token with a character more", { origin, authorization: `Bearer ${token}x` }, 401],
      ["the token as Basic credentials", {
        origin,
        authorization: `Basic ${Buffer.from(`ingest:${token}`).toString("base64")}`,
      }, 401],
      ["the token itself as the session cookie", { origin, cookie: `${sessionCookie}=${token}` }, 401],
      ["another token's session cookie", {
        origin,
        cookie: `${sessionCookie}=${sessionValue(randomBytes(24).toString("hex"))}`,
      }, 401],
      ["the session cookie from another site", { cookie, origin: "http://evil.example" }, 403],
      ["the session cookie with no Origin", { cookie }, 403],
    ];
    for (const [variant, headers, status] of variants) await refusedEverywhere(lockedUi, variant, headers, status);

    // Nor does another site log a browser in (login CSRF): no session cookie is set.
    const login = await send(`${lockedUi}/login`, {
      headers: { "content-type": "application/x-www-form-urlencoded", origin: "http://evil.example" },
      body: `token=${token}`,
    });
    tried += 1;
    routesTried.add("POST /login");
    if (login.status < 400) accepted += 1;
    expect(login.status).toBe(403);
    expect(login.headers["set-cookie"]).toBeUndefined();
  });

  it("does change what it is asked to by its own page: the refusals above are of the request, not the route", async () => {
    const origin = new URL(openUi).origin;
    const before = (await state()).runs.length;
    const requested = await send(`${openUi}/api/runs`, {
      headers: { "content-type": "application/json", origin },
      body: JSON.stringify({ selection: "reports/books" }),
    });
    expect(requested.status).toBe(200);
    expect((await state()).runs.length).toBe(before + 1);
    const canceled = await send(`${lockedUi}/api/runs/${queued}/cancel`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(canceled.status).toBe(200);
    const { rows } = await pool.query("select status from ingest.runs where id = $1", [queued]);
    expect(rows[0].status).toBe("canceled");
  });
});

describe("the webhook receiver", () => {
  const body = JSON.stringify({ type: "message.created", id: "evt_sec_1", text: "hello" });
  const signed = (secret: string, payload: string, at = new Date()) => signDelivery("zendesk", secret, payload, at);
  const minutes = (n: number) => new Date(Date.now() + n * 60_000);

  it("stores nothing unsigned, signed with another secret, for another body, stale or from the future", async () => {
    const good = signed(webhookSecret, body);
    const attempts: [string, string, Record<string, string>, string?][] = [
      ["no signature", "POST", {}],
      ["signed with another secret", "POST", signed(randomBytes(24).toString("base64url"), body)],
      ["signed for another body", "POST", signed(webhookSecret, body.replace("hello", "hullo"))],
      ["signed 10 minutes ago (a replay)", "POST", signed(webhookSecret, body, minutes(-10))],
      ["signed 10 minutes ahead", "POST", signed(webhookSecret, body, minutes(10))],
      ["an empty signature", "POST", { ...good, "x-zendesk-webhook-signature": "" }],
      ["the signature in hex", "POST", {
        ...good,
        "x-zendesk-webhook-signature": Buffer.from(good["x-zendesk-webhook-signature"]!, "base64").toString("hex"),
      }],
      ["the other scheme's header", "POST", signDelivery("stripe", webhookSecret, body)],
      ["the timestamp moved, the signature kept", "POST", {
        ...good,
        "x-zendesk-webhook-signature-timestamp": minutes(-1).toISOString(),
      }],
      ["PUT, signed", "PUT", good],
      ["DELETE, signed", "DELETE", good],
      ["PATCH, signed", "PATCH", good],
      ["another source's path, signed", "POST", good, "/webhooks/chat2"],
      ["a path around the source's, signed", "POST", good, "/webhooks/chat/../chat2"],
    ];
    const before = await state();
    for (const [variant, method, headers, path = "/webhooks/chat"] of attempts) {
      tried += 1;
      routesTried.add(`${method} ${path}`);
      const answer = await send(`${webhooks}${path}`, {
        method,
        headers: { "content-type": "application/json", "x-delivery-id": `sec-${tried}`, ...headers },
        body,
      });
      if (answer.status < 400) accepted += 1;
      expect(answer.status, variant).toBeGreaterThanOrEqual(400);
    }
    expect(await state()).toEqual(before);

    // Signed as the sender signs, it is stored: the refusals above are of the signature.
    const delivered = await send(`${webhooks}/webhooks/chat`, {
      headers: { "content-type": "application/json", "x-delivery-id": "sec-good", ...good },
      body,
    });
    expect(delivered.status).toBe(202);
    expect((await state()).deliveries).toHaveLength(before.deliveries.length + 1);
  });
});

afterAll(() => {
  expect(accepted).toBe(0);
  recordFigure(
    "unauthenticated state changes accepted",
    accepted,
    "requests",
    "<= 0",
    `${tried} requests to ${routesTried.size} routes (${
      [...routesTried].join(", ")
    }): the UI without a token (8 kinds of foreign or missing Origin, and DNS rebinding) and with one (9 kinds of missing, wrong or cross-site credentials), each as JSON and text/plain; the webhook receiver (14 unsigned, badly signed, stale or misrouted); Postgres runs, steps, jobs, dead letters, staged records and deliveries compared before and after`,
  );
});
