// The example chain materialised against the stack (`npm test` starts it): what a user would check
// by hand, asserted. Run with `node --test test/`.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { connectChroma, connectNeo4j, type Driver } from "ingest-graph";
import { ingest } from "./ingest.ts";

let neo4j: Driver;
before(() => {
  neo4j = connectNeo4j();
});
after(() => neo4j.close());

test("materialising everything loads the valid products into Neo4j and Chroma", async () => {
  const { run } = ingest("materialize", "*", "--wait", "--full-refresh") as { run: { status: string } };
  assert.equal(run.status, "succeeded");

  const { records } = await neo4j.executeQuery("MATCH (p:Product) RETURN p.sku AS sku ORDER BY sku");
  assert.deepEqual(records.map((r) => r.get("sku")), [
    "P-1001",
    "P-1002",
    "P-1003",
    "P-1004",
    "P-1005",
    "P-1006",
    "P-1007",
  ]);

  const chroma = await connectChroma();
  const collection = await chroma.collection("products");
  const found = await collection.get({ ids: ["P-1003"] });
  assert.equal(
    found.documents[0],
    "Trail Running Shoe. Light trail shoe with a rock plate and a grippy lug sole for wet ground.",
  );
  assert.equal(await collection.count(), 7);
});

test("the row with a bad price is a dead letter with its reason, not lost", () => {
  const letters = ingest("dead-letters", "--asset", "shop/products") as {
    sourceKey: string;
    reason: string;
    issues: { path: string }[];
  }[];
  assert.deepEqual(letters.map((d) => [d.sourceKey, d.reason, d.issues.map((i) => i.path)]), [
    ["P-1008", "invalid", ["price"]],
  ]);
});
