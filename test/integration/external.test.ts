import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { waitForRun } from "../../engine/runs.ts";
import { prepareDatabase } from "../../engine/worker.ts";
import { createPool, metadataDb, type pg } from "../../resources/postgres.ts";
import { packageRoot, settings } from "../../resources/settings.ts";

const node = join(packageRoot, "node_modules", ".bin", "node");
const cli = join(packageRoot, "cli", "main.ts");
const project = mkdtempSync(join(tmpdir(), "ingest-user-project-"));
const prefix = `ext_${Date.now().toString(36)}`;
let pool: pg.Pool;
let worker: ChildProcess | undefined;

/** A user's own repository: its definitions import the framework by package name. */
beforeAll(async () => {
  mkdirSync(join(project, "node_modules"));
  symlinkSync(packageRoot, join(project, "node_modules", "ingest-graph"));
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "my-pipeline", type: "module", private: true }));
  writeFileSync(
    join(project, "definitions.ts"),
    `import { defineAsset, defineDefinitions } from "ingest-graph";

const orders = defineAsset({
  key: "${prefix}/orders",
  codeVersion: "1",
  materialize: async () => ({ counts: { loaded: 3 }, dataVersion: "orders-v1" }),
});
const revenue = defineAsset({
  key: "${prefix}/revenue",
  deps: [orders.key],
  codeVersion: "1",
  materialize: async ({ upstreamVersions }) => ({ metadata: { from: upstreamVersions["${prefix}/orders"] } }),
});
export default defineDefinitions({ assets: [orders, revenue], resources: {} });
`,
  );
  pool = createPool(settings().databaseUrl);
  await prepareDatabase(pool);
});

afterAll(async () => {
  worker?.kill("SIGKILL");
  await pool.end();
  rmSync(project, { recursive: true, force: true });
});

const ingest = (...args: string[]) =>
  spawnSync(node, [cli, "--definitions", join(project, "definitions.ts"), "--json", ...args], { encoding: "utf8" });

it("runs another repository's definitions, executed by a worker in another process, in the run's trace", async () => {
  const requested = ingest("materialize", "*");
  expect(requested.status, requested.stderr).toBe(0);
  const { runId } = JSON.parse(requested.stdout) as { runId: string };

  worker = spawn(node, [cli, "--definitions", join(project, "definitions.ts"), "worker", "--concurrency", "2"], {
    stdio: "ignore",
  });
  const db = metadataDb(pool);
  const { run, steps } = await waitForRun(db, runId);
  expect(run.status).toBe("succeeded");
  expect(steps.map((s) => s.assetKey)).toEqual([`${prefix}/orders`, `${prefix}/revenue`]);

  // The run's trace continues in the worker process: each materialisation is recorded under it.
  const traceId = run.traceparent!.split("-")[1];
  const rows = await db.selectFrom("ingest.materializations").select(["asset_key", "trace_id", "metadata"]).where(
    "run_id",
    "=",
    runId,
  ).orderBy("id").execute();
  expect(rows.map((r) => [r.asset_key, r.trace_id])).toEqual([
    [`${prefix}/orders`, traceId],
    [`${prefix}/revenue`, traceId],
  ]);
  expect(rows[1]!.metadata).toEqual({ from: "orders-v1" });

  const status = JSON.parse(ingest("status").stdout) as { assetKey: string; state: string }[];
  expect(status.map((s) => [s.assetKey, s.state])).toEqual([
    [`${prefix}/orders`, "fresh"],
    [`${prefix}/revenue`, "fresh"],
  ]);

  const exited = new Promise<number | null>((resolve) => worker!.once("exit", (code) => resolve(code)));
  worker.kill("SIGTERM");
  expect(await exited).toBe(0);
});
