import { describe, expect, it } from "vitest";
import { defineAsset } from "../../engine/asset.ts";
import { buildAssetGraph } from "../../engine/asset-graph.ts";
import { parseSelection, selectAssets, SelectionError } from "../../engine/selection.ts";

const asset = (key: string, deps: string[] = [], group?: string) =>
  defineAsset<Record<string, unknown>>({
    key,
    deps,
    ...(group ? { group } : {}),
    codeVersion: "1",
    materialize: async () => ({}),
  });

// ec/products -> staging/products -> graph/Product -> graph/Order <- ec/orders
//                                                  -> vectors/product
// tools/lint (group "tools"), misc/report (explicit group "reports")
const graph = buildAssetGraph({
  assets: [
    asset("vectors/product", ["graph/Product"]),
    asset("graph/Order", ["ec/orders", "graph/Product"]),
    asset("graph/Product", ["staging/products"]),
    asset("staging/products", ["ec/products"]),
    asset("ec/products"),
    asset("ec/orders"),
    asset("tools/lint"),
    asset("misc/report", [], "reports"),
  ],
  resources: {},
});
const all = [...graph.order].sort();

/** Sorted, so a test states the exact set; order has its own tests. */
const select = (selection: string) => [...selectAssets(graph, selection)].sort();
const sorted = (...keys: string[]) => [...keys].sort();

const errorOf = (selection: string): SelectionError => {
  try {
    selectAssets(graph, selection);
  } catch (error) {
    expect(error).toBeInstanceOf(SelectionError);
    return error as SelectionError;
  }
  throw new Error(`'${selection}' did not throw`);
};

describe("atoms", () => {
  it("selects every asset with *", () => {
    expect(select("*")).toEqual(all);
    expect(all).toHaveLength(8);
  });

  it("selects a single key, with and without a slash", () => {
    expect(select("graph/Product")).toEqual(["graph/Product"]);
    expect(select("ec/orders")).toEqual(["ec/orders"]);
  });

  it("selects a group, defaulted from the first key segment or given explicitly", () => {
    expect(select("group:ec")).toEqual(sorted("ec/products", "ec/orders"));
    expect(select("group:graph")).toEqual(sorted("graph/Product", "graph/Order"));
    expect(select("group:reports")).toEqual(["misc/report"]);
    expect(select("GROUP:tools")).toEqual(["tools/lint"]);
  });
});

describe("graph traversal", () => {
  it("adds all upstream assets with a leading +", () => {
    expect(select("+graph/Order")).toEqual(
      sorted("graph/Order", "graph/Product", "staging/products", "ec/products", "ec/orders"),
    );
  });

  it("adds all downstream assets with a trailing +", () => {
    expect(select("staging/products+")).toEqual(
      sorted("staging/products", "graph/Product", "graph/Order", "vectors/product"),
    );
  });

  it("adds both with +key+", () => {
    expect(select("+graph/Product+")).toEqual(
      sorted("ec/products", "staging/products", "graph/Product", "graph/Order", "vectors/product"),
    );
  });

  it("limits the depth with N+key and key+N", () => {
    expect(select("1+graph/Product")).toEqual(sorted("graph/Product", "staging/products"));
    expect(select("2+graph/Order")).toEqual(sorted("graph/Order", "graph/Product", "ec/orders", "staging/products"));
    expect(select("ec/products+2")).toEqual(sorted("ec/products", "staging/products", "graph/Product"));
    expect(select("1+staging/products+1")).toEqual(sorted("ec/products", "staging/products", "graph/Product"));
    expect(select("0+graph/Product")).toEqual(["graph/Product"]);
  });

  it("traverses from a group or a parenthesised selection", () => {
    expect(select("group:ec+1")).toEqual(sorted("ec/products", "ec/orders", "staging/products", "graph/Order"));
    expect(select("+(vectors/product or tools/lint)")).toEqual(
      sorted("vectors/product", "graph/Product", "staging/products", "ec/products", "tools/lint"),
    );
  });

  it("reads digits followed by a detached + as a key and its downstream, not a depth", () => {
    const numbered = buildAssetGraph({ assets: [asset("2"), asset("x", ["2"]), asset("y")], resources: {} });
    expect([...selectAssets(numbered, "2+ y")].sort()).toEqual(["2", "x", "y"]);
    expect([...selectAssets(numbered, "2+y")]).toEqual(["y"]);
  });
});

describe("operators", () => {
  it("intersects with and", () => {
    expect(select("+graph/Order and group:ec")).toEqual(sorted("ec/products", "ec/orders"));
  });

  it("takes not relative to every asset", () => {
    expect(select("not group:graph")).toEqual(all.filter((key) => !key.startsWith("graph/")));
    expect(select("not *")).toEqual([]);
    expect(select("not not tools/lint")).toEqual(["tools/lint"]);
  });

  it("unites with or, a comma or plain whitespace", () => {
    const expected = sorted("tools/lint", "ec/orders", "misc/report");
    expect(select("tools/lint or ec/orders or misc/report")).toEqual(expected);
    expect(select("tools/lint, ec/orders,misc/report")).toEqual(expected);
    expect(select("  tools/lint   ec/orders\tmisc/report ")).toEqual(expected);
  });

  it("reads the operator words case-insensitively", () => {
    expect(select("group:ec AND NOT ec/orders Or tools/lint")).toEqual(sorted("ec/products", "tools/lint"));
  });

  it("binds not tighter than and, and and tighter than or", () => {
    // (not ec/products) and group:ec
    expect(select("not ec/products and group:ec")).toEqual(["ec/orders"]);
    // tools/lint or (group:ec and ec/orders)
    expect(select("tools/lint or group:ec and ec/orders")).toEqual(sorted("tools/lint", "ec/orders"));
    // (group:ec and ec/orders) or tools/lint
    expect(select("group:ec and ec/orders or tools/lint")).toEqual(sorted("ec/orders", "tools/lint"));
    // implicit or has or's precedence: (group:ec and ec/orders) or tools/lint
    expect(select("group:ec and ec/orders tools/lint")).toEqual(sorted("ec/orders", "tools/lint"));
  });

  it("lets parentheses override precedence", () => {
    expect(select("(tools/lint or group:ec) and ec/orders")).toEqual(["ec/orders"]);
    expect(select("not (group:ec or group:graph)")).toEqual(
      sorted("staging/products", "vectors/product", "tools/lint", "misc/report"),
    );
    expect(select("((ec/orders))")).toEqual(["ec/orders"]);
  });

  it("returns an empty set for a valid selection that matches nothing", () => {
    expect(selectAssets(graph, "group:ec and group:graph")).toEqual(new Set());
  });
});

describe("result order", () => {
  it("follows the graph's topological order, whatever the selection's order", () => {
    const result = [...selectAssets(graph, "vectors/product graph/Product ec/products tools/lint")];
    expect(result).toEqual(
      graph.order.filter((key) => ["vectors/product", "graph/Product", "ec/products", "tools/lint"].includes(key)),
    );
    expect(result.indexOf("ec/products")).toBeLessThan(result.indexOf("graph/Product"));
    expect(result.indexOf("graph/Product")).toBeLessThan(result.indexOf("vectors/product"));
  });

  it("puts every upstream asset before its dependents", () => {
    const result = [...selectAssets(graph, "+graph/Order")];
    for (const key of result) {
      for (const dep of graph.byKey.get(key)!.deps) expect(result.indexOf(dep)).toBeLessThan(result.indexOf(key));
    }
    expect([...selectAssets(graph, "*")]).toEqual(graph.order);
  });
});

describe("errors", () => {
  it("names an unknown key and suggests the closest one within two edits", () => {
    expect(errorOf("graph/Prodcut").message).toBe(
      "unknown asset 'graph/Prodcut' in selection 'graph/Prodcut'; did you mean 'graph/Product'?",
    );
    expect(errorOf("tools/lint or +ec/order").message).toContain(
      "unknown asset 'ec/order' in selection 'tools/lint or +ec/order'; did you mean 'ec/orders'?",
    );
    expect(errorOf("nothing/like/it").message).toBe("unknown asset 'nothing/like/it' in selection 'nothing/like/it'");
  });

  it("rejects an unknown key even where it could not change the result", () => {
    expect(errorOf("not * and nope").message).toContain("unknown asset 'nope'");
  });

  it("lists the known groups for an unknown group", () => {
    expect(errorOf("group:nope").message).toBe(
      "unknown group 'nope' in selection 'group:nope'; known groups: ec, graph, reports, staging, tools, vectors",
    );
  });

  it("rejects an empty selection", () => {
    expect(errorOf("").message).toBe("the selection is empty: name assets, group:<name>, or '*' for every asset");
    expect(errorOf("  \t").message).toMatch(/^the selection is empty/);
  });

  it("reports syntax errors with the column and what was expected", () => {
    const syntax = (selection: string) => errorOf(selection).message.replace(`invalid selection '${selection}': `, "");
    expect(syntax("a and )")).toBe("expected an asset key, group:name or '(' at column 7, found ')'");
    expect(syntax("ec/orders or")).toBe("expected an asset key, group:name or '(' at column 13, found the end");
    expect(syntax("(ec/orders or tools/lint")).toBe("expected ')' (opened at column 1) at column 25, found the end");
    expect(syntax("ec/orders)")).toBe("expected an operator or the end of the selection at column 10, found ')'");
    expect(syntax("ec/orders+tools/lint")).toBe(
      "expected whitespace, ',', 'and' or 'or' between terms at column 11, found 'tools/lint'",
    );
    expect(syntax("+ ec/orders")).toBe(
      "expected an asset key, group:name or '(' directly after '+' at column 3, found 'ec/orders'",
    );
    expect(syntax("ec/ orders")).toBe("expected an asset key, group:name or '(' at column 1, found 'ec/'");
    expect(syntax("group: and *")).toBe("expected a group name at column 7");
    expect(syntax("ec/orders,,tools/lint")).toBe("expected an asset key, group:name or '(' at column 11, found ','");
    expect(syntax("()")).toBe("expected an asset key, group:name or '(' at column 2, found ')'");
    expect(syntax("not")).toBe("expected an asset key, group:name or '(' at column 4, found the end");
  });
});

describe("parseSelection", () => {
  it("builds the tree without needing a graph", () => {
    expect(parseSelection("2+a+ b and not group:g")).toEqual({
      kind: "or",
      left: { kind: "traverse", operand: { kind: "key", key: "a" }, up: 2, down: Infinity },
      right: {
        kind: "and",
        left: { kind: "key", key: "b" },
        right: { kind: "not", operand: { kind: "group", group: "g" } },
      },
    });
  });
});
