import type { Command } from "commander";
import type { AssetGraph } from "../engine/asset-graph.ts";
import { lineageOf, renderLineage } from "../engine/lineage.ts";
import { connectChroma } from "../connectors/chroma/index.ts";
import { connectNeo4j } from "../connectors/neo4j/index.ts";
import { globals, loadGraph, openMetadata, output } from "./context.ts";

interface LineageOptions {
  partition?: string;
  node?: string;
  document?: string;
}

export interface RecordLineage {
  runId: string;
  assetKey: string;
  source: string;
  sourceKey: string;
  contentHash: string;
}

/** Which source record and which run produced a node: read from the node's lineage properties. */
async function nodeLineage(graph: AssetGraph, spec: string): Promise<RecordLineage> {
  const [label, ...rest] = spec.split(":");
  const key = rest.join(":");
  const asset = [...graph.byKey.values()].find((a) => a.target?.kind === "neo4j-nodes" && a.target.label === label);
  if (!asset || asset.target?.kind !== "neo4j-nodes" || !key) {
    throw new Error(`--node takes <Label>:<key> of a label some node asset writes; got '${spec}'`);
  }
  const driver = connectNeo4j();
  try {
    const { records } = await driver.executeQuery(
      `MATCH (n:${asset.target.label} {${asset.target.keyProperty}: $key}) RETURN n.ingestRunId AS runId, n.ingestAsset AS assetKey, n.ingestSource AS source, n.ingestSourceKey AS sourceKey, n.ingestContentHash AS contentHash`,
      { key },
    );
    if (records.length === 0) throw new Error(`no (:${label} {${asset.target.keyProperty}: '${key}'}) in Neo4j`);
    return records[0]!.toObject() as RecordLineage;
  } finally {
    await driver.close();
  }
}

/** The same for a Chroma document, from its metadata. */
async function documentLineage(spec: string): Promise<RecordLineage> {
  const [collectionName, ...rest] = spec.split(":");
  const id = rest.join(":");
  if (!collectionName || !id) throw new Error(`--document takes <collection>:<id>; got '${spec}'`);
  const chroma = await connectChroma();
  const collection = await chroma.collection(collectionName);
  const { metadatas } = await collection.get({ ids: [id], include: ["metadatas"] });
  const m = metadatas[0];
  if (!m) throw new Error(`no document '${id}' in collection '${collectionName}'`);
  return {
    runId: String(m.run_id),
    assetKey: String(m.asset),
    source: String(m.source),
    sourceKey: String(m.source_key),
    contentHash: String(m.content_hash),
  };
}

export function registerLineage(program: Command): void {
  program
    .command("lineage [asset]")
    .description(
      "the upstream chain of an asset's latest materialisation, or the source record and run behind a node or document",
    )
    .option("-p, --partition <key>", "a partition of a partitioned asset")
    .option("--node <Label:key>", "the node to trace, e.g. Product:P-1001")
    .option("--document <collection:id>", "the Chroma document to trace, e.g. products:P-1001")
    .action(async (assetKey: string | undefined, options: LineageOptions, command: Command) => {
      const graph = await loadGraph(globals(command).definitions);
      const record = options.node
        ? await nodeLineage(graph, options.node)
        : options.document
        ? await documentLineage(options.document)
        : undefined;
      const key = record?.assetKey ?? assetKey;
      if (!key) throw new Error("name an asset, or give --node or --document");
      if (!graph.byKey.has(key)) throw new Error(`unknown asset '${key}'`);
      await using store = await openMetadata();
      const tree = await lineageOf(store.db, {
        assetKey: key,
        partitionKey: options.partition,
        runId: record?.runId,
      });
      if (!tree) {
        throw new Error(`asset '${key}' has no successful materialisation${record ? ` in run ${record.runId}` : ""}`);
      }
      output(command, { record, lineage: tree }, () =>
        [
          ...(record
            ? [
              `source record ${record.source} ${record.sourceKey} (content ${
                record.contentHash.slice(0, 12)
              }), written by run ${record.runId} as ${record.assetKey}`,
            ]
            : []),
          ...renderLineage(tree),
        ].join("\n"));
    });
}
