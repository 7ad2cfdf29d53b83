import { describe, expect, it } from "vitest";
import { defineAsset } from "../../engine/asset.ts";
import { buildAssetGraph } from "../../engine/asset-graph.ts";
import { reconcile } from "../../engine/counts.ts";
import { dailyPartitions, staticPartitions } from "../../engine/partitions.ts";
import { plan, PlanError } from "../../engine/planner.ts";
import { describeCause, stalenessOf } from "../../engine/staleness.ts";
import { VersionIndex } from "../../engine/versions.ts";

/**
 * The planner, staleness and count reconciliation on their own: what a run's plan is made of and
 * why an asset is stale are functions of the graph and the recorded materialisations.
 */
const regions = staticPartitions(["eu", "us"]);
const asset = (key: string, deps: string[] = [], extra: Partial<Parameters<typeof defineAsset>[0]> = {}) =>
  defineAsset({ key, deps, codeVersion: "1", materialize: async () => ({}), ...extra });
// orders → totals → report, and regional (partitioned) → regional_totals (same partitions)
const graph = buildAssetGraph({
  assets: [
    asset("src/orders"),
    asset("agg/totals", ["src/orders"]),
    asset("agg/report", ["agg/totals"], { codeVersion: "2" }),
    asset("src/regional", [], { partitions: regions }),
    asset("agg/regional_totals", ["src/regional"], { partitions: regions }),
    asset("agg/all_regions", ["src/regional"]),
  ],
  resources: {},
});

let nextId = 1;
/** A row of ingest.materializations as VersionIndex reads it. */
const row = (
  asset_key: string,
  data_version: string,
  upstream_versions: Record<string, string> = {},
  extra: { partition_key?: string; code_version?: string; dependencies?: string[] } = {},
) => ({
  id: nextId++,
  run_id: "r",
  asset_key,
  partition_key: extra.partition_key ?? "",
  code_version: extra.code_version ?? "1",
  data_version,
  dependencies: extra.dependencies ?? graph.byKey.get(asset_key)!.deps,
  upstream_versions,
  finished_at: "2026-12-01T00:00:00Z",
});

describe("the planner", () => {
  it("plans upstream first, each step waiting for the steps of the run it reads", () => {
    const steps = plan(graph, { keys: ["agg/report", "agg/totals", "src/orders"] });
    expect(steps.map((s) => [s.assetKey, s.upstream])).toEqual([
      ["src/orders", []],
      ["agg/totals", ["src/orders"]],
      ["agg/report", ["agg/totals"]],
    ]);
  });

  it("waits only for upstream steps in the run: an unselected upstream is read as it is", () => {
    expect(plan(graph, { keys: ["agg/report"] }).map((s) => s.upstream)).toEqual([[]]);
  });

  it("plans one step per partition, each waiting for the same partition upstream, and an unpartitioned reader for all", () => {
    const steps = plan(graph, {
      keys: ["src/regional", "agg/regional_totals", "agg/all_regions"],
      partitions: ["eu", "us"],
    });
    // any topological order will do: the upstream lists are what matter
    expect(steps.map((s) => [s.assetKey, s.partitionKey, s.upstream]).sort()).toEqual([
      ["agg/all_regions", "", ["src/regional:eu", "src/regional:us"]],
      ["agg/regional_totals", "eu", ["src/regional:eu"]],
      ["agg/regional_totals", "us", ["src/regional:us"]],
      ["src/regional", "eu", []],
      ["src/regional", "us", []],
    ]);
    const position = new Map(steps.map((s, i) => [`${s.assetKey}:${s.partitionKey}`, i]));
    for (const s of steps) {
      for (const u of s.upstream) {
        expect(position.get(u)!).toBeLessThan(position.get(`${s.assetKey}:${s.partitionKey}`)!);
      }
    }
  });

  it("asks which partitions to run, and rejects ones that do not exist", () => {
    expect(() => plan(graph, { keys: ["src/regional"] })).toThrow(PlanError);
    expect(() => plan(graph, { keys: ["src/regional"], partitions: ["asia"] })).toThrow(/asia/);
  });

  it("refuses partitions for a selection with no partitioned asset, naming the assets", () => {
    expect(() => plan(graph, { keys: ["src/orders", "agg/totals"], partitions: ["eu"] })).toThrow(
      /none of the selected assets is partitioned \(src\/orders, agg\/totals\)/,
    );
    expect(() => plan(graph, { keys: ["src/orders"], range: { from: "eu", to: "us" } })).toThrow(PlanError);
  });

  it("refuses a day whose window has not ended, naming the latest that has", () => {
    const daily = buildAssetGraph({
      assets: [asset("src/daily", [], { partitions: dailyPartitions({ start: "2026-01-01", timezone: "UTC" }) })],
      resources: {},
    });
    const now = new Date("2026-03-10T12:00:00Z");
    expect(plan(daily, { keys: ["src/daily"], partitions: ["2026-03-09"], now }).map((s) => s.partitionKey)).toEqual([
      "2026-03-09",
    ]);
    expect(() => plan(daily, { keys: ["src/daily"], partitions: ["2026-03-10"], now })).toThrow(
      "partition '2026-03-10' of asset 'src/daily' does not exist yet: its window ends at 2026-03-11T00:00:00.000Z; the latest is '2026-03-09'",
    );
    expect(() => plan(daily, { keys: ["src/daily"], range: { from: "2026-03-08", to: "2026-03-10" }, now })).toThrow(
      /does not exist yet/,
    );
  });

  it("with staleOnly, keeps the stale steps and runs what is downstream of them only if it turns out stale", () => {
    const index = VersionIndex.fromRows([
      row("src/orders", "v2"),
      row("agg/totals", "t1", { "src/orders": "v1" }),
      row("agg/report", "r1", { "agg/totals": "t1" }, { code_version: "2" }),
    ]);
    const steps = plan(graph, { keys: ["src/orders", "agg/totals", "agg/report"], staleOnly: true, index });
    expect(steps.map((s) => [s.assetKey, s.onlyIfStale, s.upstream])).toEqual([
      ["agg/totals", false, []],
      ["agg/report", true, ["agg/totals"]],
    ]);
  });
});

describe("staleness", () => {
  it("names every cause: never materialised, code version, dependencies, upstream data", () => {
    const index = VersionIndex.fromRows([
      row("src/orders", "v7"),
      row("agg/totals", "t1", { "src/orders": "v5" }),
      row("agg/report", "r1", { "agg/totals": "t1" }, { code_version: "1", dependencies: [] }),
    ]);
    const causes = (key: string) => stalenessOf(graph, index, { assetKey: key, partitionKey: "" }).map(describeCause);
    expect(stalenessOf(graph, index, { assetKey: "src/regional", partitionKey: "eu" }).map(describeCause)).toEqual([
      "never materialised",
    ]);
    expect(causes("agg/totals")).toEqual(["upstream src/orders has new data (v5 → v7)"]);
    expect(causes("agg/report")).toEqual([
      "code version changed (1 → 2)",
      "dependencies changed ([] → [agg/totals])",
    ]);
  });

  it("leaves an asset fresh when its upstream was materialised again to the same data version", () => {
    const index = VersionIndex.fromRows([
      row("src/orders", "v5"),
      row("agg/totals", "t1", { "src/orders": "v5" }),
      row("src/orders", "v5"),
    ]);
    expect(stalenessOf(graph, index, { assetKey: "agg/totals", partitionKey: "" })).toEqual([]);
  });

  it("reads the latest materialisation of each asset partition from the rows", () => {
    const index = VersionIndex.fromRows([
      row("src/regional", "a", {}, { partition_key: "eu" }),
      row("src/regional", "b", {}, { partition_key: "us" }),
      { ...row("src/regional", "c", {}, { partition_key: "eu" }), id: 0 },
    ]);
    expect(index.latest("src/regional", "eu")?.dataVersion).toBe("c");
    expect([...index.partitionsOf("src/regional").keys()].sort()).toEqual(["eu", "us"]);
    expect(index.latest("src/regional")).toBeUndefined();
  });

  it("shows a hash by its first characters and a version number whole", () => {
    const index = VersionIndex.fromRows([
      row("src/orders", "0123456789abcdef0123456789abcdef"),
      row("agg/totals", "t1", { "src/orders": "fedcba9876543210fedcba9876543210" }),
    ]);
    expect(stalenessOf(graph, index, { assetKey: "agg/totals", partitionKey: "" }).map(describeCause)).toEqual([
      "upstream src/orders has new data (fedcba98 → 01234567)",
    ]);
  });
});

describe("count reconciliation", () => {
  it("fills in the dead letters and passes when every extracted record is accounted for", () => {
    expect(reconcile({ counts: { extracted: 10, loaded: 7, deduplicated: 1 } }, 2).counts).toEqual({
      extracted: 10,
      loaded: 7,
      deduplicated: 1,
      deadLettered: 2,
    });
  });

  it("fails when records are unaccounted for, or the asset's own dead-letter count disagrees", () => {
    expect(() => reconcile({ counts: { extracted: 10, loaded: 7 } }, 2)).toThrow(
      "counts do not reconcile: extracted 10 ≠ loaded 7 + dead-lettered 2 + deduplicated 0",
    );
    expect(() => reconcile({ counts: { extracted: 3, loaded: 2, deadLettered: 0 } }, 1)).toThrow(
      "the asset reports 0 dead-lettered records but recorded 1",
    );
  });

  it("leaves alone an asset that reports no extracted count", () => {
    expect(reconcile({ counts: { written: 4 } }, 0)).toEqual({ counts: { written: 4 } });
  });
});
