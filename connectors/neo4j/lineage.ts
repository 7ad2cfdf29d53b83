import type { StagedRecord } from "../staging/records.ts";

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
