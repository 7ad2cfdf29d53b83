import { productNodes, productVectors, stagedProducts } from "./assets/ec/products.ts";
import { defineDefinitions } from "./engine/definitions.ts";
import { defineResource } from "./engine/resource.ts";
import { connectChroma } from "./resources/chroma.ts";
import { loadEmbedder } from "./resources/embedder.ts";
import { connectNeo4j } from "./resources/neo4j.ts";
import { createPool } from "./resources/postgres.ts";
import { settings } from "./resources/settings.ts";
import { Staging } from "./resources/staging.ts";

/** This project's assets and the resources they use: what `ingest` loads unless given `--definitions`. */
export default defineDefinitions({
  assets: [stagedProducts, productNodes, productVectors],
  resources: {
    shop: defineResource({ setup: () => createPool(settings().shopDatabaseUrl), teardown: (pool) => pool.end() }),
    staging: defineResource({ setup: () => new Staging(createPool(settings().databaseUrl)), teardown: (staging) => staging.close() }),
    neo4j: defineResource({ setup: () => connectNeo4j(), teardown: (driver) => driver.close() }),
    chroma: defineResource({ setup: () => connectChroma() }),
    embedder: defineResource({ setup: () => loadEmbedder(), teardown: (embedder) => embedder.close() }),
  },
});
