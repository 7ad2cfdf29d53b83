import type { Driver } from "neo4j-driver";
import type { ChromaResource } from "../../resources/chroma.ts";
import type { pg } from "../../resources/postgres.ts";

/** Removes what the product slice writes, so each test file starts from an empty target. */
export async function resetProductSlice(env: { neo4j: Driver; chroma: ChromaResource; pool: pg.Pool; shop: pg.Pool }) {
  await env.neo4j.executeQuery("MATCH (p:Product) DETACH DELETE p");
  await env.chroma.drop("products");
  await env.pool.query("drop table if exists staging.ec_products");
  await env.shop.query("drop table if exists shop.products");
}
