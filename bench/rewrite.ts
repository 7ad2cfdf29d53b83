import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createPool } from "../resources/postgres.ts";
import { packageRoot, settings } from "../resources/settings.ts";
import { generate } from "../samples/generate/index.ts";
import { startScratchSampleApis } from "../samples/apis/scratch.ts";
import { startThrowawayNeo4j } from "../stack/neo4j.ts";
import type { PipelineResult } from "./e2e-pipeline.ts";
import { type BenchResult, result } from "./report.ts";

const log = (message: string) => console.log(`rewrite: ${message}`);

function databaseUrl(base: string, name: string): string {
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

async function pipeline(env: NodeJS.ProcessEnv, selection: string): Promise<PipelineResult> {
  const out = join(mkdtempSync(join(tmpdir(), "ingest-rewrite-run-")), "result.json");
  const child = spawn(process.execPath, [join(packageRoot, "bench", "e2e-pipeline.ts"), selection, out], {
    env,
    stdio: "inherit",
  });
  try {
    const [code] = (await once(child, "exit")) as [number | null];
    if (code !== 0 || !existsSync(out)) throw new Error(`the pipeline process for '${selection}' exited with ${code}`);
    const run = JSON.parse(readFileSync(out, "utf8")) as PipelineResult;
    if (run.status !== "succeeded") {
      throw new Error(`run ${run.runId} ('${selection}') ${run.status}: ${run.error ?? ""}`);
    }
    return run;
  } finally {
    rmSync(dirname(out), { recursive: true, force: true });
  }
}

/**
 * The incremental rewrite path at scale: `graph/CONTAINS` over about 1,000,000 order lines
 * (REWRITE_ORDERS orders, 3 lines each on average), then 1% of the lines moved to another product
 * (their end node changes) and `graph/CONTAINS` materialised again. The reference is the full load
 * of the same asset in the same run; the re-run's time is what a page of moved relationships costs.
 */
export async function rewriteBench(): Promise<BenchResult[]> {
  const orders = Number(process.env.REWRITE_ORDERS ?? 333_400);
  const base = settings().databaseUrl;
  const admin = createPool(base, 1);
  const sourcesDir = mkdtempSync(join(tmpdir(), "ingest-rewrite-sources-"));
  const names = ["ingest_bench_rewrite", "shop_bench_rewrite"];
  const server = await startThrowawayNeo4j();
  try {
    for (const name of names) {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.query(`create database ${name}`);
    }
    const shop = createPool(databaseUrl(base, "shop_bench_rewrite"));
    let apis: Awaited<ReturnType<typeof startScratchSampleApis>> | undefined;
    try {
      log(`generating ${orders.toLocaleString("en")} orders…`);
      await generate({ scale: orders, seed: 42, outDir: sourcesDir, shopPool: shop });
      const items = Number((await shop.query("select count(*) from shop.order_items")).rows[0].count);
      // graph/Product, upstream of CONTAINS, reads the products through the shop GraphQL API.
      apis = await startScratchSampleApis(sourcesDir, databaseUrl(base, "shop_bench_rewrite"));
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        ...apis.env,
        DATABASE_URL: databaseUrl(base, "ingest_bench_rewrite"),
        SHOP_DATABASE_URL: databaseUrl(base, "shop_bench_rewrite"),
        INGEST_SOURCES_DIR: sourcesDir,
        NEO4J_URI: server.uri,
        NEO4J_USER: server.user,
        NEO4J_PASSWORD: server.password,
        LOG_LEVEL: "warn",
      };
      for (const name of ["DATABASE_URL_FILE", "SHOP_DATABASE_URL_FILE", "NEO4J_PASSWORD_FILE"]) delete env[name];
      const seconds = (run: PipelineResult) => run.assets.find((a) => a.key === "graph/CONTAINS")!;
      const full = seconds(await pipeline(env, "+graph/CONTAINS"));
      log(`full load: ${full.seconds.toFixed(1)} s, ${JSON.stringify(full.counts)}`);
      // 1% of the lines, spread over all orders, move to another product of the catalogue.
      const moved = await shop.query(`
        with p as (select product_id, (row_number() over (order by product_id))::int - 1 as i, (count(*) over ())::int as n from shop.products)
        update shop.order_items oi set product_id = p.product_id from p
        where abs(hashtext(oi.order_id || ':' || oi.line_no)) % 100 = 0 and p.i = abs(hashtext(oi.order_id || '/' || oi.line_no)) % p.n
          and p.product_id is distinct from oi.product_id`);
      const rerun = seconds(await pipeline(env, "ec/order_items graph/CONTAINS"));
      log(`re-run with ${moved.rowCount} lines moved: ${rerun.seconds.toFixed(1)} s, ${JSON.stringify(rerun.counts)}`);
      const notes =
        `${items} order lines of ${orders} orders; ${moved.rowCount} lines (1%) moved to another product; counts full ${
          JSON.stringify(full.counts)
        }, re-run ${JSON.stringify(rerun.counts)}`;
      return [
        result(
          "graph/CONTAINS re-run with 1% of lines moved, against its full load",
          rerun.seconds,
          full.seconds,
          "s",
          "<= 0.2",
          notes,
        ),
      ];
    } finally {
      await apis?.close();
      await shop.end();
    }
  } finally {
    await server.stop();
    for (const name of names) await admin.query(`drop database if exists ${name} with (force)`).catch(() => {});
    await admin.end();
    rmSync(sourcesDir, { recursive: true, force: true });
  }
}
