import { defineResource, type ResourceDefinition, type ResourceKind } from "../../engine/resource.ts";
import { envSecret, type Neo4jSettings, settings } from "../../resources/settings.ts";
import { neo4jConnectionError } from "../../resources/connection-errors.ts";
import { connectNeo4j, type Driver } from "./driver.ts";

/** What node and relationship assets need: a Neo4j driver, received as `neo4j`. */
export const neo4jKind: ResourceKind & { name: "neo4j" } = {
  kind: "neo4j",
  name: "neo4j",
  make: "neo4jResource()",
  is: (value) =>
    typeof (value as Driver)?.executeQuery === "function" && typeof (value as Driver)?.session === "function",
};

/**
 * A Neo4j driver, closed when the process is done with it. Connection settings default to
 * `NEO4J_URI`, `NEO4J_USER` and `NEO4J_PASSWORD` (or `NEO4J_PASSWORD_FILE`), else the local stack's;
 * each of `config`'s fields overrides one of them, and a field given as `undefined` overrides it too
 * (a `password: undefined` means no password). Setup checks the server answers and fails with an error
 * naming the address, the user, where they came from and the fix.
 *
 * @example
 * ```ts
 * resources: { neo4j: neo4jResource() }
 * ```
 *
 * @example
 * ```ts
 * resources: {
 *   neo4j: neo4jResource({ uri: "neo4j://graph.internal:7687", user: "ingest", password: process.env.GRAPH_PASSWORD! }),
 * }
 * ```
 */
export function neo4jResource(
  config: Partial<Pick<Neo4jSettings, "uri" | "user" | "password">> = {},
): ResourceDefinition<Driver> {
  return defineResource({
    kind: neo4jKind.kind,
    setup: async () => {
      const defaults = settings().neo4j;
      // The local stack's generated password is for the local stack: a server named here gets only
      // the password given here or in NEO4J_PASSWORD, never that one.
      const password = "password" in config
        ? config.password
        : config.uri !== undefined && !defaults.external
        ? envSecret("NEO4J_PASSWORD")
        : defaults.password;
      const resolved = { ...defaults, ...config, password };
      const driver = connectNeo4j(resolved);
      await driver.getServerInfo().catch(async (error: unknown) => {
        await driver.close();
        throw neo4jConnectionError(resolved.uri, resolved.user, {
          variable: config.uri ? "the settings given to neo4jResource" : "NEO4J_URI",
          fromEnvironment: config.uri !== undefined || resolved.external,
        }, error);
      });
      return driver;
    },
    teardown: (driver) => driver.close(),
  });
}
