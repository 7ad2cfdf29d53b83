import { ChromaClient } from "chromadb";
import { MongoClient } from "mongodb";
import neo4j from "neo4j-driver";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { ApiError } from "../../connectors/http/errors.ts";
import { createMysqlPool } from "../../connectors/mariadb/pool.ts";
import { unreachableStore } from "../../resources/connection-errors.ts";
import { freePort } from "../../stack/throwaway.ts";

/** The error `attempt` fails with. */
const failure = (attempt: () => Promise<unknown>) => attempt().then(() => undefined, (error: unknown) => error);

/**
 * What rides out an outage (a materialisation run again, a pool waiting) and what fails at once: each
 * driver's own error for a server that is not there, got by connecting to a port nobody listens on,
 * against errors that no wait would cure.
 */
describe("unreachableStore", () => {
  it("names the store for each driver's error when its server is down", async () => {
    const port = await freePort();
    const postgres = await failure(() =>
      new pg.Client({ connectionString: `postgres://u:p@127.0.0.1:${port}/x` }).connect()
    );
    expect(unreachableStore(postgres)).toMatch(new RegExp(`^127\\.0\\.0\\.1:${port}: connect ECONNREFUSED`));

    const driver = neo4j.driver(`bolt://127.0.0.1:${port}`, neo4j.auth.basic("neo4j", "secret"));
    const neo4jError = await failure(() => driver.executeQuery("RETURN 1"));
    await driver.close();
    expect(unreachableStore(neo4jError)).toMatch(/^Neo4j: /);

    const chroma = await failure(() => new ChromaClient({ path: `http://127.0.0.1:${port}` }).heartbeat());
    expect(unreachableStore(chroma)).toMatch(/^Chroma: /);

    const mysql = createMysqlPool(`mysql://u:p@127.0.0.1:${port}/x`);
    const mariadb = await failure(() => mysql.query("select 1"));
    await mysql.end();
    expect(unreachableStore(mariadb)).toMatch(/ECONNREFUSED/);

    const mongo = new MongoClient(`mongodb://127.0.0.1:${port}/x`, { serverSelectionTimeoutMS: 300 });
    const mongoError = await failure(() => mongo.db("x").command({ ping: 1 }));
    await mongo.close();
    expect(unreachableStore(mongoError)).toMatch(/^MongoDB: /);

    const fetchError = await failure(() => fetch(`http://127.0.0.1:${port}/`));
    const wrapped = new Error("reading the feed failed", { cause: fetchError });
    expect(unreachableStore(wrapped)).toMatch(/ECONNREFUSED.*\(reading the feed failed\)$|ECONNREFUSED/);
  });

  it("counts an API client's error after its retries when no answer came, or the service said it is unavailable", () => {
    const details = { source: "CRM API", url: "http://127.0.0.1:1/x" };
    expect(unreachableStore(new ApiError("CRM API: GET /x failed after 5 attempts", { ...details, status: undefined })))
      .toBe("CRM API: GET /x failed after 5 attempts");
    expect(unreachableStore(new ApiError("CRM API: 503", { ...details, status: 503 }))).toBe("CRM API: 503");
    expect(unreachableStore(new ApiError("CRM API: 404", { ...details, status: 404 }))).toBeUndefined();
    expect(unreachableStore(new ApiError("CRM API: 401", { ...details, status: 401 }))).toBeUndefined();
  });

  it("leaves alone what waiting would not cure", () => {
    const auth = Object.assign(new Error('password authentication failed for user "ingest"'), { code: "28P01" });
    const syntax = Object.assign(new Error("Invalid input 'MATC'"), { code: "Neo.ClientError.Statement.SyntaxError" });
    const full = Object.assign(new Error("could not extend file: No space left on device"), { code: "53100" });
    for (const error of [auth, syntax, full, new TypeError("x is not a function"), "a string", undefined]) {
      expect(unreachableStore(error)).toBeUndefined();
    }
  });
});
