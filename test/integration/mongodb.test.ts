import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { Binary, type Db, Long, MongoClient, ObjectId, Timestamp } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isBadRow, SourceError } from "../../connectors/bad-rows.ts";
import { connectMongo, mongoResource, observeCollection, readCollection } from "../../connectors/mongodb/index.ts";
import { stagingResource } from "../../connectors/staging/index.ts";
import { defineDefinitions } from "../../engine/definitions.ts";
import { buildAssetGraph } from "../../engine/asset-graph.ts";
import { listDeadLetters } from "../../engine/dead-letters.ts";
import { createPool } from "../../resources/postgres.ts";
import { localPorts, packageRoot, settings } from "../../resources/settings.ts";
import { stagedVariants } from "../../assets/ec/variants.ts";
import { writeCatalogue } from "../../samples/generate/catalogue/write-catalogue.ts";
import { variantsNotAnArray } from "../../samples/generate/defects.ts";
import { createWorld } from "../../samples/generate/world.ts";
import { ferretdbArgs, ferretdbBinary, mongoAnswers } from "../../stack/ferretdb.ts";
import { stackUp } from "../../stack/stack.ts";
import { boundSockets } from "../sockets.ts";
import { connect, materialize } from "../support.ts";

/** The stack's FerretDB, in a database of this test's own (a schema of its own in Postgres). */
function testUrl(database: string, password?: string): string {
  const url = new URL(settings().mongo.url);
  url.pathname = `/${database}`;
  if (password !== undefined) url.password = password;
  return url.toString();
}

async function collect<T>(rows: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const row of rows) out.push(row);
  return out;
}

let db: Db;
beforeAll(async () => {
  db = await connectMongo(testUrl("ingest_mongodb_test"));
  await db.dropDatabase();
});
afterAll(async () => {
  await db?.dropDatabase();
  await db?.client.close();
});

describe("the stack's FerretDB", () => {
  it("listens on 127.0.0.1 only, serves only clients that log in, and reports no telemetry", async () => {
    const [status] = await stackUp(["ferretdb"]);
    expect(status).toMatchObject({ name: "ferretdb", reachable: true });
    if (status!.managedBy === "ours") {
      expect(boundSockets(status!.pid!)).toEqual([`127.0.0.1:${localPorts.ferretdb}`]);
    }
    expect(status!.location).not.toContain(new URL(settings().mongo.url).password);
    // Its Postgres URL holds no password: a client that does not log in reaches no data.
    const anonymous = await MongoClient.connect(`mongodb://127.0.0.1:${localPorts.ferretdb}/catalog`);
    try {
      await expect(anonymous.db().collection("products").findOne()).rejects.toThrow();
    } finally {
      await anonymous.close();
    }
  });
});

describe("MONGODB_URL", () => {
  /** The CLI with a state folder of its own, as a user with their own MongoDB would run it. */
  function stackUpFerretdb(url: string) {
    const state = mkdtempSync(join(tmpdir(), "ingest-mongodb-url-"));
    try {
      const result = spawnSync(join(packageRoot, "node_modules", ".bin", "node"), [
        join(packageRoot, "cli", "main.ts"),
        "--json",
        "stack",
        "up",
        "ferretdb",
      ], { encoding: "utf8", env: { ...process.env, MONGODB_URL: url, INGEST_STATE_DIR: state } });
      return { ...result, started: existsSync(join(state, "run", "ferretdb.pid")) };
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  }

  it("names a server `stack up` only checks, and never starts one of its own in its place", () => {
    const answers = stackUpFerretdb(settings().mongo.url);
    expect(answers.status, answers.stderr).toBe(0);
    expect(JSON.parse(answers.stdout)).toMatchObject([{ name: "ferretdb", reachable: true, managedBy: "external" }]);
    expect(answers.stdout).not.toContain(new URL(settings().mongo.url).password);

    const nothing = stackUpFerretdb("mongodb://someone:a-secret-password@127.0.0.1:9/catalog");
    expect(nothing.status).toBe(1);
    expect(nothing.stderr).toContain(
      "ferretdb is configured at mongodb://someone:***@127.0.0.1:9/catalog by the environment but is not reachable there",
    );
    expect(nothing.stderr).not.toContain("a-secret-password");
    expect([answers.started, nothing.started]).toEqual([false, false]);
  });
});

describe("readCollection", () => {
  it("reads nested documents as plain JSON values: ObjectId as hex, dates as ISO 8601, 64-bit integers as numbers", async () => {
    const id = new ObjectId("65f0c0ffee00000000000001");
    await db.collection("products").insertOne({
      _id: id,
      name: "Trail Runner",
      updatedAt: new Date("2026-03-01T12:00:00Z"),
      stockTotal: Long.fromNumber(9_007_199_254_740_000),
      checksum: new Binary(Buffer.from("hello")),
      changedAt: new Timestamp({ t: 1_700_000_000, i: 3 }),
      variants: [
        { sku: "TR-BLK-42", size: "42", price: 89.9, stock: 3, tags: ["black", "wide"] },
        { sku: "TR-RED-43", size: "43", price: 94.5, stock: 0, dimensions: { heightMm: 120, weightG: 310 } },
      ],
    });
    expect(await collect(readCollection(db, "products"))).toEqual([{
      _id: "65f0c0ffee00000000000001",
      name: "Trail Runner",
      updatedAt: "2026-03-01T12:00:00.000Z",
      stockTotal: 9_007_199_254_740_000,
      checksum: "aGVsbG8=",
      changedAt: { t: 1_700_000_000, i: 3 },
      variants: [
        { sku: "TR-BLK-42", size: "42", price: 89.9, stock: 3, tags: ["black", "wide"] },
        { sku: "TR-RED-43", size: "43", price: 94.5, stock: 0, dimensions: { heightMm: 120, weightG: 310 } },
      ],
    }]);
    // A plain value parses as JSON as it is.
    const [again] = await collect(readCollection(db, "products"));
    expect(JSON.parse(JSON.stringify(again))).toEqual(again);
  });

  it("streams batch by batch in the order asked, and a break closes the cursor on the server", async () => {
    const documents = Array.from({ length: 2_500 }, (_, i) => ({ _id: i, n: i, group: i % 3 }));
    await db.collection<{ _id: number }>("numbers").insertMany(documents);
    // A client that reports the commands it sends: what the server was asked for, batch by batch.
    const monitored = await MongoClient.connect(testUrl("ingest_mongodb_test"), { monitorCommands: true });
    const commands: string[] = [];
    monitored.on("commandStarted", (event) => commands.push(event.commandName));
    try {
      const seen: number[] = [];
      for await (const doc of readCollection(monitored.db(), "numbers", { sort: { _id: -1 }, batchSize: 100 })) {
        if (isBadRow(doc)) throw new Error(doc.__error);
        seen.push(doc.n as number);
        if (seen.length === 250) break;
      }
      expect(seen).toEqual(Array.from({ length: 250 }, (_, i) => 2_499 - i));
      // 250 documents came in three batches of 100 (a find, two getMores), not the 2,500 at once.
      expect(commands.filter((c) => c === "find" || c === "getMore")).toEqual(["find", "getMore", "getMore"]);
      expect(commands.at(-1)).toBe("killCursors");

      const filtered = await collect(
        readCollection(monitored.db(), "numbers", {
          filter: { group: 1, n: { $lt: 10 } },
          sort: { n: 1 },
          projection: { _id: 0, n: 1 },
        }),
      );
      expect(filtered).toEqual([{ n: 1 }, { n: 4 }, { n: 7 }]);
    } finally {
      await monitored.close();
    }
  });

  it("yields a document with no JSON value in place as a bad row naming its _id and field, and reads on", async () => {
    await db.collection<{ _id: number; name: string; match?: RegExp }>("patterns").insertMany([
      { _id: 1, name: "first" },
      { _id: 2, name: "second", match: /^TR-[A-Z]{3}$/i },
      { _id: 3, name: "third" },
    ]);
    const rows = await collect(readCollection(db, "patterns", { sort: { _id: 1 } }));
    expect(rows.map((row) => (isBadRow(row) ? "bad" : row.name))).toEqual(["first", "bad", "third"]);
    const bad = rows[1];
    if (!isBadRow(bad)) throw new Error("expected a bad row");
    expect(bad.__line).toBe(2);
    expect(bad.__error).toBe(
      `MongoDB collection ingest_mongodb_test.patterns at 127.0.0.1:${localPorts.ferretdb}:2: document _id 2: ` +
        "match is the regular expression /^TR-[A-Z]{3}$/i, which has no JSON value",
    );
    expect(JSON.parse(bad.raw)).toMatchObject({ _id: { $numberInt: "2" }, match: { $regularExpression: {} } });
    await expect(collect(readCollection(db, "patterns", { sort: { _id: 1 }, onBadRow: "throw" }))).rejects.toThrow(
      SourceError,
    );
  });

  it("refuses a wrong password with an error naming the server and the user, never the password", async () => {
    const wrong = "not-the-password-4711";
    const error = await connectMongo(testUrl("ingest_mongodb_test", wrong), { setting: "CATALOG_URL" }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(
      new RegExp(`^cannot connect to MongoDB at mongodb://ferretdb:\\*\\*\\*@127\\.0\\.0\\.1:${localPorts.ferretdb}/`),
    );
    expect(error?.message).toContain("it refused user 'ferretdb' with the password given");
    expect(error?.message).toContain("check CATALOG_URL");
    expect(error?.message).not.toContain(wrong);
    const resource = mongoResource(testUrl("ingest_mongodb_test", wrong));
    await expect(resource.setup()).rejects.toThrow(/refused user 'ferretdb'/);
  });
});

describe("observeCollection", () => {
  it("gives a version that moves when a document is added or one is updated, and only then", async () => {
    const items = db.collection<{ _id: number; updatedAt: Date }>("observed");
    await items.insertMany([
      { _id: 1, updatedAt: new Date("2026-03-01T10:00:00Z") },
      { _id: 2, updatedAt: new Date("2026-03-02T10:00:00Z") },
    ]);
    const first = await observeCollection(db, "observed", { updatedAt: "updatedAt" });
    expect(first).toEqual({ documents: 2, latest: "2026-03-02T10:00:00.000Z" });
    expect(await observeCollection(db, "observed", { updatedAt: "updatedAt" })).toEqual(first);
    await items.updateOne({ _id: 1 }, { $set: { updatedAt: new Date("2026-03-05T08:00:00Z") } });
    expect(await observeCollection(db, "observed", { updatedAt: "updatedAt" })).toEqual({
      documents: 2,
      latest: "2026-03-05T08:00:00.000Z",
    });
    await items.insertOne({ _id: 3, updatedAt: new Date("2026-03-04T00:00:00Z") });
    expect(await observeCollection(db, "observed")).toEqual({ documents: 3 });
    expect(await observeCollection(db, "nothing_here", { updatedAt: "updatedAt" })).toEqual({
      documents: 0,
      latest: null,
    });
  });
});

describe("a FerretDB killed in the middle of a read", () => {
  const database = "ingest_ferretdb_killed";
  const admin = createPool(settings().databaseUrl.replace(/\/[^/]*$/, "/postgres"), 1);
  let server: ChildProcess;
  let port: number;

  beforeAll(async () => {
    port = localPorts.ferretdb + 1_000;
    // A Postgres database of its own: two FerretDBs over one database each keep their own list of collections.
    await admin.query(`drop database if exists ${database} with (force)`);
    await admin.query(`create database ${database} owner ferretdb`);
    server = spawn(
      await ferretdbBinary(),
      ferretdbArgs({ port, postgresHost: new URL(settings().databaseUrl).host, database }),
      { stdio: "ignore" },
    );
    const url = testUrl("ingest_mongodb_test").replace(`:${localPorts.ferretdb}/`, `:${port}/`);
    for (let tries = 0; !(await mongoAnswers(url)); tries++) {
      if (tries > 100 || server.exitCode !== null) throw new Error(`FerretDB on port ${port} did not start`);
      await sleep(200);
    }
  });
  afterAll(async () => {
    if (server.exitCode === null) server.kill("SIGKILL");
    await admin.query(`drop database if exists ${database} with (force)`);
    await admin.end();
  });

  it("fails the read with an error naming the collection, its server and how far it got", async () => {
    const url = testUrl("ingest_mongodb_test").replace(`:${localPorts.ferretdb}/`, `:${port}/`);
    const other = await connectMongo(url, { serverSelectionTimeoutMS: 2_000 });
    await other.collection<{ _id: number }>("lines").insertMany(
      Array.from({ length: 1_000 }, (_, i) => ({ _id: i, text: `line ${i}` })),
    );
    let read = 0;
    try {
      const error = await (async () => {
        for await (const _ of readCollection(other, "lines", { sort: { _id: 1 }, batchSize: 100 })) {
          read += 1;
          if (read === 50) {
            server.kill("SIGKILL");
            await once(server, "exit");
          }
        }
      })().then(() => undefined, (e: Error) => e);
      expect(read).toBe(100);
      expect(error).toBeInstanceOf(SourceError);
      expect(error!.message).toMatch(
        new RegExp(
          `^MongoDB collection ingest_mongodb_test\\.lines at 127\\.0\\.0\\.1:${port}: reading failed after 100 documents: `,
        ),
      );
      expect(error!.message).not.toContain(new URL(settings().mongo.url).password);
    } finally {
      await other.client.close();
    }
  });
});

describe("the catalogue's variants from MongoDB", () => {
  it("stages one record per variant and dead-letters the type drift the generator put in, with its reasons", async () => {
    const catalog = await connectMongo(testUrl("ingest_mongodb_catalogue"));
    const env = await connect();
    try {
      const world = createWorld(600, 11);
      const { reports } = await writeCatalogue(world, catalog);
      const graph = buildAssetGraph(defineDefinitions({
        assets: [stagedVariants],
        resources: { catalog: mongoResource(testUrl("ingest_mongodb_catalogue")), staging: stagingResource() },
      }));
      const { run } = await materialize(env.pool, graph, ["ec/variants"]);
      expect(run.status, run.error ?? "").toBe("succeeded");
      const m = await env.db.selectFrom("ingest.materializations").select("counts")
        .where("run_id", "=", run.id).where("asset_key", "=", "ec/variants").executeTakeFirstOrThrow();
      const expected = reports.variants!;
      const bad = Object.values(expected.bad).reduce((a, b) => a + (b ?? 0), 0);
      expect(bad).toBeGreaterThan(0);
      expect(m.counts).toMatchObject({
        extracted: expected.generated,
        loaded: expected.expectedLoaded,
        deadLettered: bad,
      });

      const letters = await listDeadLetters(env.db, { runId: run.id, assetKey: "ec/variants" });
      const kinds = letters.map((l) => {
        const [issue] = l.issues;
        if (l.reason === "unparseable") return /variants is a number \(\d+\), not an array/.test(issue!.message);
        if (issue!.path === "price") return /expected number, received string/.test(issue!.message);
        if (issue!.path === "sku") return l.issues.length === 1;
        return `unexpected: ${l.reason} ${JSON.stringify(l.issues)}`;
      });
      expect(kinds).toEqual(letters.map(() => true));
      // wrong_type is a price as text or, product-wide, a count in place of the variants array.
      const notAnArray = Array.from({ length: world.sizes.products }, (_, p) => p).filter(variantsNotAnArray).length;
      expect(notAnArray).toBeGreaterThan(0);
      expect({
        notAnArray: letters.filter((l) => l.reason === "unparseable").length,
        priceAsText: letters.filter((l) => l.issues[0]!.path === "price").length,
        withoutSku: letters.filter((l) => l.issues[0]!.path === "sku").length,
      }).toEqual({
        notAnArray,
        priceAsText: expected.bad.wrong_type! - notAnArray,
        withoutSku: expected.bad.missing_required_field,
      });
    } finally {
      await catalog.dropDatabase();
      await catalog.client.close();
      await env.close();
    }
  });
});
