import type { AssetStatus } from "./types.ts";

/** What the graph colours an asset by. */
export type GraphState = "running" | "queued" | "failed" | "stale" | "never" | "fresh";

export const stateNames: Record<GraphState, string> = {
  running: "running",
  queued: "queued",
  failed: "failed",
  stale: "stale",
  never: "never materialised",
  fresh: "fresh",
};

/** An asset on the graph: its state, why, and, when partitioned, how its partitions stand. */
export interface AssetView {
  state: GraphState;
  reasons: string[];
  partitions?: { total: number; fresh: number; stale: number; never: number; failed: number };
  latest?: AssetStatus["lastMaterialization"];
  failure?: AssetStatus["lastFailure"];
  failedChecks: string[];
  freshness?: AssetStatus["freshness"];
}

const isNever = (s: AssetStatus) => s.causes.some((c) => c.kind === "never-materialized");

/** One view per asset from `ingest status --json` (a row per partition of a partitioned asset). */
export function viewsOf(statuses: AssetStatus[], partitioned: Set<string>): Map<string, AssetView> {
  const byKey = new Map<string, AssetStatus[]>();
  for (const s of statuses) {
    const list = byKey.get(s.assetKey);
    if (list) list.push(s);
    else byKey.set(s.assetKey, [s]);
  }
  const views = new Map<string, AssetView>();
  for (const [key, rows] of byKey) {
    const running = rows.some((r) => r.inFlight.some((f) => f.status === "running"));
    const queued = rows.some((r) => r.inFlight.length > 0);
    const failed = rows.filter((r) => r.lastFailure).length;
    const never = rows.filter(isNever).length;
    const stale = rows.filter((r) => r.state === "stale").length - never;
    const state: GraphState = running
      ? "running"
      : queued
      ? "queued"
      : failed > 0
      ? "failed"
      : never === rows.length
      ? "never"
      : stale + never > 0
      ? "stale"
      : "fresh";
    const latest = rows.map((r) => r.lastMaterialization).filter((m) => m !== undefined)
      .sort((a, b) => b.finishedAt.localeCompare(a.finishedAt))[0];
    const reasons = partitioned.has(key)
      ? [
        ...(stale + never > 0 ? [`${stale + never} of ${rows.length} partitions stale or never materialised`] : []),
        ...new Set(rows.filter((r) => r.state === "stale" && !isNever(r)).flatMap((r) => r.reasons)),
      ].slice(0, 6)
      : rows[0]!.reasons;
    views.set(key, {
      state,
      reasons,
      partitions: partitioned.has(key)
        ? { total: rows.length, fresh: rows.length - stale - never, stale, never, failed }
        : undefined,
      latest,
      failure: rows.find((r) => r.lastFailure)?.lastFailure,
      failedChecks: rows.flatMap((r) => r.checks.filter((c) => !c.passed).map((c) => c.name)),
      freshness: rows[0]!.freshness,
    });
  }
  return views;
}

/** The one line under an asset's key on the graph. */
export function stateLine(view: AssetView | undefined): string {
  if (!view) return "";
  if (view.partitions) {
    const p = view.partitions;
    return `${p.total} partitions: ${p.fresh} fresh${p.stale ? `, ${p.stale} stale` : ""}${
      p.never ? `, ${p.never} never` : ""
    }${p.failed ? `, ${p.failed} failed` : ""}`;
  }
  if (view.state === "stale") return `stale: ${view.reasons[0] ?? ""}`;
  if (view.state === "failed") return `failed: ${view.failure?.error.split("\n")[0] ?? ""}`;
  return stateNames[view.state];
}
