import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mysql from "mysql2/promise";
import { localPorts, settings } from "../../resources/settings.ts";
import { stackUp } from "../../stack/stack.ts";
import { ingest } from "../processes.ts";
import { boundSockets } from "../sockets.ts";

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe("ingest stack", () => {
  const stateDir = mkdtempSync(join(tmpdir(), "ingest-stack-test-"));
  let env: Record<string, string>;
  let blocker: Server | undefined;

  beforeAll(async () => {
    env = { INGEST_STATE_DIR: stateDir, INGEST_CHROMA_PORT: String(await freePort()) };
  });
  afterAll(() => {
    blocker?.close();
    ingest(["stack", "down", "chroma"], env);
    rmSync(stateDir, { recursive: true, force: true });
  });

  it("starts a service that is not reachable and stops only what it started", async () => {
    const up = ingest(["--json", "stack", "up", "chroma"], env);
    expect(up.status, up.stderr).toBe(0);
    const [status] = JSON.parse(up.stdout);
    expect(status).toMatchObject({ name: "chroma", reachable: true, managedBy: "ours" });

    // A second `up` finds it reachable and starts nothing.
    const again = JSON.parse(ingest(["--json", "stack", "up", "chroma"], env).stdout);
    expect(again[0].startSeconds).toBeUndefined();

    const down = ingest(["--json", "stack", "down", "chroma"], env);
    expect(JSON.parse(down.stdout)).toEqual({ stopped: ["chroma"] });
    const after = JSON.parse(ingest(["--json", "stack", "status", "chroma"], env).stdout);
    expect(after[0]).toMatchObject({ reachable: false, managedBy: "none" });

    // The test suite's own Chroma, which this state folder did not start, still answers.
    const response = await fetch(`${settings().chromaUrl}/api/v2/heartbeat`);
    expect(response.ok).toBe(true);
    expect(ingest(["--json", "stack", "down"], env).stdout).toContain('"stopped": []');
  });

  it("explains a failed start with the tail of the service's log", async () => {
    const port = await freePort();
    const server = createServer();
    blocker = server;
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    const result = ingest(["stack", "up", "chroma"], { ...env, INGEST_CHROMA_PORT: String(port) });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("chroma exited during start-up");
    expect(result.stderr).toContain(`127.0.0.1:${port}`);
    expect(result.stderr).toMatch(/not available/);
  });
});

async function traceById(traceId: string) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const response = await fetch(`${settings().jaeger.queryUrl}/api/traces/${traceId}`);
    if (response.ok) return (await response.json()) as JaegerTraces;
    await response.body?.cancel();
    // The batch processor holds spans up to 200 ms before they reach the store.
    if (Date.now() > deadline) throw new Error(`trace ${traceId} not found: ${response.status}`);
    await sleep(200);
  }
}

/** The parts of the query API's `/api/traces/<traceId>` answer read here. */
interface JaegerTraces {
  data: {
    traceID: string;
    spans: { spanID: string; operationName: string; processID: string; tags: { key: string; value: unknown }[] }[];
    processes: Record<string, { serviceName: string }>;
  }[];
}

describe("the stack's Jaeger", () => {
  it("takes a span over OTLP/HTTP, gives it back by trace id and listens on 127.0.0.1 only", async () => {
    const [status] = await stackUp(["jaeger"]);
    expect(status).toMatchObject({ name: "jaeger", reachable: true, managedBy: "ours" });

    const traceId = randomBytes(16).toString("hex");
    const spanId = randomBytes(8).toString("hex");
    const start = BigInt(Date.now()) * 1_000_000n;
    const body = {
      resourceSpans: [{
        resource: { attributes: [{ key: "service.name", value: { stringValue: "stack-test" } }] },
        scopeSpans: [{
          scope: { name: "test/integration/stack.test.ts" },
          spans: [{
            traceId,
            spanId,
            name: "materialize ec/orders",
            kind: 1,
            startTimeUnixNano: String(start),
            endTimeUnixNano: String(start + 5_000_000n),
            attributes: [{ key: "ingest.asset", value: { stringValue: "ec/orders" } }],
          }],
        }],
      }],
    };
    const sent = await fetch(`${settings().jaeger.otlpEndpoint}/v1/traces`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(sent.status, await sent.text()).toBe(200);

    const { data: [trace] } = await traceById(traceId);
    expect(trace!.traceID).toBe(traceId);
    const [span] = trace!.spans;
    expect(span).toMatchObject({ spanID: spanId, operationName: "materialize ec/orders" });
    expect(span!.tags).toContainEqual(expect.objectContaining({ key: "ingest.asset", value: "ec/orders" }));
    expect(trace!.processes[span!.processID]!.serviceName).toBe("stack-test");

    // OTLP gRPC and HTTP in, query HTTP and gRPC out: no telemetry, health or debug port, nothing on 0.0.0.0.
    const ports = [
      localPorts.jaegerOtlpGrpc,
      localPorts.jaegerOtlpHttp,
      localPorts.jaegerQuery,
      localPorts.jaegerQueryGrpc,
    ];
    expect(boundSockets(status!.pid!)).toEqual(ports.map((port) => `127.0.0.1:${port}`).sort());
  });
});

describe("the stack's MariaDB", () => {
  const stateDir = mkdtempSync(join(tmpdir(), "ingest-stack-mariadb-"));
  // As root the server runs as the `mysql` user, which must reach the state folder to keep its data there.
  chmodSync(stateDir, 0o755);
  let env: Record<string, string>;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    env = { INGEST_STATE_DIR: stateDir, INGEST_MARIADB_PORT: String(port) };
  });
  afterAll(() => {
    ingest(["stack", "down", "mariadb"], env);
    rmSync(stateDir, { recursive: true, force: true });
  });

  it(
    "runs on 127.0.0.1 only, with its data, socket and pid file in the state folder, and keeps its data when restarted",
    async () => {
      const up = ingest(["--json", "stack", "up", "mariadb"], env);
      expect(up.status, up.stderr).toBe(0);
      const [status] = JSON.parse(up.stdout);
      expect(status).toMatchObject({
        name: "mariadb",
        reachable: true,
        managedBy: "ours",
        location: `mysql://127.0.0.1:${port}/crm`,
      });
      expect(boundSockets(status.pid)).toEqual([`127.0.0.1:${port}`]);

      const secret = join(stateDir, "secrets", "mariadb");
      expect(statSync(secret).mode & 0o777).toBe(0o600);
      const home = join(stateDir, "mariadb");
      // The password reached the server in a start-up file, gone once the server answers.
      expect(existsSync(join(home, "init.sql"))).toBe(false);
      const login = { host: "127.0.0.1", port, user: "ingest", password: readFileSync(secret, "utf8").trim() };
      let connection = await mysql.createConnection({ ...login, database: "crm" });
      try {
        const [[server]] = await connection.query<mysql.RowDataPacket[]>(
          "select @@datadir as datadir, @@socket as socket, @@pid_file as pidFile, @@character_set_server as charset, @@time_zone as zone",
        );
        expect(server).toEqual({
          datadir: `${join(home, "data")}/`,
          socket: join(home, "mariadbd.sock"),
          pidFile: join(home, "mariadbd.pid"),
          charset: "utf8mb4",
          zone: "+00:00",
        });
        await connection.query("create table kept (id int primary key)");
        await connection.query("insert into kept values (1), (2)");
      } finally {
        await connection.end();
      }

      expect(JSON.parse(ingest(["--json", "stack", "down", "mariadb"], env).stdout)).toEqual({ stopped: ["mariadb"] });
      const down = JSON.parse(ingest(["--json", "stack", "status", "mariadb"], env).stdout);
      expect(down[0]).toMatchObject({ reachable: false, managedBy: "none" });

      const again = ingest(["--json", "stack", "up", "mariadb"], env);
      expect(again.status, again.stderr).toBe(0);
      connection = await mysql.createConnection({ ...login, database: "crm" });
      try {
        const [rows] = await connection.query<mysql.RowDataPacket[]>("select id from kept order by id");
        expect(rows.map((r) => r.id)).toEqual([1, 2]);
      } finally {
        await connection.end();
      }
    },
    300_000,
  );

  it("is part of this repository's stack; one the environment names is checked, never started", async () => {
    const listed = JSON.parse(ingest(["--json", "stack", "status"], env).stdout) as { name: string }[];
    expect(listed.map((s) => s.name)).toContain("mariadb");
    const elsewhere = await freePort();
    const external = { ...env, MARIADB_URL: `mysql://someone:not-this-one-5e1@127.0.0.1:${elsewhere}/crm` };
    const result = ingest(["stack", "up", "mariadb"], external);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      `mariadb is configured at mysql://127.0.0.1:${elsewhere}/crm by the environment but is not reachable there`,
    );
    expect(result.stderr).not.toContain("not-this-one-5e1");
    const [status] = JSON.parse(ingest(["--json", "stack", "status", "mariadb"], external).stdout);
    expect(status).toMatchObject({ reachable: false, managedBy: "external" });
  });
});
