import type { Command } from "commander";
import { requestRun, waitForRun } from "../engine/materialize.ts";
import { startWorker } from "../engine/worker.ts";
import { connectChroma } from "../resources/chroma.ts";
import { loadEmbedder } from "../resources/embedder.ts";
import { logger } from "../resources/logger.ts";
import { connectNeo4j } from "../resources/neo4j.ts";
import { createPool } from "../resources/postgres.ts";
import { settings } from "../resources/settings.ts";
import { seedSampleProducts } from "../samples/ec-products.ts";
import { stackUp } from "../stack/stack.ts";
import { globals, loadGraph, openMetadata } from "./context.ts";
import { describeService } from "./stack.ts";

export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description("bring the local stack up, load the sample data, materialise every asset and show what landed")
    .action(async (_options, command: Command) => {
      // The demo narrates on stdout; the workers' per-asset log lines would drown it.
      logger.level = process.env.LOG_LEVEL ?? "warn";
      console.log("1. the local stack");
      await stackUp([], (s) => console.log(`   ${describeService(s)}`));

      console.log("2. sample data");
      const shop = createPool(settings().shopDatabaseUrl);
      console.log(`   ${await seedSampleProducts(shop)} products in shop.products`);
      await shop.end();

      console.log("3. materialising every asset");
      const graph = await loadGraph(globals(command).definitions);
      const store = await openMetadata();
      const worker = await startWorker({ graph, pool: store.pool, concurrency: 2 });
      const runId = await requestRun(store.db, graph, { selection: "*", keys: graph.order });
      const { run, steps } = await waitForRun(store.db, runId);
      await worker.stop();
      await store.close();
      for (const step of steps) console.log(`   ${step.status.padEnd(9)} ${step.asset_key}${step.error ? `: ${step.error.split("\n")[0]}` : ""}`);
      if (run.status !== "succeeded") throw new Error(`run ${runId} ${run.status}`);

      console.log("4. what is in Neo4j");
      const neo4j = connectNeo4j();
      const { records } = await neo4j.executeQuery(
        "MATCH (p:Product) RETURN p.category AS category, count(*) AS n, collect(p.name)[0..2] AS examples ORDER BY n DESC, category",
      );
      for (const r of records) console.log(`   (:Product {category: ${JSON.stringify(r.get("category"))}}) × ${r.get("n")}  e.g. ${r.get("examples").join(", ")}`);
      await neo4j.close();

      console.log("5. what is in Chroma");
      const chroma = await connectChroma();
      const products = await chroma.collection("products");
      console.log(`   collection 'products': ${await products.count()} documents`);
      const embedder = await loadEmbedder();
      for (const question of ["wireless headphones", "something to cook with", "a gift for a small child"]) {
        const [vector] = await embedder.embed([question]);
        const result = await products.query({ queryEmbeddings: [vector!], nResults: 2, include: ["documents", "distances"] });
        const hits = result.ids[0]!.map((id, i) => `${id} (${(1 - result.distances[0]![i]!).toFixed(2)})`);
        console.log(`   "${question}" → ${hits.join(", ")}`);
      }
      await embedder.close();

      console.log(`\nrun ${runId} succeeded. The stack keeps running: \`npx ingest stack status\`, \`npx ingest stack down\`.`);
    });
}
