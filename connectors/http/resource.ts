import { defineResource, type ResourceDefinition } from "../../engine/resource.ts";

/**
 * A resource holding an API client, made when an asset first needs it from a secret read then: a missing
 * secret fails the setup with what to set (`variable`, or its `_FILE`) and, for the local sample, what to run.
 */
export function apiClientResource<T>(
  kind: string,
  secret: { variable: string; value: () => string | undefined; sample: string },
  make: (secret: string) => T,
): ResourceDefinition<T> {
  return defineResource({
    kind,
    setup: () => {
      const value = secret.value();
      if (!value) {
        throw new Error(
          `${secret.variable} (or ${secret.variable}_FILE) is not set, and ${secret.sample} has none yet: run \`ingest stack up\``,
        );
      }
      return make(value);
    },
  });
}
