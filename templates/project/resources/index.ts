import { chromaResource, embedderResource, neo4jResource, stagingResource } from "ingest-graph";

/**
 * What the assets need, made by the framework's constructors. Each reads its connection from the
 * environment (`DATABASE_URL`, `NEO4J_URI`/`NEO4J_USER`/`NEO4J_PASSWORD`, `CHROMA_URL`), else uses the
 * local stack that `ingest stack up` starts. Your own sources go here too, e.g.
 * `shop: postgresResource(() => process.env.SHOP_DATABASE_URL!)`, read with `readTable`.
 */
export const resources = {
  staging: stagingResource(),
  neo4j: neo4jResource(),
  chroma: chromaResource(),
  embedder: embedderResource(),
};
