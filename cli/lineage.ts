import type { Command } from "commander";
import type { AssetGraph } from "../engine/asset-graph.ts";
import { lineageOf, renderLineage } from "../engine/lineage.ts";
import { chromaKind, type ChromaResource, findDocumentRecord } from "../connectors/chroma/index.ts";
import { type Driver, findNodeRecord, neo4jKind, type RecordLineage } from "../connectors/neo4j/index.ts";
import { ResourcePool } from "../engine/resource.ts";
import { globals, loadGraph, openMetadata, output } from "./context.ts";

interface LineageOptions {
  partition?: string;
  node?: string;
  document?: string;
}

/** The source record behind `--node` or `--document`, looked up through the project's own Neo4j or Chroma resource. */
async function recordOf(graph: AssetGraph, options: LineageOptions): Promise<RecordLineage | undefined> {
  if (!options.node && !options.document) return undefined;
  await using resources = new ResourcePool(graph.definitions.resources);
  if (options.node) {
    return findNodeRecord((await resources.get(neo4jKind)) as Driver, graph.byKey.values(), options.node);
  }
  return findDocumentRecord((await resources.get(chromaKind)) as ChromaResource, options.document!);
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
      const record = await recordOf(graph, options);
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
              `source record ${record.source} ${record.sourceKey}${
                record.contentHash ? ` (content ${record.contentHash.slice(0, 12)})` : ""
              }, written by run ${record.runId} as ${record.assetKey}`,
            ]
            : []),
          ...renderLineage(tree),
        ].join("\n"));
    });
}
