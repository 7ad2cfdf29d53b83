import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metadataDb } from "../../resources/postgres.ts";
import { createPool, type pg } from "../../resources/postgres.ts";
import { packageRoot, settings, stateDir } from "../../resources/settings.ts";
import { runningPid } from "../../resources/local-services.ts";
import { waitForRun } from "../../engine/runs.ts";
import { exitOf, type Started, startUntil } from "../processes.ts";

/**
 * A run traced into the stack's Jaeger (test setup starts it) as an operator reads it back through
 * Jaeger's query API: requested by the CLI, executed by two worker processes (one on Node, one on
 * Deno), one asset retried and one failing. Nothing tells the processes where to send spans: the stack's Jaeger runs, so they
 * export to it. The span tree is one trace with its parents across processes, counts equal to what
 * the metadata store recorded, database spans named by OpenTelemetry's conventions, errors marked.
 */
const node = join(packageRoot, "node_modules", ".bin", "node");
const deno = join(packageRoot, "node_modules", ".bin", "deno");
const cli = join(packageRoot, "bin", "ingest.js");
const project = mkdtempSync(join(tmpdir(), "ingest-tracing-project-"));
const database = "ingest_tracing_test";
const prefix = `tr_${process.pid}`;
let admin: pg.Pool;
let env: NodeJS.ProcessEnv;
const workers: Started[] = [];

interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: { refType: string; spanID: string; traceID: string }[];
  tags: { key: string; value: unknown }[];
  logs: { fields: { key: string; value: unknown }[] }[];
  processID: string;
}
interface JaegerTrace {
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string; tags: { key: string; value: unknown }[] }>;
}

const tag = (span: JaegerSpan, key: string) => span.tags.find((t) => t.key === key)?.value;
const parentOf = (span: JaegerSpan) => span.references.find((r) => r.refType === "CHILD_OF")?.spanID;

beforeAll(async () => {
  expect(runningPid("jaeger"), "the test setup starts the stack's Jaeger").toBeDefined();
  mkdirSync(join(project, "node_modules"));
  symlinkSync(packageRoot, join(project, "node_modules", "ingest-graph"));
  symlinkSync(join(packageRoot, "node_modules", "zod"), join(project, "node_modules", "zod"));
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "tracing-project", type: "module" }));
  writeFileSync(join(project, "books.csv"), "isbn,title\n1,Dune\n2,Emma\n,Nameless\n3,Ulysses\n");
  writeFileSync(
    join(project, "definitions.ts"),
    `import { setTimeout as sleep } from "node:timers/promises";
import { defineAsset, defineDefinitions, defineNodeAsset, defineStagedAsset, neo4jResource, readCsv, stagingResource } from "ingest-graph";
import { z } from "zod";

const books = defineStagedAsset({
  key: "${prefix}/books", table: "${prefix}_books", source: "books.csv", codeVersion: "1",
  model: z.object({ isbn: z.string().min(1), title: z.string() }),
  sourceKey: (b) => b.isbn, rawKey: (row) => row.isbn,
  extract: () => readCsv(${JSON.stringify(join(project, "books.csv"))}),
});
const bookNodes = defineNodeAsset({
  key: "${prefix}/Book", codeVersion: "1", label: "${prefix.replace(/\W/g, "")}Book", keyProperty: "isbn",
  from: books, properties: (b) => ({ ...b }),
});
// Slow enough that the two workers share the run's steps.
const slow = (key: string) => defineAsset({ key, codeVersion: "1", async materialize() {
  await sleep(1_500);
  return { counts: { checked: 1 } };
} });
const flaky = defineAsset({
  key: "${prefix}/flaky", codeVersion: "1", retry: { maxAttempts: 2, initialDelayMs: 100 },
  async materialize({ runId }) {
    const marker = ${JSON.stringify(join(project, "flaky-"))} + runId;
    const fs = await import("node:fs");
    if (!fs.existsSync(marker)) {
      fs.writeFileSync(marker, "");
      throw new Error("the first attempt fails");
    }
    return { counts: { checked: 2 } };
  },
});
const broken = defineAsset({
  key: "${prefix}/broken", codeVersion: "1", retry: { maxAttempts: 1 },
  async materialize() { throw new Error("the source answered 503"); },
});
export default defineDefinitions({
  assets: [books, bookNodes, slow("${prefix}/slow_a"), slow("${prefix}/slow_b"), flaky, broken],
  resources: { staging: stagingResource(), neo4j: neo4jResource() },
});
`,
  );
  admin = createPool(settings().databaseUrl, 1);
  await admin.query(`drop database if exists ${database} with (force)`);
  await admin.query(`create database ${database}`);
  const url = new URL(settings().databaseUrl);
  url.pathname = `/${database}`;
  env = {
    ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("OTEL_"))),
    DATABASE_URL: url.toString(),
    LOG_LEVEL: "info",
    INGEST_PROJECT_DIR: project,
    // The stack's state, so the processes find the stack's Neo4j and Jaeger as a user's would.
    INGEST_STATE_DIR: stateDir,
    OTEL_SERVICE_NAME: `ingest-${prefix}`,
  };
  delete env.INGEST_DEFINITIONS;
  // One worker on Node, one on Deno: the same sources trace the same way on both.
  for (const runtime of [node, `${deno} run -A`]) {
    workers.push(
      await startUntil(`exec ${runtime} ${cli} worker --concurrency 1`, { cwd: project, env, ready: /worker started/ }),
    );
  }
});

afterAll(async () => {
  for (const worker of workers) worker.child.kill("SIGTERM");
  for (const worker of workers) await exitOf(worker.child);
  await admin.query(`drop database if exists ${database} with (force)`);
  await admin.end();
  rmSync(project, { recursive: true, force: true });
});

async function traceFromJaeger(traceId: string, spansAtLeast: number): Promise<JaegerTrace> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const response = await fetch(`${settings().jaeger.queryUrl}/api/traces/${traceId}`);
    if (response.ok) {
      const { data } = await response.json() as { data: JaegerTrace[] };
      if (data[0] && data[0].spans.length >= spansAtLeast) return data[0];
    }
    if (Date.now() > deadline) {
      throw new Error(`trace ${traceId}: fewer than ${spansAtLeast} spans in Jaeger after 60 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

describe("a run's trace in Jaeger", () => {
  it("is one trace from the CLI's request through every step on two workers, with counts, retries and failures", async () => {
    const requested = spawnSync(node, [cli, "--json", "materialize", "*"], { cwd: project, env, encoding: "utf8" });
    expect(requested.status, requested.stderr).toBe(0);
    const { runId } = JSON.parse(requested.stdout) as { runId: string };
    const pool = createPool(env.DATABASE_URL!, 2);
    try {
      const db = metadataDb(pool);
      const { run } = await waitForRun(db, runId);
      expect(run.status).toBe("failed");
      const traceId = run.traceparent!.split("-")[1]!;
      const materializations = await db.selectFrom("ingest.materializations").select([
        "asset_key",
        "status",
        "counts",
        "attempt",
      ]).where("run_id", "=", runId).execute();
      // run + 7 materialisation attempts (books, Book, two slow, flaky twice, broken) and their database spans.
      const trace = await traceFromJaeger(traceId, 12);

      expect(new Set(trace.spans.map((s) => s.traceID))).toEqual(new Set([traceId]));
      const root = trace.spans.find((s) => s.operationName === "run *")!;
      expect(parentOf(root)).toBeUndefined();
      expect(tag(root, "ingest.run")).toBe(runId);
      const steps = trace.spans.filter((s) => s.operationName.startsWith("materialize "));
      expect(steps.map((s) => s.operationName).sort()).toEqual(
        ["books", "Book", "slow_a", "slow_b", "flaky", "flaky", "broken"].map((k) => `materialize ${prefix}/${k}`)
          .sort(),
      );
      for (const step of steps) expect(parentOf(step), step.operationName).toBe(root.spanID);
      // The request in the CLI's process, the steps in the two workers'.
      const pidOf = (span: JaegerSpan) =>
        trace.processes[span.processID]!.tags.find((t) => t.key === "process.pid")?.value;
      const workerPids = new Set(steps.map(pidOf));
      expect(workerPids.size).toBe(2);
      expect(workerPids.has(pidOf(root))).toBe(false);
      expect(trace.processes[root.processID]!.serviceName).toBe(`ingest-${prefix}`);

      // Counts on each succeeded step's span are what the store recorded.
      for (const m of materializations.filter((m) => m.status === "succeeded")) {
        const span = steps.find((s) =>
          s.operationName === `materialize ${m.asset_key}` && tag(s, "ingest.attempt") === m.attempt
        )!;
        for (const [name, n] of Object.entries(m.counts)) expect(tag(span, `ingest.counts.${name}`), name).toBe(n);
      }
      // The retried attempt and the failure: error status with the exception.
      const flaky = steps.filter((s) => s.operationName === `materialize ${prefix}/flaky`)
        .sort((a, b) => Number(tag(a, "ingest.attempt")) - Number(tag(b, "ingest.attempt")));
      expect(flaky.map((s) => tag(s, "error") === true)).toEqual([true, false]);
      const broken = steps.find((s) => s.operationName === `materialize ${prefix}/broken`)!;
      expect(tag(broken, "error")).toBe(true);
      expect(JSON.stringify(broken.logs)).toContain("the source answered 503");

      // Inside a materialisation: the extract and the staging merge, the graph write, in the conventions' words.
      const books = steps.find((s) => s.operationName === `materialize ${prefix}/books`)!;
      const extract = trace.spans.find((s) => s.operationName === "extract books.csv")!;
      expect(parentOf(extract)).toBe(books.spanID);
      expect([tag(extract, "ingest.records.extracted"), tag(extract, "ingest.records.dead_lettered")]).toEqual([4, 1]);
      const stage = trace.spans.find((s) => s.operationName === `MERGE staging.${prefix}_books`)!;
      expect(parentOf(stage)).toBe(books.spanID);
      expect([tag(stage, "db.system.name"), tag(stage, "ingest.records.written")]).toEqual(["postgresql", 3]);
      const label = `${prefix.replace(/\W/g, "")}Book`;
      const write = trace.spans.find((s) => s.operationName === `MERGE ${label}`)!;
      expect(parentOf(write)).toBe(steps.find((s) => s.operationName === `materialize ${prefix}/Book`)!.spanID);
      expect({
        system: tag(write, "db.system.name"),
        operation: tag(write, "db.operation.name"),
        collection: tag(write, "db.collection.name"),
        batch: tag(write, "db.operation.batch.size"),
        address: tag(write, "server.address"),
        port: tag(write, "server.port"),
      }).toEqual({
        system: "neo4j",
        operation: "MERGE",
        collection: label,
        batch: 3,
        address: "127.0.0.1",
        port: new URL(settings().neo4j.uri).port ? Number(new URL(settings().neo4j.uri).port) : undefined,
      });

      // `ingest runs show` says where the trace is.
      const shown = spawnSync(node, [cli, "runs", "show", runId], { cwd: project, env, encoding: "utf8" });
      expect(shown.stdout).toContain(`trace ${traceId}  ${settings().jaeger.queryUrl}/api/traces/${traceId}`);
    } finally {
      await pool.end();
    }
  });
});
