import type { MetadataStore } from "../db/schema.ts";
import type { AssetGraph } from "../engine/asset-graph.ts";
import { type LineageNode, lineageOf } from "../engine/lineage.ts";
import type { ResourcePool } from "../engine/resource.ts";
import { chromaKind, type ChromaResource, findDocumentRecord } from "./chroma/index.ts";
import { type Driver, findNodeRecord, neo4jKind, type RecordLineage } from "./neo4j/index.ts";

/** What `ingest lineage` traces: an asset's latest materialisation, or the node or document a record wrote. */
export interface LineageTarget {
  /** The asset (ignored when `node` or `document` is given: the record names its asset). */
  assetKey?: string;
  /** A partition of a partitioned asset. */
  partitionKey?: string;
  /** `Label:key` of a node, e.g. `Product:P-1001`. */
  node?: string;
  /** `collection:id` of a Chroma document, e.g. `products:P-1001`. */
  document?: string;
}

/** The source record behind a node or document (when one was asked for) and the upstream chain of what wrote it. */
export interface RecordLineageTree {
  record?: RecordLineage;
  lineage: LineageNode;
}

/**
 * What `ingest lineage` shows, and the UI's record lineage: the source record and run behind a node
 * (looked up through the project's Neo4j resource) or a document (its Chroma resource), then the
 * upstream chain of the materialisation that wrote it; or, for an asset, of its latest materialisation.
 * Throws, saying what to do, for an unknown asset or an asset never materialised.
 */
export async function traceLineage(
  db: MetadataStore,
  graph: AssetGraph,
  resources: ResourcePool,
  target: LineageTarget,
): Promise<RecordLineageTree> {
  const record = target.node
    ? await findNodeRecord((await resources.get(neo4jKind)) as Driver, graph.byKey.values(), target.node)
    : target.document
    ? await findDocumentRecord((await resources.get(chromaKind)) as ChromaResource, target.document)
    : undefined;
  const key = record?.assetKey ?? target.assetKey;
  if (!key) throw new Error("name an asset, or give --node or --document");
  if (!graph.byKey.has(key)) throw new Error(`unknown asset '${key}'`);
  const lineage = await lineageOf(db, { assetKey: key, partitionKey: target.partitionKey, runId: record?.runId });
  if (!lineage) {
    throw new Error(`asset '${key}' has no successful materialisation${record ? ` in run ${record.runId}` : ""}`);
  }
  return { record, lineage };
}
