import { defineResource, type ResourceDefinition, type ResourceKind } from "../engine/resource.ts";
import type { Embedder, EmbedderOptions } from "./embedder.ts";

/** What collection assets embed their documents with: received as `embedder`. */
export const embedderKind: ResourceKind & { name: "embedder" } = {
  kind: "embedder",
  name: "embedder",
  make: "embedderResource()",
  is: (value) =>
    typeof (value as Embedder)?.embed === "function" && typeof (value as Embedder)?.dimensions === "number",
};

/**
 * The embedding model (all-MiniLM-L6-v2 from `EMBEDDING_MODEL_PATH`, else the stack's model folder),
 * loaded once per process on first use and closed with it; options as for {@link loadEmbedder}. An
 * invalid `EMBEDDING_*` variable, or a model that is not there, fails the setup.
 *
 * @example
 * ```ts
 * resources: { embedder: embedderResource() }
 * ```
 *
 * @example
 * ```ts
 * resources: { embedder: embedderResource({ batchSize: 32, workers: 2 }) }
 * ```
 */
export function embedderResource(options: EmbedderOptions = {}): ResourceDefinition<Embedder> {
  return defineResource({
    kind: embedderKind.kind,
    setup: () => loadEmbedder(options),
    teardown: (embedder) => embedder.close(),
  });
}

/**
 * Loads the embedding model: `loadEmbedder` of `resources/embedder.ts`, imported on first call, so a
 * project that imports the framework pays for the model runtime only when it embeds.
 *
 * @example
 * ```ts
 * const embedder = await loadEmbedder();
 * const [vector] = await embedder.embed(["wireless headphones"]);
 * await embedder.close();
 * ```
 */
export async function loadEmbedder(options: EmbedderOptions = {}): Promise<Embedder> {
  return (await import("./embedder.ts")).loadEmbedder(options);
}
