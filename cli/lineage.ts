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
    // `return await`: the resources are disposed of when this function returns, so the query must be done by then.
    return await findNodeRecord((await resources.get(neo4jKind)) as Driver, graph.byKey.values(), options.node);
  }
  return await findDocumentRecord((await resources.get(chromaKind)) as ChromaResource, options.document!);
}

/** `ingest lineage [asset]`. */
export async function lineage(assetKey: string | undefined, options: LineageOptions, command: Command): Promise<void> {
  const graph = await loadGraph(globals(command).definitions);
  const record = await recordOf(graph, options);
  const key = record?.assetKey ?? assetKey;
  if (!key) throw new Error("name an asset, or give --node or --document");
  if (!graph.byKey.has(key)) throw new Error(`unknown asset '${key}'`);
  await using store = await openMetadata({ migrate: "if-behind" });
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
}
