import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { createPool } from "../resources/postgres.ts";
import { settings } from "../resources/settings.ts";
import { runningPid } from "../resources/local-services.ts";
import { startCrmApi } from "../samples/crm-api.ts";
import { startScratchSampleApis } from "../samples/apis/scratch.ts";
import { generate } from "../samples/generate/index.ts";
import { databaseUrl, neo4jEnv, pipeline, Scratch, withNeo4j } from "./e2e.ts";
import { type BenchResult, result } from "./report.ts";
import { scratchMongoDatabase } from "./scratch-mongo.ts";
import { scratchMysqlDatabase } from "./sources-mariadb.ts";

/**
 * What tracing costs: the e2e pipeline (staging and graph, no collections) at TRACING_SCALE orders
 * (default 100,000), once with spans exported over OTLP to the stack's Jaeger and once without an
 * exporter, each on a fresh metadata database and a fresh Neo4j, the two side by side in one run
 * (which goes first alternates from run to run); and how many spans the traced run made, read back from Jaeger.
 */
export async function tracingBench(): Promise<BenchResult[]> {
  if (runningPid("jaeger") === undefined) throw new Error("the stack's Jaeger must run: ingest stack up jaeger");
  const scale = Number(process.env.TRACING_SCALE ?? 100_000);
  const scratch = new Scratch();
  try {
    const base = settings().databaseUrl;
    const admin = scratch.add(createPool(base, 1), (pool) => pool.end());
    const fresh = async (name: string) => {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.query(`create database ${name}`);
      scratch.add(name, (n) => admin.query(`drop database if exists ${n} with (force)`));
      return databaseUrl(base, name);
    };
    const sourcesDir = scratch.folder("ingest-tracing-sources-");
    const shopUrl = await fresh("shop_tracing_bench");
    const shopPool = createPool(shopUrl);
    const crmDatabase = scratch.add(await scratchMysqlDatabase("crm_tracing_bench"), (database) => database.drop());
    const catalog = scratch.add(await scratchMongoDatabase("catalog_tracing_bench"), (database) => database.drop());
    await generate({
      scale,
      seed: 42,
      outDir: sourcesDir,
      shopPool,
      crmDatabase: crmDatabase.pool,
      catalog: catalog.db,
    })
      .finally(() => shopPool.end());
    const crm = { clientId: "ingest-tracing", clientSecret: randomBytes(18).toString("base64url") };
    const crmApi = scratch.add(
      await startCrmApi({ dataDir: join(sourcesDir, "crm", "api"), ...crm, requestsPerSecond: 10_000 }),
      (api) => api.close(),
    );
    const apis = scratch.add(await startScratchSampleApis(sourcesDir, shopUrl), (a) => a.close());
    const common: NodeJS.ProcessEnv = {
      ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("OTEL_"))),
      ...apis.env,
      SHOP_DATABASE_URL: shopUrl,
      MARIADB_URL: crmDatabase.url,
      MONGODB_URL: catalog.url,
      INGEST_SOURCES_DIR: sourcesDir,
      CRM_API_URL: crmApi.url,
      CRM_CLIENT_ID: crm.clientId,
      CRM_CLIENT_SECRET: crm.clientSecret,
      CHROMA_URL: "http://127.0.0.1:9",
      // A state folder without the stack's pid files: the untraced run must not find the stack's Jaeger.
      INGEST_STATE_DIR: scratch.folder("ingest-tracing-state-"),
      OTEL_SERVICE_NAME: "ingest-tracing-bench",
    };
    const run = async (traced: boolean) => {
      const env = {
        ...common,
        DATABASE_URL: await fresh(traced ? "ingest_tracing_on" : "ingest_tracing_off"),
        ...(traced && { OTEL_EXPORTER_OTLP_ENDPOINT: settings().jaeger.otlpEndpoint }),
      };
      return await withNeo4j((server) => pipeline({ ...env, ...neo4jEnv(server) }, "not group:vectors"));
    };
    // Which variant goes first alternates from run to run (BENCH_RUN_INDEX), so neither always gets the warmer machine.
    const offFirst = Number(process.env.BENCH_RUN_INDEX ?? 1) % 2 === 1;
    const first = await run(!offFirst);
    const second = await run(offFirst);
    const [off, on] = offFirst ? [first, second] : [second, first];
    // The traced run's spans, as Jaeger holds them (the exporter flushed before its process exited).
    const pool = createPool(databaseUrl(base, "ingest_tracing_on"), 1);
    const { rows } = await pool.query<{ traceparent: string }>("select traceparent from ingest.runs where id = $1", [
      on.runId,
    ]);
    await pool.end();
    const traceId = rows[0]!.traceparent.split("-")[1]!;
    const response = await fetch(`${settings().jaeger.queryUrl}/api/traces/${traceId}`);
    const spans = response.ok ? ((await response.json()) as { data: { spans: unknown[] }[] }).data[0]!.spans.length : 0;
    const records = on.assets.reduce((sum, a) => sum + (a.counts.extracted ?? 0), 0);
    const notes = `Scale ${
      scale.toLocaleString("en")
    } orders, seed 42; the staging and graph assets ('not group:vectors') in a child process, worker concurrency 2, each variant on a fresh metadata database and a fresh Neo4j, both in one run, which goes first alternating from run to run.`;
    return [
      result(
        "tracing: CPU time of the pipeline process with spans exported to Jaeger vs without an exporter",
        on.cpuSeconds,
        off.cpuSeconds,
        "s",
        "<= 1.05",
        `${notes} What tracing adds is work in the pipeline's process (spans, their attributes, OTLP export); its CPU time is what the servers' noise on this VM does not blur.`,
      ),
      result(
        "tracing: e2e wall time with spans exported to Jaeger vs without an exporter",
        on.wallSeconds,
        off.wallSeconds,
        "s",
        "<= 1.05",
        notes,
      ),
      result(
        "tracing: spans in the traced run's trace (bounded: a span per page or batch, never per record)",
        spans,
        null,
        "spans",
        `<= ${Math.ceil(records / 100)}`,
        `${notes} ${records.toLocaleString("en")} records extracted; the target is one span per 100 records at most.`,
      ),
    ];
  } finally {
    await scratch.cleanUp();
  }
}
