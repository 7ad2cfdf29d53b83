import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packageRoot, settings } from "../../resources/settings.ts";

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
