import type { Command } from "commander";
import { describeCheck } from "../engine/checks.ts";
import { describeDrift } from "../connectors/staging/schema-drift.ts";
import { selectAssets } from "../engine/selection.ts";
import { type AssetStatus, assetStatuses } from "../engine/status.ts";
import { formatVersion } from "../engine/versions.ts";
import { ResourcePool } from "../engine/resource.ts";
import { isStreamAsset } from "../connectors/streams/stream-asset.ts";
import { streamLag } from "../engine/automation/stream-sensor-tick.ts";
import { globals, loadGraph, observeSelected, openMetadata, output } from "./context.ts";
import { shortTime, table } from "./table.ts";

/** A partitioned asset in one row: how many partitions are fresh, stale, never materialised. */
function partitionsRow(assetKey: string, partitions: AssetStatus[]): string[] {
  const never = partitions.filter((p) => p.causes.some((c) => c.kind === "never-materialized")).length;
  const stale = partitions.filter((p) => p.state === "stale").length - never;
  const failed = partitions.filter((p) => p.lastFailure).length;
  const fresh = partitions.length - stale - never;
  return [
    stale + never === 0 ? "fresh" : "stale",
    assetKey,
    `${partitions.length} partitions: ${fresh} fresh, ${stale} stale, ${never} never materialised${
      failed ? `, ${failed} failed` : ""
    } (--partitions lists them)`,
  ];
}

function statusRow(s: AssetStatus): string[] {
  const name = s.partitionKey ? `${s.assetKey} [${s.partitionKey}]` : s.assetKey;
  const last = s.lastMaterialization
    ? `data ${formatVersion(s.lastMaterialization.dataVersion)} at ${shortTime(s.lastMaterialization.finishedAt)}`
    : ""; // the reason below says it was never materialised
  const flight = s.inFlight.map((f) => `${f.status} in run ${f.runId.slice(0, 8)}`).join(", ");
  return [s.state, name, flight ? `${last}  (${flight})` : last];
}

/** What is worth a line of its own under an asset: why it is stale, its freshness, a failure, failed checks. */
function details(s: AssetStatus & { stream?: StreamStatus }): string[] {
  const lines = [...s.reasons];
  if (s.stream) lines.push(describeLag(s.stream));
  if (s.observation?.error) lines.push(`observing its source failed: ${s.observation.error}`);
  if (s.lastMaterialization?.schemaDrift) lines.push(...describeDrift(s.lastMaterialization.schemaDrift));
  if (s.freshness) lines.push(`freshness ${s.freshness.reason}`);
  if (s.lastFailure) {
    lines.push(
      `failed at ${shortTime(s.lastFailure.finishedAt)} in run ${s.lastFailure.runId}: ${
        s.lastFailure.error.split("\n")[0]
      }`,
    );
    lines.push(...s.lastFailure.checks.filter((c) => !c.passed).map(describeCheck));
  }
  lines.push(...s.checks.filter((c) => !c.passed).map(describeCheck));
  return lines;
}

/** How far behind a stream asset's stream is, as `ingest status` shows and `--json` gives it. */
interface StreamStatus {
  /** The stream: `kafka:shop.order-events`. */
  name: string;
  /** Messages not yet consumed. */
  messages?: number;
  /** Age of the oldest of them (ms), when the broker says. */
  oldestAgeMs?: number | null;
  /** Why the broker could not be asked. */
  error?: string;
}

function describeLag(s: StreamStatus): string {
  if (s.error) return `stream ${s.name}: lag unknown (${s.error})`;
  if (s.messages === 0) return `stream ${s.name}: consumed, nothing waiting`;
  const age = s.oldestAgeMs == null ? "" : `, the oldest ${(s.oldestAgeMs / 1000).toFixed(1)} s old`;
  return `stream ${s.name}: ${s.messages} messages waiting${age}`;
}

/** `ingest status [selection…]`. */
export async function status(
  words: string[],
  options: { partitions?: boolean; observe: boolean },
  command: Command,
): Promise<void> {
  const graph = await loadGraph(globals(command).definitions);
  const keys = selectAssets(graph, words.length > 0 ? words.join(" ") : "*");
  await using store = await openMetadata({ migrate: "if-behind" });
  if (options.observe) await observeSelected(store.db, graph, keys);
  const statuses: (AssetStatus & { stream?: StreamStatus })[] = await assetStatuses(store.db, graph, keys);
  const streams = [...keys].map((key) => graph.byKey.get(key)).filter(isStreamAsset);
  if (streams.length > 0) {
    await using resources = new ResourcePool(graph.definitions.resources);
    await Promise.all(streams.map(async (asset) => {
      const stream: StreamStatus = await streamLag(asset, resources, true, 5_000).then(
        (lag) => ({ name: asset.stream.name, ...lag }),
        (error: Error) => ({ name: asset.stream.name, error: error.message }),
      );
      for (const s of statuses) if (s.assetKey === asset.key) s.stream = stream;
    }));
  }
  output(command, statuses, () => {
    const rows: string[][] = [];
    const notes = new Map<number, string[]>();
    for (const key of keys) {
      const mine = statuses.filter((s) => s.assetKey === key);
      if (graph.byKey.get(key)!.partitions && !options.partitions) {
        rows.push(partitionsRow(key, mine));
        const freshness = mine[0]?.freshness;
        if (freshness) notes.set(rows.length - 1, [`freshness ${freshness.reason}`]);
        continue;
      }
      for (const s of mine) {
        rows.push(statusRow(s));
        const lines = details(s);
        if (lines.length > 0) notes.set(rows.length - 1, lines);
      }
    }
    return table(rows).split("\n").flatMap((line, i) => [line, ...(notes.get(i) ?? []).map((n) => `       ${n}`)])
      .join("\n");
  });
}
