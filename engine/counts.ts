import type { MaterializeResult } from "./asset.ts";
import { versionHash } from "./versions.ts";

/** The default data version: a hash of what the materialisation reported. */
export function dataVersionOf(result: MaterializeResult): string {
  if (result.dataVersion) return result.dataVersion;
  return versionHash(JSON.stringify([result.counts ?? {}, result.metadata ?? {}]));
}

/**
 * Every record extracted is loaded, dead-lettered or deduplicated: when an asset reports what it
 * extracted, the counts must add up, or the materialisation fails rather than lose records quietly.
 */
export function reconcile(result: MaterializeResult, deadLettered: number): MaterializeResult {
  const counts = result.counts;
  if (!counts || counts.extracted === undefined) return result;
  if (counts.deadLettered !== undefined && counts.deadLettered !== deadLettered) {
    throw new Error(`the asset reports ${counts.deadLettered} dead-lettered records but recorded ${deadLettered}`);
  }
  const filled = {
    ...counts,
    extracted: counts.extracted,
    deadLettered,
    deduplicated: counts.deduplicated ?? 0,
    loaded: counts.loaded ?? 0,
  };
  if (filled.extracted !== filled.loaded + filled.deadLettered + filled.deduplicated) {
    throw new Error(
      `counts do not reconcile: extracted ${filled.extracted} ≠ loaded ${filled.loaded} + dead-lettered ${filled.deadLettered} + deduplicated ${filled.deduplicated}`,
    );
  }
  return { ...result, counts: filled };
}
