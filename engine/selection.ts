import type { AssetGraph } from "./definitions.ts";

/**
 * Resolves a selection to asset keys: `*` (everything) or space/comma-separated keys, where a
 * leading `+` adds the key's upstream assets and a trailing `+` its downstream assets.
 */
export function selectAssets(graph: AssetGraph, selection: string): Set<string> {
  const selected = new Set<string>();
  for (const term of selection.split(/[\s,]+/).filter(Boolean)) {
    if (term === "*") {
      for (const key of graph.order) selected.add(key);
      continue;
    }
    const key = term.replace(/^\+/, "").replace(/\+$/, "");
    if (!graph.byKey.has(key)) throw new Error(`unknown asset '${key}' in selection '${selection}'`);
    selected.add(key);
    if (term.startsWith("+")) walk(key, (k) => graph.byKey.get(k)!.deps, selected);
    if (term.endsWith("+")) walk(key, (k) => graph.dependents.get(k)!, selected);
  }
  return selected;
}

function walk(start: string, next: (key: string) => string[], into: Set<string>): void {
  const seen = new Set([start]);
  const stack = [start];
  while (stack.length > 0) {
    for (const key of next(stack.pop()!)) {
      if (seen.has(key)) continue;
      seen.add(key);
      into.add(key);
      stack.push(key);
    }
  }
}
