import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { deadLetterCounts } from "../engine/dead-letters.ts";
import { runInProcess } from "../engine/runs.ts";
import { connectChroma } from "../connectors/chroma/index.ts";
import { mariadbResource } from "../connectors/mariadb/index.ts";
import { connectMongo } from "../connectors/mongodb/index.ts";
import { loadEmbedder } from "../resources/embedder.ts";
import { logger } from "../resources/logger.ts";
import { connectNeo4j, type Driver } from "../connectors/neo4j/index.ts";
import { createPool } from "../resources/postgres.ts";
import { settings, sourcesDir } from "../resources/settings.ts";
import { generate } from "../samples/generate/index.ts";
import { stackUp } from "../stack/stack.ts";
import type { AssetGraph } from "../engine/asset-graph.ts";
import { globals, loadGraph, openMetadata } from "./context.ts";
import { describeService } from "./stack.ts";

const collections = ["products", "reviews", "chat_messages", "crm_notes"];

/** Generates the samples unless the same scale and seed are already there. */
async function ensureSamples(scale: number, seed: number): Promise<void> {
  const reportFile = join(sourcesDir, "report.json");
  if (existsSync(reportFile)) {
    const report = JSON.parse(readFileSync(reportFile, "utf8")) as { scale: number; seed: number };
    if (report.scale === scale && report.seed === seed) {
      console.log(`   scale ${scale}, seed ${seed} already generated (${reportFile})`);
      return;
    }
  }
  const shopPool = createPool(settings().shopDatabaseUrl);
  const crmDatabase = await Promise.resolve(mariadbResource().setup()).catch(async (error: unknown) => {
    await shopPool.end();
    throw error;
  });
  const catalog = await connectMongo();
  try {
    const report = await generate({ scale, seed, outDir: sourcesDir, shopPool, crmDatabase, catalog });
    console.log(
      `   scale ${scale}, seed ${seed}: ${report.entities.orders.generated} orders, ${report.entities.contacts.generated} CRM contacts, ${report.entities.conversations.generated} chat conversations`,
    );
  } finally {
    await shopPool.end();
    await crmDatabase.end();
    await catalog.client.close();
  }
}

async function printGraph(neo4j: Driver): Promise<void> {
  const labels = await neo4j.executeQuery("MATCH (n) RETURN labels(n)[0] AS label, count(*) AS n ORDER BY label");
  console.log(`   nodes:         ${labels.records.map((r) => `${r.get("label")} ${r.get("n")}`).join(", ")}`);
  const types = await neo4j.executeQuery("MATCH ()-[r]->() RETURN type(r) AS type, count(*) AS n ORDER BY type");
  console.log(`   relationships: ${types.records.map((r) => `${r.get("type")} ${r.get("n")}`).join(", ")}`);
}

/**
 * Step 3: whatever is stale, with a worker in this process (everything the first time, every
 * partition of a partitioned asset included); what is dead-lettered now.
 */
async function materializeStale(graph: AssetGraph) {
  await using store = await openMetadata();
  const { run, steps } = await runInProcess(store.pool, graph, {
    selection: "*",
    keys: graph.order,
    staleOnly: true,
  }, { concurrency: 2 });
  const failed = steps.filter((s) => s.status !== "succeeded" && s.status !== "fresh");
  const fresh = steps.filter((s) => s.status === "fresh").length;
  console.log(
    steps.length === 0
      ? "   nothing is stale: every asset is up to date with its sources"
      : `   run ${run.id} ${run.status}: ${steps.length - failed.length - fresh} steps materialised${
        fresh ? `, ${fresh} found fresh` : ""
      }${failed.length ? `, ${failed.length} not` : ""}`,
  );
  for (const step of failed) {
    console.log(`   ${step.status} ${step.stepKey}${step.error ? `: ${step.error.split("\n")[0]}` : ""}`);
  }
  if (run.status !== "succeeded") throw new Error(`run ${run.id} ${run.status}`);
  return { letters: await deadLetterCounts(store.db) };
}

/** `ingest demo` (`npm run demo`). */
export async function demo(options: { scale: number; seed: number }, command: Command): Promise<void> {
  // The demo narrates on stdout; the workers' per-asset log lines would drown it.
  logger.level = process.env.LOG_LEVEL ?? "warn";
  console.log("1. the local stack");
  await stackUp([], (s) => console.log(`   ${describeService(s)}`));

  console.log(
    "2. sample data: e-commerce in Postgres, CRM behind its REST API, in MariaDB and in CSV/Excel exports, chat in JSON Lines",
  );
  await ensureSamples(options.scale, options.seed);

  console.log("3. materialising what is stale (everything, the first time)");
  const graph = await loadGraph(globals(command).definitions);
  const { letters } = await materializeStale(graph);

  console.log("4. what landed");
  const neo4j = connectNeo4j();
  const chroma = await connectChroma();
  await printGraph(neo4j);
  const sizes = await Promise.all(
    collections.map(async (name) => `${name} ${await (await chroma.collection(name)).count()}`),
  );
  console.log(`   collections:   ${sizes.join(", ")}`);
  console.log(
    `   dead letters:  ${
      letters.map((l) => `${l.assetKey} ${l.reason} ${l.count}`).join(", ") || "none"
    }  (npx ingest dead-letters)`,
  );

  console.log("5. three questions");
  console.log("   a) who bought a product and then opened a support chat about it? (graph)");
  const bought = await neo4j.executeQuery(
    `MATCH (p:Person)-[:IS]->(c:Customer)-[:PLACED]->(:Order)-[:CONTAINS]->(product:Product),
           (p)-[:STARTED]->(s:ChatSession {productId: product.productId})
     RETURN DISTINCT p.email AS email, product.name AS product, s.sessionId AS session ORDER BY email LIMIT 5`,
  );
  for (const r of bought.records) {
    console.log(`      ${r.get("email")} bought "${r.get("product")}" and chatted about it in ${r.get("session")}`);
  }

  console.log('   b) reviews most like "battery died after a week" (vectors)');
  const embedder = await loadEmbedder();
  const [query] = await embedder.embed(["battery died after a week"]);
  await embedder.close();
  const hits = await (await chroma.collection("reviews")).query({
    queryEmbeddings: [query!],
    nResults: 3,
    include: ["documents", "metadatas", "distances"],
  });
  const reviewIds = hits.ids[0]!;
  reviewIds.forEach((id, i) =>
    console.log(
      `      ${id} (${(1 - hits.distances[0]![i]!).toFixed(2)}, ${hits.metadatas[0]![i]?.rating}★) ${
        hits.documents[0]![i]?.slice(0, 90)
      }`,
    )
  );

  console.log("   c) the graph around those reviews (vectors, then graph)");
  const around = await neo4j.executeQuery(
    `MATCH (c:Customer)-[:WROTE]->(r:Review)-[:REVIEWS]->(product:Product)-[:IN_CATEGORY]->(category:Category)
     WHERE r.reviewId IN $ids
     OPTIONAL MATCH (c)<-[:IS]-(:Person)-[:STARTED]->(s:ChatSession)
     RETURN r.reviewId AS review, c.email AS customer, product.name AS product, category.name AS category, count(s) AS chats`,
    { ids: reviewIds },
  );
  for (const r of around.records) {
    console.log(
      `      ${r.get("review")}: ${r.get("customer")} on "${r.get("product")}" (${r.get("category")}), ${
        r.get("chats")
      } support chat(s)`,
    );
  }
  await neo4j.close();

  console.log("6. the UI");
  if (globals(command).definitions) process.env.INGEST_DEFINITIONS = globals(command).definitions;
  const [ui] = await stackUp(["ui"], () => {});
  console.log(`   the asset graph, runs, lineage and dead letters at ${ui!.location} (with a worker: its buttons run)`);

  console.log(
    `\nThe stack and the UI keep running: open ${
      ui!.location
    }, or \`npx ingest status\`, \`npx ingest lineage --node Product:<id>\`; \`npx ingest stack down\` stops them.`,
  );
}
