import { defineResource, type ResourceDefinition, type ResourceKind } from "../../engine/resource.ts";
import { settings } from "../../resources/settings.ts";
import { chromaConnectionError } from "../../resources/connection-errors.ts";
import { type ChromaOptions, type ChromaResource, connectChroma } from "./client.ts";

/** What collection assets need to write to: a Chroma server, received as `chroma`. */
export const chromaKind: ResourceKind & { name: "chroma" } = {
  kind: "chroma",
  name: "chroma",
  make: "chromaResource()",
  is: (value) =>
    typeof (value as ChromaResource)?.collection === "function" &&
    typeof (value as ChromaResource)?.upsert === "function",
};

/**
 * A Chroma server at `url` (default `CHROMA_URL`, else the local stack's), what collection assets write
 * to. Setup connects (see {@link connectChroma}) and fails with an error naming the address, where it came
 * from and the fix; there is nothing to tear down.
 *
 * @example
 * ```ts
 * resources: { chroma: chromaResource() }
 * ```
 *
 * @example
 * ```ts
 * resources: { chroma: chromaResource("http://chroma.internal:8000", { batchSize: 500 }) }
 * ```
 */
export function chromaResource(url?: string, options: ChromaOptions = {}): ResourceDefinition<ChromaResource> {
  return defineResource({
    kind: chromaKind.kind,
    setup: async () => {
      const { chromaUrl, external } = settings();
      const resolved = url ?? chromaUrl;
      return await connectChroma(resolved, options).catch((error: unknown) => {
        throw chromaConnectionError(resolved, {
          variable: url ? "the URL given to chromaResource" : "CHROMA_URL",
          fromEnvironment: url !== undefined || external.chroma,
        }, error);
      });
    },
  });
}
