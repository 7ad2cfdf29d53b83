import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineAsset, DefinitionError } from "../../engine/asset.ts";
import { buildAssetGraph } from "../../engine/asset-graph.ts";
import { defineResource, ResourcePool } from "../../engine/resource.ts";
import { chromaResource } from "../../connectors/chroma/index.ts";
import { defineNodeAsset, defineRelationshipAsset, neo4jKind, neo4jResource } from "../../connectors/neo4j/index.ts";
import { defineStagedAsset, Staging, stagingKind, stagingResource } from "../../connectors/staging/index.ts";

// Asset kinds find their resources by kind: these tests build definitions, they connect to nothing
// (a resource is set up only when an asset first receives it).

const Book = z.object({ isbn: z.string(), author: z.string() });
const books = defineStagedAsset({
  key: "shop/books",
  table: "books",
  source: "books.csv",
  codeVersion: "1",
  model: Book,
  sourceKey: (b) => b.isbn,
  rawKey: (row) => row.isbn,
  extract: async () => [],
});
const bookNodes = defineNodeAsset({
  key: "graph/Book",
  codeVersion: "1",
  label: "Book",
  keyProperty: "isbn",
  from: books,
  properties: (b) => ({ ...b }),
});
const assets = [books, bookNodes];

function definitionError(build: () => unknown): string {
  try {
    build();
  } catch (error) {
    expect(error).toBeInstanceOf(DefinitionError);
    return (error as Error).message;
  }
  throw new Error("the definitions were accepted");
}

describe("resources by kind", () => {
  it("a node asset without staging names what it needs and how to make it", () => {
    const message = definitionError(() => buildAssetGraph({ assets, resources: { neo4j: neo4jResource() } }));
    expect(message).toContain(
      "asset 'graph/Book' needs a staging resource: add `staging: stagingResource()` to the resources of defineDefinitions",
    );
    expect(message).toContain("asset 'shop/books' needs a staging resource");
  });

  it("a resource of the wrong kind under the expected name names both kinds", () => {
    const message = definitionError(() =>
      buildAssetGraph({ assets, resources: { staging: stagingResource(), neo4j: chromaResource() } })
    );
    expect(message).toBe(
      "asset 'graph/Book' needs resource 'neo4j' to be a neo4j resource (neo4jResource()), but it is a chroma resource",
    );
  });

  it("the one resource of a kind is found under any name, and the asset receives it under its own", async () => {
    const graphDb = neo4jResource();
    const graph = buildAssetGraph({ assets, resources: { staging: stagingResource(), graphDb } });
    expect(graph.byKey.get("graph/Book")!.resources).toEqual([neo4jKind, stagingKind]);
    const driver = { executeQuery: () => {}, session: () => {} };
    await using pool = new ResourcePool({ graphDb: { ...graphDb, setup: () => driver, teardown: undefined } });
    expect(await pool.pick([neo4jKind])).toEqual({ neo4j: driver });
  });

  it("two resources of the kind and neither under the expected name: asks which", () => {
    const message = definitionError(() =>
      buildAssetGraph({ assets, resources: { staging: stagingResource(), a: neo4jResource(), b: neo4jResource() } })
    );
    expect(message).toBe(
      "asset 'graph/Book' needs a neo4j resource and the project has 2 (a, b): name the one it should use 'neo4j'",
    );
  });

  it("a resource without a kind is checked when it is set up", async () => {
    await using pool = new ResourcePool({ staging: defineResource({ setup: () => ({ query: () => {} }) }) });
    await expect(pool.get(stagingKind)).rejects.toThrow(
      "resource 'staging' is not a staging resource: make it with stagingResource()",
    );
    const staging = new Staging(null as never);
    await using typed = new ResourcePool({ staging: defineResource({ setup: () => staging }) });
    expect(await typed.get(stagingKind)).toBe(staging);
  });

  it("a relationship end names its node asset: an asset that writes no nodes is refused, naming the field", () => {
    const message = definitionError(() =>
      defineRelationshipAsset({
        key: "graph/WROTE",
        codeVersion: "1",
        type: "WROTE",
        from: books,
        start: { node: books, value: (b) => b.author },
        end: { node: bookNodes, value: (b) => b.isbn },
      })
    );
    expect(message).toMatch(/^asset 'graph\/WROTE': start\.node: /);
    expect(() =>
      defineRelationshipAsset({
        key: "graph/WROTE",
        codeVersion: "1",
        type: "WROTE",
        from: books,
        // @ts-expect-error -- an end is a node asset and a value, not a label
        start: { label: "Author", key: "name", value: (b) => b.author },
        end: { node: bookNodes, value: (b) => b.isbn },
      })
    ).toThrow(DefinitionError);
  });
});

describe("a resource whose setup failed", () => {
  it("is set up again on its next use: a store that was down at start does not fail the worker for good", async () => {
    let calls = 0;
    await using pool = new ResourcePool({
      graph: defineResource({
        setup: async () => {
          calls++;
          if (calls === 1) throw new Error("connect ECONNREFUSED 127.0.0.1:7687");
          return "driver";
        },
      }),
    });
    await expect(pool.get("graph")).rejects.toThrow("ECONNREFUSED");
    await expect(pool.get("graph")).resolves.toBe("driver");
    await expect(pool.get("graph")).resolves.toBe("driver");
    expect(calls).toBe(2);
  });
});

describe("an asset's optional fields given as undefined", () => {
  it("keep their defaults, so a graph of them builds", () => {
    const asset = defineAsset({
      key: "shop/orders",
      codeVersion: "1",
      deps: undefined,
      group: undefined,
      retry: undefined,
      materialize: async () => ({}),
    });
    expect([asset.deps, asset.group, asset.retry.maxAttempts]).toEqual([[], "shop", 3]);
    expect(buildAssetGraph({ assets: [asset], resources: {} }).order).toEqual(["shop/orders"]);
  });
});
