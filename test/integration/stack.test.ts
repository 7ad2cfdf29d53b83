import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localPorts, packageRoot, settings } from "../../resources/settings.ts";
import { stackUp } from "../../stack/stack.ts";

/** Runs the CLI as a user would, with its own state folder and ports. */
function ingest(args: string[], env: Record<string, string>) {
  const result = spawnSync(join(packageRoot, "node_modules", ".bin", "node"), [
    join(packageRoot, "cli", "main.ts"),
    ...args,
  ], {
    encoding: "utf8",
    env: { ...process.env, ...env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

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

/** The sockets `pid` has bound (TCP listening, UDP bound), as `address:port`, read from /proc. */
function boundSockets(pid: number): string[] {
  const inodes = new Set(
    readdirSync(`/proc/${pid}/fd`).map((fd) => {
      try {
        return /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
      } catch {
        return undefined; // closed while we looked
      }
    }).filter((inode) => inode !== undefined),
  );
  const ipv4 = (hex: string) => hex.match(/../g)!.reverse().map((byte) => parseInt(byte, 16)).join(".");
  const bound: string[] = [];
  for (const table of ["tcp", "tcp6", "udp", "udp6"]) {
    for (const line of readFileSync(`/proc/${pid}/net/${table}`, "utf8").trim().split("\n").slice(1)) {
      const [, local, , state, , , , , , inode] = line.trim().split(/\s+/);
      const [address, port] = local!.split(":");
      // 0A is LISTEN for TCP; 07 (CLOSE) is a bound, unconnected UDP socket.
      if (!inodes.has(inode!) || state !== (table.startsWith("tcp") ? "0A" : "07")) continue;
      bound.push(`${address!.length === 8 ? ipv4(address!) : `[${address}]`}:${parseInt(port!, 16)}`);
    }
  }
  return bound.sort();
}

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
