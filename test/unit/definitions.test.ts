import { describe, expect, it } from "vitest";
import { defineAsset, DefinitionError } from "../../engine/asset.ts";
import { buildAssetGraph } from "../../engine/asset-graph.ts";
import { selectAssets } from "../../engine/selection.ts";

const asset = (key: string, deps: string[] = [], resources: string[] = []) =>
  defineAsset<Record<string, unknown>>({ key, deps, resources, codeVersion: "1", materialize: async () => ({}) });

const graphOf = (...assets: ReturnType<typeof asset>[]) => buildAssetGraph({ assets, resources: {} });

describe("loading definitions", () => {
  it("orders a diamond upstream first", () => {
    const graph = graphOf(asset("d", ["b", "c"]), asset("b", ["a"]), asset("c", ["a"]), asset("a"));
    const position = (k: string) => graph.order.indexOf(k);
    expect(position("a")).toBe(0);
    expect(position("d")).toBe(3);
    expect(graph.dependents.get("a")!.sort()).toEqual(["b", "c"]);
  });

  it("names the assets of a cycle", () => {
    expect(() => graphOf(asset("a", ["c"]), asset("b", ["a"]), asset("c", ["b"]), asset("x"))).toThrow(
      /dependency cycle: (a -> c -> b -> a|b -> a -> c -> b|c -> b -> a -> c)/,
    );
  });

  it("reports unknown dependencies, duplicate keys, invalid keys and unknown resources together", () => {
    let error: unknown;
    try {
      graphOf(asset("a", ["missing"]), asset("a"), asset("bad key"), asset("b", [], ["neo4j"]));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DefinitionError);
    const message = (error as Error).message;
    expect(message).toContain("asset 'a' depends on unknown asset 'missing'");
    expect(message).toContain("asset key 'a' is declared twice");
    expect(message).toContain("asset key 'bad key' is invalid");
    expect(message).toContain("asset 'b' uses unknown resource 'neo4j'");
  });
});

describe("selecting assets", () => {
  const graph = graphOf(
    asset("src"),
    asset("stage", ["src"]),
    asset("nodes", ["stage"]),
    asset("vectors", ["stage"]),
    asset("other"),
  );

  it("takes keys, upstream (+key) and downstream (key+)", () => {
    expect([...selectAssets(graph, "nodes")]).toEqual(["nodes"]);
    expect(new Set(selectAssets(graph, "+nodes"))).toEqual(new Set(["nodes", "stage", "src"]));
    expect(new Set(selectAssets(graph, "stage+"))).toEqual(new Set(["stage", "nodes", "vectors"]));
    expect(selectAssets(graph, "*").size).toBe(5);
  });

  it("rejects an unknown key by name", () => {
    expect(() => selectAssets(graph, "nodes nope")).toThrow("unknown asset 'nope'");
  });
});

describe("typed asset helpers", () => {
  it("reject identifiers that cannot go into Cypher, naming the asset", async () => {
    const { defineNodeAsset } = await import("../../connectors/neo4j/index.ts");
    const { defineStagedAsset } = await import("../../connectors/staging/index.ts");
    const { defineCollectionAsset } = await import("../../connectors/chroma/index.ts");
    const { z } = await import("zod");
    const staged = defineStagedAsset({
      key: "src/things",
      table: "things",
      source: "test",
      codeVersion: "1",
      model: z.object({ id: z.string() }),
      sourceKey: (r) => r.id,
      rawKey: (raw) => raw.id,
      extract: async () => [],
    });
    expect(() =>
      defineNodeAsset({
        key: "graph/Bad",
        label: "Thing) DETACH DELETE (n",
        keyProperty: "id",
        from: staged,
        codeVersion: "1",
        properties: (r) => r,
      })
    ).toThrow("asset 'graph/Bad': invalid label 'Thing) DETACH DELETE (n'");
    expect(() =>
      defineNodeAsset({
        key: "graph/Bad2",
        label: "Thing",
        keyProperty: "id`x",
        from: staged,
        codeVersion: "1",
        properties: (r) => r,
      })
    ).toThrow(
      "asset 'graph/Bad2': invalid property key 'id`x'",
    );
    expect(() =>
      defineCollectionAsset({
        key: "vectors/bad",
        collection: "a",
        from: staged,
        codeVersion: "1",
        document: (r) => r.id,
        metadata: () => ({}),
      })
    ).toThrow(
      "asset 'vectors/bad': invalid Chroma collection name 'a'",
    );
    expect(() =>
      defineStagedAsset({
        key: "src/bad",
        table: "drop table;",
        source: "t",
        codeVersion: "1",
        model: z.object({}),
        sourceKey: () => "",
        rawKey: () => undefined,
        extract: async () => [],
      })
    ).toThrow(
      "asset 'src/bad': invalid staging table 'drop table;'",
    );
  });
});
