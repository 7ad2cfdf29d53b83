import neo4jDriver, { type Driver } from "neo4j-driver";
import type { AssetDefinition } from "../../engine/asset.ts";
import type { StagedRecord } from "../staging/records.ts";
import { nodeTargetOf } from "./targets.ts";

/** The lineage every node and relationship an asset kind writes carries: which run, asset and source record. */
export function lineageProperties(
  ctx: { runId: string; assetKey: string },
  source: string,
  staged: StagedRecord<unknown>,
) {
  return {
    ingestRunId: ctx.runId,
    ingestAsset: ctx.assetKey,
    ingestSource: source,
    ingestSourceKey: staged.sourceKey,
    ingestContentHash: staged.contentHash,
  };
}

/** Which source record, asset and run produced a node or a document, as its lineage properties say. */
export interface RecordLineage {
  runId: string;
  assetKey: string;
  source: string;
  sourceKey: string;
  /** null for a node no single record wrote in full (a Person resolved from several sources keeps no one hash). */
  contentHash: string | null;
}

/**
 * The lineage of the node `Label:key` (`Product:P-1001`, `Warehouse:3`), looked up among the nodes
 * of the asset that writes that label; the key is read as an integer when that asset stores it so.
 */
export async function findNodeRecord(
  driver: Driver,
  assets: Iterable<AssetDefinition>,
  spec: string,
): Promise<RecordLineage> {
  const colon = spec.indexOf(":");
  const [label, text] = colon < 0 ? [spec, ""] : [spec.slice(0, colon), spec.slice(colon + 1)];
  const asset = [...assets].find((a) => a.target?.kind === "neo4j-nodes" && a.target.label === label);
  if (!asset || !text) throw new Error(`--node takes <Label>:<key> of a label some node asset writes; got '${spec}'`);
  const target = nodeTargetOf(asset);
  if (target.integerKey && !/^-?\d+$/.test(text)) {
    throw new Error(`(:${label}) nodes have integer keys (${target.keyProperty}); '${text}' is not one`);
  }
  const key = target.integerKey ? neo4jDriver.int(text) : text;
  const { records } = await driver.executeQuery(
    `MATCH (n:${target.label} {${target.keyProperty}: $key})
     RETURN n.ingestRunId AS runId, n.ingestAsset AS assetKey, n.ingestSource AS source,
            n.ingestSourceKey AS sourceKey, n.ingestContentHash AS contentHash`,
    { key },
    { routing: "READ" },
  );
  const shown = target.integerKey ? text : JSON.stringify(text);
  if (records.length === 0) throw new Error(`no (:${label} {${target.keyProperty}: ${shown}}) in Neo4j`);
  return records[0]!.toObject() as RecordLineage;
}
