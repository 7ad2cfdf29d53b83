import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { defineAsset } from "../engine/asset.ts";
import { type AssetGraph, buildAssetGraph } from "../engine/asset-graph.ts";
import type { Definitions } from "../engine/definitions.ts";
import { prepareDatabase } from "../engine/worker.ts";
import { createPool, metadataDb, type pg } from "../resources/postgres.ts";
import { settings } from "../resources/settings.ts";
import { openBrowser } from "../test/browser.ts";
import { startUi } from "../ui/server.ts";
import { ensureWebBuilt } from "../ui/web-build.ts";
import { layeredEdges } from "./engine.ts";
import { type BenchResult, result } from "./report.ts";

/**
 * How fast the asset graph appears, in Debian's headless Chromium: from navigation to every visible asset
 * drawn in its state, at 50, 500 and 5,000 generated assets (layered, groups of 100, each reading up to
 * three of the layer before), every one materialised once and a tenth of the sources materialised again
 * since, so that what reads them is stale with its cause. Cold: the first visit to a server just started
 * on assets it never laid out (the layout is computed as it starts, in a worker thread, then kept in the
 * state folder); warm: the next visit. Then how long a click on an asset takes to show its panel.
 */
const sizes = [50, 500, 5000];
const target = "< 2000";

export function generatedGraph(count: number): AssetGraph<Definitions> {
  const width = Math.max(5, Math.round(Math.sqrt(count)));
  const key = (i: number) => `g${String(Math.floor(i / 100)).padStart(2, "0")}/n${i}`;
  const assets = [...layeredEdges(count, width, 3)].map(([i, deps]) =>
    defineAsset({ key: key(i), deps: deps.map(key), codeVersion: "1", materialize: async () => ({}) })
  );
  return buildAssetGraph({ assets, resources: {} }) as AssetGraph<Definitions>;
}

/** Every asset materialised once, in order, with its lineage; then a tenth of the sources again, to a new version. */
export async function recordHistory(pool: pg.Pool, graph: AssetGraph): Promise<void> {
  const db = metadataDb(pool);
  await sql`insert into ingest.runs (id, selection, status, tags) values ('bench', '*', 'succeeded', '{}')`.execute(db);
  const rows = graph.order.map((key) => ({ key, deps: graph.byKey.get(key)!.deps }));
  await sql`
    with input as (
      select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(key text, deps text[])
    ), inserted as (
      insert into ingest.materializations (run_id, asset_key, partition_key, status, code_version, data_version,
        dependencies, upstream_versions, counts, metadata, attempt, started_at, finished_at, duration_ms)
      select 'bench', key, '', 'succeeded', '1', 'v1', deps,
        (select coalesce(jsonb_object_agg(d, 'v1'), '{}') from unnest(deps) d), '{"written": 10}', '{}', 1,
        now() - interval '1 hour', now() - interval '1 hour', 5
      from input order by key
      returning id, asset_key, dependencies
    )
    insert into ingest.lineage_edges (materialization_id, upstream_asset, upstream_partition,
      upstream_materialization_id, upstream_data_version)
    select i.id, d, '', null, 'v1' from inserted i, unnest(i.dependencies) d`.execute(db);
  await sql`update ingest.lineage_edges e set upstream_materialization_id = m.id
    from ingest.materializations m where m.asset_key = e.upstream_asset`.execute(db);
  const sources = graph.order.filter((key) => graph.byKey.get(key)!.deps.length === 0).filter((_, i) => i % 10 === 0);
  await sql`insert into ingest.materializations (run_id, asset_key, partition_key, status, code_version, data_version,
      dependencies, upstream_versions, counts, metadata, attempt, started_at, finished_at, duration_ms)
    select 'bench', key, '', 'succeeded', '1', 'v2', '{}', '{}', '{"written": 3}', '{}', 1, now(), now(), 5
    from unnest(${sources}::text[]) key`.execute(db);
}

export async function uiBench(): Promise<BenchResult[]> {
  const webRoot = await ensureWebBuilt();
  const admin = createPool(settings().databaseUrl, 1);
  const results: BenchResult[] = [];
  await using browser = await openBrowser({ width: 1440, height: 900 });
  try {
    for (const count of sizes) {
      const name = `ingest_ui_bench_${count}`;
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.query(`create database ${name}`);
      const url = new URL(settings().databaseUrl);
      url.pathname = `/${name}`;
      const pool = createPool(url.toString(), 10);
      const layoutFolder = mkdtempSync(join(tmpdir(), "ingest-ui-bench-"));
      try {
        await prepareDatabase(pool);
        const graph = generatedGraph(count);
        await recordHistory(pool, graph);
        await using ui = await startUi({ graph, pool, port: 0, webRoot, layoutFolder });
        const visit = async () => {
          const page = await browser.newPage();
          await page.goto(ui.url);
          // Set by the graph page (ui/web/src/graph.tsx) once every visible asset is drawn in its state.
          const renderedAt = () => (globalThis as { __graphRenderedAt?: number }).__graphRenderedAt;
          await page.waitForFunction(renderedAt, undefined, { timeout: 120_000 });
          const rendered = (await page.evaluate(renderedAt))!;
          const shown = Number(await page.locator("svg.graph").getAttribute("data-shown"));
          const stale = await page.locator("svg.graph [data-state=stale]").count();
          // Interactive: a click on an asset answers with its panel.
          const clicked = await page.evaluate(() => performance.now());
          await page.locator("svg.graph [data-key]").first().click();
          await page.locator(".panel").waitFor();
          const answered = await page.evaluate(() => performance.now());
          await page.close();
          return { rendered, shown, stale, click: answered - clicked };
        };
        const cold = await visit();
        const { computedMs } = await (await fetch(`${ui.url}/api/layout`)).json() as { computedMs: number };
        const warm = await visit();
        const note = (v: typeof cold) =>
          `${v.shown} assets drawn in the viewport (${v.stale} of them stale), the rest culled; a click answered in ${
            v.click.toFixed(0)
          } ms`;
        results.push(
          result(
            `asset graph first render, ${count} assets, cold (server just started, layout never computed before)`,
            cold.rendered,
            null,
            "ms",
            target,
            `${
              note(cold)
            }; the layout took ${computedMs} ms in the server's worker thread, once per set of assets and edges`,
          ),
          result(
            `asset graph first render, ${count} assets, warm (layout computed)`,
            warm.rendered,
            null,
            "ms",
            target,
            note(warm),
          ),
        );
      } finally {
        await pool.end();
        await admin.query(`drop database if exists ${name} with (force)`);
        rmSync(layoutFolder, { recursive: true, force: true });
      }
    }
  } finally {
    await admin.end();
  }
  return results;
}
