import type { Command } from "commander";
import { renderLineage } from "../engine/lineage.ts";
import { traceLineage } from "../connectors/record-lineage.ts";
import { ResourcePool } from "../engine/resource.ts";
import { globals, loadGraph, openMetadata, output } from "./context.ts";

interface LineageOptions {
  partition?: string;
  node?: string;
  document?: string;
}

/** `ingest lineage [asset]`. */
export async function lineage(assetKey: string | undefined, options: LineageOptions, command: Command): Promise<void> {
  const graph = await loadGraph(globals(command).definitions);
  if (!assetKey && !options.node && !options.document) throw new Error("name an asset, or give --node or --document");
  await using store = await openMetadata({ migrate: "if-behind" });
  await using resources = new ResourcePool(graph.definitions.resources);
  const { record, lineage: tree } = await traceLineage(store.db, graph, resources, {
    assetKey,
    partitionKey: options.partition,
    node: options.node,
    document: options.document,
  });
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
