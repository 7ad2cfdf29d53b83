import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import dagre from "@dagrejs/dagre";
import type { AssetGraph } from "../engine/asset-graph.ts";
import { stateDir } from "../resources/settings.ts";

/** Where an asset sits on the graph page, in pixels: its box's top-left corner. */
export interface PlacedAsset {
  key: string;
  group: string;
  x: number;
  y: number;
}

/** A group's frame around its assets. */
export interface PlacedGroup {
  name: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The asset graph laid out left to right, each group in a frame of its own; edges are drawn from `deps`. */
export interface GraphLayout {
  /** Of the definitions it was made for: a layout is reused for as long as they keep their assets and edges. */
  hash: string;
  nodeWidth: number;
  nodeHeight: number;
  width: number;
  height: number;
  groups: PlacedGroup[];
  assets: PlacedAsset[];
  /** How long computing it took, in milliseconds (0 when it came from the cache). */
  computedMs: number;
}

const nodeWidth = 220;
const nodeHeight = 46;
const framePadding = 24;
const frameHeader = 26;

/** Dagre's network simplex ranks best, but its time grows steeply with size; longest path is linear. */
const rankerFor = (nodes: number) => (nodes <= 60 ? "network-simplex" : "longest-path");

/** What a layout is made of: each asset's key, group and dependencies, in the graph's order. */
export interface LayoutInput {
  hash: string;
  assets: { key: string; group: string; deps: string[] }[];
}

export function layoutInput(graph: AssetGraph): LayoutInput {
  return {
    hash: graphHash(graph),
    assets: graph.order.map((key) => ({ key, group: graph.byKey.get(key)!.group, deps: graph.byKey.get(key)!.deps })),
  };
}

/**
 * Lays out each group on its own with dagre, then the groups, as boxes of their size, by the edges
 * between them: dagre over the whole of a 5,000-asset graph takes minutes, group by group seconds.
 */
export function layoutGraph(input: LayoutInput): GraphLayout {
  const started = performance.now();
  const byKey = new Map(input.assets.map((a) => [a.key, a]));
  const graph = { order: input.assets.map((a) => a.key), byKey };
  const groups = Map.groupBy(graph.order, (key) => graph.byKey.get(key)!.group);
  const local = new Map<string, { width: number; height: number; at: Map<string, { x: number; y: number }> }>();
  for (const [group, keys] of groups) {
    const g = new dagre.graphlib.Graph();
    g.setGraph({ rankdir: "LR", nodesep: 14, ranksep: 56, marginx: 0, marginy: 0, ranker: rankerFor(keys.length) });
    g.setDefaultEdgeLabel(() => ({}));
    const members = new Set(keys);
    for (const key of keys) g.setNode(key, { width: nodeWidth, height: nodeHeight });
    for (const key of keys) {
      for (const dep of graph.byKey.get(key)!.deps) if (members.has(dep)) g.setEdge(dep, key);
    }
    dagre.layout(g);
    const at = new Map<string, { x: number; y: number }>();
    let width = 0;
    let height = 0;
    for (const key of keys) {
      const { x, y } = g.node(key);
      at.set(key, { x: x - nodeWidth / 2, y: y - nodeHeight / 2 });
      width = Math.max(width, x + nodeWidth / 2);
      height = Math.max(height, y + nodeHeight / 2);
    }
    local.set(group, { width, height, at });
  }
  const outer = new dagre.graphlib.Graph();
  outer.setGraph({ rankdir: "LR", nodesep: 40, ranksep: 90, marginx: 20, marginy: 20, ranker: rankerFor(groups.size) });
  outer.setDefaultEdgeLabel(() => ({}));
  for (const [group, box] of local) {
    outer.setNode(group, { width: box.width + 2 * framePadding, height: box.height + 2 * framePadding + frameHeader });
  }
  for (const key of graph.order) {
    const group = graph.byKey.get(key)!.group;
    for (const dep of graph.byKey.get(key)!.deps) {
      const from = graph.byKey.get(dep)?.group;
      if (from !== undefined && from !== group) outer.setEdge(from, group);
    }
  }
  dagre.layout(outer);
  const placedGroups: PlacedGroup[] = [];
  const assets: PlacedAsset[] = [];
  let width = 0;
  let height = 0;
  for (const [group, box] of local) {
    const n = outer.node(group);
    const x = Math.round(n.x - n.width / 2);
    const y = Math.round(n.y - n.height / 2);
    placedGroups.push({ name: group, x, y, width: Math.round(n.width), height: Math.round(n.height) });
    width = Math.max(width, x + n.width + 20);
    height = Math.max(height, y + n.height + 20);
    for (const [key, p] of box.at) {
      assets.push({
        key,
        group,
        x: Math.round(x + framePadding + p.x),
        y: Math.round(y + framePadding + frameHeader + p.y),
      });
    }
  }
  return {
    hash: input.hash,
    nodeWidth,
    nodeHeight,
    width: Math.ceil(width),
    height: Math.ceil(height),
    groups: placedGroups,
    assets,
    computedMs: Math.round(performance.now() - started),
  };
}

/** What a layout depends on: every asset's key, group and dependencies. */
export function graphHash(graph: AssetGraph): string {
  const hash = createHash("sha256").update("layout 1\n");
  for (const key of graph.order) {
    const asset = graph.byKey.get(key)!;
    hash.update(`${key}\t${asset.group}\t${asset.deps.join(",")}\n`);
  }
  return hash.digest("hex").slice(0, 24);
}

/** Computes a layout in a worker thread, so the server answers other requests meanwhile; in process where there are none. */
async function computeLayout(input: LayoutInput): Promise<GraphLayout> {
  let Worker: typeof import("node:worker_threads").Worker;
  try {
    ({ Worker } = await import("node:worker_threads"));
  } catch {
    return layoutGraph(input);
  }
  const file = new URL(`./layout-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);
  return await new Promise<GraphLayout>((resolve, reject) => {
    const worker = new Worker(file, { workerData: input });
    worker.once("message", (layout: GraphLayout) => {
      resolve(layout);
      void worker.terminate();
    });
    worker.once("error", reject);
  }).catch(() => layoutGraph(input));
}

/**
 * The layout of `graph`, computed once per set of assets and edges (in a worker thread) and kept in the
 * state folder (`<state>/ui/layout-<hash>.json`), so a restarted `ingest ui` draws a large graph at once.
 */
export async function cachedLayout(graph: AssetGraph, folder = join(stateDir, "ui")): Promise<GraphLayout> {
  const input = layoutInput(graph);
  const file = join(folder, `layout-${input.hash}.json`);
  if (existsSync(file)) {
    try {
      const cached = JSON.parse(readFileSync(file, "utf8")) as GraphLayout;
      if (cached.hash === input.hash) return { ...cached, computedMs: 0 };
    } catch {
      // A cache file cut short by a crash is computed again.
    }
  }
  const layout = await computeLayout(input);
  try {
    mkdirSync(folder, { recursive: true });
    writeFileSync(`${file}.tmp`, JSON.stringify(layout));
    renameSync(`${file}.tmp`, file);
  } catch {
    // A read-only state folder only costs the next start the computation.
  }
  return layout;
}
