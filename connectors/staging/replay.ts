import { randomUUID } from "node:crypto";
import type { MetadataStore } from "../../db/schema.ts";
import type { AssetGraph } from "../../engine/asset-graph.ts";
import { type DeadLetterFilter, listDeadLetters, markReplayed, updateIssues } from "../../engine/dead-letters.ts";
import { createRun } from "../../engine/run-queue.ts";
import { issuesOf, type StagedAsset } from "./staged-asset.ts";
import type { Staging } from "./staging.ts";
import { isStreamAsset } from "../streams/stream-asset.ts";

export interface ReplayResult {
  runId: string;
  replayed: number;
  stillFailing: number;
  /** Dead letters of assets that cannot replay (not staged assets, or unparseable input). */
  skipped: number;
}

const isStaged = (asset: unknown): asset is StagedAsset<unknown> =>
  typeof asset === "object" && asset !== null && "staged" in asset;

/**
 * Puts open dead letters through the current model of their staged asset again, after a fix: a
 * record that now passes is staged (and the downstream assets become stale, to be picked up by
 * `materialize --stale`) and its dead letter is marked replayed; one that still fails keeps its row,
 * with the current model's issues. The replay is recorded as a run of its own.
 */
export async function replayDeadLetters(
  db: MetadataStore,
  graph: AssetGraph,
  staging: Staging,
  filter: Omit<DeadLetterFilter, "status">,
): Promise<ReplayResult> {
  const runId = randomUUID();
  await createRun(db, {
    runId,
    selection: `dead-letters replay ${JSON.stringify(filter)}`,
    steps: [],
    tags: { kind: "dead-letter-replay" },
  });
  const letters = await listDeadLetters(db, { ...filter, status: "open" });
  const result: ReplayResult = { runId, replayed: 0, stillFailing: 0, skipped: 0 };
  const byAsset = Map.groupBy(letters, (l) => l.assetKey);
  for (const [assetKey, group] of byAsset) {
    const asset = graph.byKey.get(assetKey);
    if (!isStaged(asset)) {
      result.skipped += group.length;
      continue;
    }
    const passed: { sourceKey: string; record: unknown }[] = [];
    // A stream asset's dead letters are events: folded into their records as a batch would, once.
    const replayedIds: number[] = [];
    for (const letter of group) {
      if (letter.reason === "unparseable") {
        result.skipped += 1;
        continue;
      }
      const parsed = asset.staged.model.safeParse(letter.payload);
      if (parsed.success) {
        passed.push({ sourceKey: asset.staged.sourceKey(parsed.data), record: parsed.data });
        replayedIds.push(Number(letter.id));
      } else {
        await updateIssues(db, Number(letter.id), issuesOf(parsed.error));
        result.stillFailing += 1;
      }
    }
    if (isStreamAsset(asset)) await asset.applyEvents(staging, passed.map((p) => p.record), runId);
    else await staging.stage(asset.staged.table, passed, runId);
    await markReplayed(db, replayedIds);
    result.replayed += replayedIds.length;
  }
  return result;
}
