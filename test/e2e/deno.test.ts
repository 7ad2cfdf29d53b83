import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { expect, it } from "vitest";
import { packageRoot } from "../../resources/settings.ts";
import { sampleProducts } from "../../samples/ec-products.ts";
import { useProductSlice } from "./slice.ts";

const slice = useProductSlice();

it("runs the same slice end to end under Deno, from the same TypeScript sources", async () => {
  const env = slice();
  const deno = join(packageRoot, "node_modules", ".bin", "deno");
  const result = spawnSync(deno, ["run", "-A", "cli/main.ts", "--json", "materialize", "--wait"], {
    cwd: packageRoot,
    encoding: "utf8",
    env: { ...process.env, LOG_LEVEL: "warn" },
  });
  expect(result.status, result.stderr).toBe(0);
  const { run } = JSON.parse(result.stdout) as { run: { id: string; status: string } };
  expect(run.status).toBe("succeeded");

  const { records } = await env.neo4j.executeQuery(
    "MATCH (p:Product) RETURN p.ingestRunId AS runId, count(*) AS n",
  );
  expect(records.map((r) => [r.get("runId"), r.get("n").toNumber()])).toEqual([[run.id, sampleProducts.length]]);

  const collection = await env.chroma.collection("products");
  const all = await collection.get({ include: ["metadatas"] });
  expect(all.ids).toHaveLength(sampleProducts.length);
  expect(new Set(all.metadatas.map((m) => m?.run_id))).toEqual(new Set([run.id]));
});
