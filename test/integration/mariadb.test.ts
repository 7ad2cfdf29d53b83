import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Deal, dealKey, flattenHubSpotObject } from "../../assets/crm/models.ts";
import { listDeadLetters } from "../../engine/dead-letters.ts";
import { buildAssetGraph } from "../../engine/asset-graph.ts";
import { defineDefinitions } from "../../engine/definitions.ts";
import { SourceError } from "../../connectors/bad-rows.ts";
import {
  createMysqlPool,
  mariadbResource,
  type mysql,
  observeMysqlTable,
  readMysql,
} from "../../connectors/mariadb/index.ts";
import { defineStagedAsset, Staging, stagingResource } from "../../connectors/staging/index.ts";
import { ConnectionError } from "../../resources/connection-errors.ts";
import { metadataDb } from "../../resources/postgres.ts";
import { settings } from "../../resources/settings.ts";
import { startThrowawayMariadb } from "../../stack/mariadb.ts";
import { freePort } from "../../stack/throwaway.ts";
import { writeCrmDatabase } from "../../samples/generate/crm/write-crm-database.ts";
import { dealObject } from "../../samples/generate/crm/deals.ts";
import { badReasonOf, createWorld, indexOfId } from "../../samples/generate/index.ts";
import { connect, materialize, withStoreOutageMs } from "../support.ts";

const id = randomBytes(3).toString("hex");
/** A database of this test's own in the stack's MariaDB, dropped afterwards. */
const database = `ingest_test_${id}`;
const urlOf = (base: string, name: string) => {
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
};
const url = urlOf(settings().mariadb.url, database);

let env: Awaited<ReturnType<typeof connect>>;
let pool: mysql.Pool;

async function collect<T>(rows: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const row of rows) out.push(row);
  return out;
}

/** The error an iteration ends with. */
async function failureOf(rows: AsyncIterable<unknown>): Promise<Error> {
  try {
    for await (const _ of rows) { /* read on */ }
  } catch (error) {
    return error as Error;
  }
  throw new Error("the reader ended without an error");
}

beforeAll(async () => {
  env = await connect();
  await env.crmDatabase.query(`create database ${database} character set utf8mb4 collate utf8mb4_unicode_ci`);
  pool = createMysqlPool(url);
  // Rows 1…200,000 of about 1 KB each: far more than a reader may hold.
  await pool.query(
    `create table wide (id int primary key, name varchar(64), amount decimal(10, 2), at datetime(3), filler text)`,
  );
  await pool.query(
    `insert into wide select seq, concat('rep ', seq), seq / 100, timestamp('2026-01-01') + interval seq second,
            repeat('x', 1000) from seq_1_to_200000`,
  );
});
afterAll(async () => {
  await pool?.end();
  await env?.crmDatabase.query(`drop database if exists ${database}`);
  await env?.close();
});

describe("readMysql", () => {
  it("streams a query's rows in its order, with its placeholders, whatever the batch size", async () => {
    const rows = await collect(
      readMysql<{ id: number; name: string; amount: string; at: string }>(
        pool,
        "select id, name, amount, at from wide where id <= ? order by id",
        [2345],
        { batchSize: 100 },
      ),
    );
    expect(rows.map((r) => r.id)).toEqual(Array.from({ length: 2345 }, (_, i) => i + 1));
    // DECIMAL as its exact text, DATETIME as the server holds it (no time zone guessed).
    expect(rows[41]).toEqual({ id: 42, name: "rep 42", amount: "0.42", at: "2026-01-01 00:00:42.000" });

    const later = await collect(
      readMysql<{ id: number }>(pool, "select id from wide where id > ? order by id desc", [199_955], { batchSize: 7 }),
    );
    expect(later.map((r) => r.id)).toEqual(Array.from({ length: 45 }, (_, i) => 200_000 - i));
    await expect(collect(readMysql(pool, "select 1", [], { batchSize: 0 }))).rejects.toThrow(RangeError);
  });

  it("holds back the server while the loop waits: it sends no more than a batch and the sockets' buffers hold", async () => {
    // The server's count of bytes sent, live: what it has written to every client so far.
    const sent = async () =>
      Number((await pool.query<mysql.RowDataPacket[]>("show global status like 'Bytes_sent'"))[0][0]!.Value);
    const before = await sent();
    const rows = readMysql<{ id: number }>(pool, "select id, filler from wide order by id", [], { batchSize: 50 })
      [Symbol.asyncIterator]();
    try {
      expect((await rows.next()).value.id).toBe(1);
      // While the loop waits, what the server sends settles (but for these status queries' own answers).
      let previous = Number.NEGATIVE_INFINITY;
      let now = await sent();
      while (now - previous > 65_536) {
        previous = now;
        await sleep(300);
        now = await sent();
      }
      // 200,000 rows of a kilobyte are 200 MB; held back, a few megabytes are in flight.
      expect(now - before).toBeGreaterThan(0);
      expect(now - before).toBeLessThan(20_000_000);
    } finally {
      await rows.return!(undefined);
    }
  });

  it("lets go on break: the query stops on the server and the pool's one connection serves the next", async () => {
    const single = createMysqlPool(url, { connectionLimit: 1 });
    try {
      let read = 0;
      for await (
        const _ of readMysql(single, "select /* broken off */ * from wide order by id", [], { batchSize: 10 })
      ) {
        if (++read === 15) break;
      }
      expect(read).toBe(15);
      const [[row]] = await single.query<mysql.RowDataPacket[]>("select count(*) as n from wide");
      expect(row!.n).toBe(200_000);
      const running = async () => {
        const [found] = await pool.query<mysql.RowDataPacket[]>(
          "select count(*) as n from information_schema.processlist where info like 'select /* broken off */%'",
        );
        return found[0]!.n;
      };
      await expect.poll(running).toBe(0);
    } finally {
      await single.end();
    }
  });

  it("names the server, never the password, when the login is refused", async () => {
    const wrong = new URL(url);
    wrong.password = "wrong-secret-9f3a1c";
    const refused = createMysqlPool(wrong.toString());
    try {
      const error = await failureOf(readMysql(refused, "select 1"));
      expect(error).toBeInstanceOf(ConnectionError);
      expect(error.message).toContain(`the MySQL/MariaDB server at 127.0.0.1:${new URL(url).port}`);
      expect(error.message).toContain("refused user 'ingest' with the password given");
      expect(error.message).not.toContain("wrong-secret-9f3a1c");
    } finally {
      await refused.end();
    }
    const setup = await Promise.resolve(mariadbResource(wrong.toString(), { setting: "CRM_DB_URL" }).setup()).then(
      () => undefined,
      (error: Error) => error,
    );
    expect(setup?.message).toContain(`mysql://ingest:***@127.0.0.1:${new URL(url).port}/${database}`);
    expect(setup?.message).toContain("check CRM_DB_URL");
    expect(setup?.message).not.toContain("wrong-secret-9f3a1c");
  });

  it("says nothing answers at an address where no server listens", async () => {
    const closed = new URL(url);
    closed.port = String(await freePort());
    const nowhere = createMysqlPool(closed.toString());
    try {
      const error = await failureOf(readMysql(nowhere, "select 1"));
      expect(error).toBeInstanceOf(ConnectionError);
      expect(error.message).toBe(
        `cannot connect to the MySQL/MariaDB server at 127.0.0.1:${closed.port} (database ${database}): nothing answers there (ECONNREFUSED)`,
      );
    } finally {
      await nowhere.end();
    }
  });

  it("names the table, the database and the query when the table does not exist", async () => {
    const error = await failureOf(readMysql(pool, "select * from deals_archive order by deal_id"));
    expect(error).toBeInstanceOf(SourceError);
    expect(error.message).toBe(
      `the MySQL/MariaDB server at 127.0.0.1:${
        new URL(url).port
      } (database ${database}): Table '${database}.deals_archive' doesn't exist (ER_NO_SUCH_TABLE), in "select * from deals_archive order by deal_id"`,
    );
  });

  it("observes a table cheaply: its row count and latest update move with the source", async () => {
    await pool.query("create table observed (id int primary key, updated_at datetime(3) not null)");
    await pool.query("insert into observed values (1, '2026-01-01 00:00:00'), (2, '2026-01-02 00:00:00')");
    const observe = () => observeMysqlTable(pool, "observed", { updatedAt: "updated_at" });
    expect(await observe()).toEqual({ rows: 2, latest: "2026-01-02 00:00:00.000" });
    await pool.query("update observed set updated_at = '2026-02-01 00:00:00' where id = 1");
    expect(await observe()).toEqual({ rows: 2, latest: "2026-02-01 00:00:00.000" });
    await pool.query("delete from observed");
    expect(await observe()).toEqual({ rows: 0, latest: null });
    expect(await observeMysqlTable(pool, "observed")).toEqual({ rows: 0 });
    await expect(observeMysqlTable(pool, "unobserved")).rejects.toThrow(
      `Table '${database}.unobserved' doesn't exist (ER_NO_SUCH_TABLE)`,
    );
  });

  it("fails clearly, and not as the end of the rows, when the server dies in the middle of a read", async () => {
    const server = await startThrowawayMariadb();
    const doomed = createMysqlPool(server.url);
    try {
      await doomed.query("create table wide (id int primary key, filler text)");
      await doomed.query("insert into wide select seq, repeat('x', 1000) from seq_1_to_100000");
      let read = 0;
      const error = await failureOf(
        (async function* () {
          for await (const row of readMysql(doomed, "select * from wide order by id", [], { batchSize: 50 })) {
            if (++read === 100) process.kill(server.pid, "SIGKILL");
            yield row;
          }
        })(),
      );
      expect(read).toBeLessThan(100_000);
      expect(error).toBeInstanceOf(ConnectionError);
      expect(error.message).toMatch(
        new RegExp(
          `^lost the connection to the MySQL/MariaDB server at 127\\.0\\.0\\.1:${server.port} \\(database crm\\) while reading "select \\* from wide order by id": `,
        ),
      );
    } finally {
      await doomed.end().catch(() => {});
      await server.stop();
    }
  });
});

describe("a staged asset from MariaDB", () => {
  // 300 deals: one bad deal per reason (non-numeric amount, unknown currency, unparseable close date).
  const world = createWorld(15_000, 5);
  const table = `mariadb_deals_${id}`;
  type Extract = Parameters<typeof defineStagedAsset<Deal, { crmDatabase: mysql.Pool }>>[0]["extract"];
  /** The bundled project's deals asset, as `assets/crm/sales.ts` declares it, under keys of this test's own. */
  const dealsAsset = (name: string, maxAttempts: number, extract: Extract) =>
    defineStagedAsset<Deal, { crmDatabase: mysql.Pool }>({
      key: `mariadb_${id}/${name}`,
      codeVersion: "1",
      table: `${table}_${name}`,
      source: "crm.deals",
      model: Deal,
      sourceKey: dealKey,
      rawKey: (row) => row.deal_id,
      updatedAt: (d) => d.updatedAt,
      resources: ["crmDatabase"],
      retry: { maxAttempts, initialDelayMs: 10 },
      extract,
    });
  const deals = dealsAsset(
    "deals",
    1,
    ({ resources: { crmDatabase } }) => readMysql(crmDatabase, "select * from deals order by deal_id"),
  );
  const graph = buildAssetGraph(
    defineDefinitions({
      assets: [deals],
      resources: { staging: stagingResource(), crmDatabase: mariadbResource(url) },
    }),
  );

  afterAll(() => env?.pool.query(`drop table if exists staging.${table}_deals, staging.${table}_dying`));

  it("stages the CRM database's deals as the API's, dead-letters each bad row, and the counts reconcile", async () => {
    const { reports } = await writeCrmDatabase(world, pool);
    const expected = reports.deals!;
    expect(expected).toMatchObject({ generated: 300, duplicates: 0, expectedLoaded: 297 });

    const { run } = await materialize(env.pool, graph);
    expect(run.status, run.error ?? "").toBe("succeeded");
    const m = await env.db.selectFrom("ingest.materializations").select("counts").where("run_id", "=", run.id)
      .executeTakeFirstOrThrow();
    expect(m.counts).toMatchObject({ extracted: 300, loaded: 297, deadLettered: 3, deduplicated: 0 });

    const letters = await listDeadLetters(metadataDb(env.pool), { runId: run.id });
    const where = { non_numeric_price: "amount", unknown_currency: "currency", unparseable_date: "closeDate" };
    expect(letters.map((l) => [badReasonOf("deals", indexOfId(l.sourceKey!)), l.issues[0]!.path]).sort()).toEqual(
      Object.entries(where).sort(),
    );
    // The payload is the row as read: the typed amount, the integer keys, the DATETIME text.
    const amount = letters.find((l) => l.issues[0]!.path === "amount")!;
    expect(amount.payload).toMatchObject({ deal_id: Number(amount.sourceKey), amount: expect.any(String) });

    // The same world as the API's: every good row is staged as the API's object for that deal parses.
    const staging = new Staging(env.pool);
    const staged = await staging.read<Deal>(`${table}_deals`);
    expect(staged).toHaveLength(297);
    for (const { sourceKey, record } of staged) {
      expect(record).toEqual(Deal.parse(flattenHubSpotObject(dealObject(world, indexOfId(sourceKey)))));
    }
  });

  it("writes the same rows for the same scale and seed", async () => {
    const twin = `${database}_twin`;
    await env.crmDatabase.query(`create database ${twin}`);
    const other = createMysqlPool(urlOf(settings().mariadb.url, twin));
    try {
      const first = await writeCrmDatabase(world, pool);
      const second = await writeCrmDatabase(world, other);
      expect(second).toEqual(first);
      const checksums = async (on: mysql.Pool) =>
        (await on.query<mysql.RowDataPacket[]>("checksum table companies, contacts, deals"))[0].map((r) => r.Checksum);
      const [mine, theirs] = await Promise.all([checksums(pool), checksums(other)]);
      expect(mine).toEqual(theirs);
      expect(mine.every((c) => typeof c === "number" && c !== 0)).toBe(true);
    } finally {
      await other.end();
      await env.crmDatabase.query(`drop database if exists ${twin}`);
    }
  });

  it("fails the materialisation naming the server when it dies under the extract", async () => {
    const server = await startThrowawayMariadb();
    try {
      const seed = createMysqlPool(server.url);
      await writeCrmDatabase(world, seed);
      await seed.end();
      let read = 0;
      // Read twice: the server dies under the first attempt, and the retry finds nothing answering. The deals
      // come 2,000 times over (90 MB), so that the server dies with most of them still to send.
      const everyDealOften = "select d.* from deals d, seq_1_to_2000 s order by s.seq, d.deal_id";
      const dying = dealsAsset("dying", 2, async function* ({ resources: { crmDatabase } }) {
        for await (const row of readMysql(crmDatabase, everyDealOften, [], { batchSize: 10 })) {
          if (++read === 20) process.kill(server.pid, "SIGKILL");
          yield row;
        }
      });
      // The server stays down: after riding the outage out for 2 s (minutes by default), the step fails.
      const { run } = await withStoreOutageMs(2_000, () =>
        materialize(
          env.pool,
          buildAssetGraph(
            defineDefinitions({
              assets: [dying],
              resources: { staging: stagingResource(), crmDatabase: mariadbResource(server.url) },
            }),
          ),
        ));
      expect(run.status).toBe("failed");
      expect(run.error).toContain(`the MySQL/MariaDB server at 127.0.0.1:${server.port} (database crm)`);
      expect(run.error).not.toContain(new URL(server.url).password);
      // What had reached the client before the server died was read; the rest never came.
      expect(read).toBeGreaterThanOrEqual(20);
      expect(read).toBeLessThan(600_000);
      expect(await new Staging(env.pool).read(`${table}_dying`).catch(() => [])).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});
