import { afterAll, beforeAll } from "vitest";
import { seedSampleProducts } from "../../samples/ec-products.ts";
import { connect } from "../support.ts";

export type TestEnv = Awaited<ReturnType<typeof connect>>;

/**
 * Connects to the real servers for a test file, empties what the product slice writes (nodes,
 * collection, staging and source tables) and seeds the sample products afresh.
 */
export function useProductSlice(): () => TestEnv {
  let env: TestEnv | undefined;
  beforeAll(async () => {
    env = await connect();
    await env.neo4j.executeQuery("MATCH (p:Product) DETACH DELETE p");
    await env.chroma.drop("products");
    await env.pool.query("drop table if exists staging.ec_products");
    await env.shop.query("drop table if exists shop.products");
    await seedSampleProducts(env.shop);
  });
  afterAll(() => env?.close());
  return () => env!;
}
