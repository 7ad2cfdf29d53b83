import ExcelJS from "exceljs";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createLogger } from "../../resources/logger.ts";
import { createPool } from "../../resources/postgres.ts";
import { settings } from "../../resources/settings.ts";
import { BadRow, isBadRow, SourceError } from "../../connectors/bad-rows.ts";
import { CrmClient, type CrmObjectType } from "../../connectors/crm-api/index.ts";
import { readCsv } from "../../connectors/csv/index.ts";
import { readExcelSheet } from "../../connectors/excel/index.ts";
import { readJsonLines } from "../../connectors/jsonl/index.ts";
import { readTable } from "../../connectors/postgres/index.ts";
import { type CrmApiOptions, startCrmApi } from "../../samples/crm-api.ts";

const dir = mkdtempSync(join(tmpdir(), "ingest-sources-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function collect<T>(rows: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const row of rows) out.push(row);
  return out;
}

const prefix = (text: string) => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`);
const startingWith = (text: string) => expect.stringMatching(prefix(text));

/** A bad row as plain data, for exact comparison. */
const bad = (row: BadRow) => ({ line: row.__line, source: row.__source, raw: row.raw, error: row.__error });

describe("readCsv", () => {
  const path = join(dir, "interactions.csv");
  writeFileSync(
    path,
    [
      "interaction_id,type,occurred_at,subject,notes",
      'I-1,call,2026-03-01T10:00:00Z,Intro,"Talked about pricing,',
      'then about ""delivery"" times"',
      "I-2,email,2026-03-02T09:30:00Z,  Follow-up  ,Sent the brochure",
      'I-3,meeting,2026-03-03T14:00:00Z,Demo,"a stray "quote" here"',
      "",
      "I-4,call,2026-03-04T08:15:00Z,Check-in,too,many,fields",
      "I-5,email,2026-03-05T16:45:00Z,Wrap-up,Done",
      "",
    ].join("\n"),
  );
  const good = [
    {
      interaction_id: "I-1",
      type: "call",
      occurred_at: "2026-03-01T10:00:00Z",
      subject: "Intro",
      notes: 'Talked about pricing,\nthen about "delivery" times',
    },
    {
      interaction_id: "I-2",
      type: "email",
      occurred_at: "2026-03-02T09:30:00Z",
      subject: "Follow-up",
      notes: "Sent the brochure",
    },
    { interaction_id: "I-5", type: "email", occurred_at: "2026-03-05T16:45:00Z", subject: "Wrap-up", notes: "Done" },
  ];
  const badRows = [
    {
      line: 5,
      source: path,
      raw: 'I-3,meeting,2026-03-03T14:00:00Z,Demo,"a stray "quote" here"',
      error: startingWith(`${path}:5: Invalid Closing Quote`),
    },
    {
      line: 7,
      source: path,
      raw: "I-4,call,2026-03-04T08:15:00Z,Check-in,too,many,fields",
      error: `${path}:7: Invalid Record Length: columns length is 5, got 7 on line 7`,
    },
  ];

  it("yields records keyed by the header, and malformed lines in place as bad rows", async () => {
    for (const batchSize of [500, 2, 1]) {
      const rows = await collect(readCsv(path, { batchSize }));
      expect(rows.map((r) => (isBadRow(r) ? bad(r) : r))).toEqual([good[0], good[1], badRows[0], badRows[1], good[2]]);
    }
  });

  it("hands bad rows to a callback, or throws on the first, naming the file and line", async () => {
    const seen: BadRow[] = [];
    expect(await collect(readCsv(path, { onBadRow: (row) => void seen.push(row) }))).toEqual(good);
    expect(seen.map(bad)).toEqual(badRows);
    await expect(collect(readCsv(path, { onBadRow: "throw" }))).rejects.toThrow(
      prefix(`${path}:5: Invalid Closing Quote`),
    );
    await expect(collect(readCsv(path, { onBadRow: "throw" }))).rejects.toBeInstanceOf(SourceError);
  });

  it("reports a quote never closed as its own line and reads on; an empty file has no header", async () => {
    const unclosed = join(dir, "unclosed.csv");
    writeFileSync(unclosed, 'id,name\r\n1,"never closed\r\n2,b\r\n');
    const rows = await collect(readCsv(unclosed));
    expect(rows.map((r) => (isBadRow(r) ? bad(r) : r))).toEqual([
      {
        line: 2,
        source: unclosed,
        raw: '1,"never closed',
        error: expect.stringContaining(`${unclosed}:2: quote not closed`),
      },
      { id: "2", name: "b" },
    ]);
    const empty = join(dir, "empty.csv");
    writeFileSync(empty, "");
    await expect(collect(readCsv(empty))).rejects.toThrow(`${empty}: no header line`);
  });
});

describe("readExcelSheet", () => {
  const path = join(dir, "sales-reps.xlsx");
  const started = new Date(Date.UTC(2021, 2, 15));

  it("yields the sheet's rows keyed by its header row, dates as Dates, a headerless value as a bad row", async () => {
    const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({
      filename: path,
      useSharedStrings: true,
      useStyles: true,
    });
    workbook.addWorksheet("Notes").addRow(["not this sheet"]).commit();
    const reps = workbook.addWorksheet("Reps");
    reps.addRow(["Owner ID", "Email", "Name", "Team", "Region", "Start date"]).commit();
    const first = reps.addRow([
      "O-1",
      "anna.berg@example.com",
      { richText: [{ text: "Anna " }, { text: "Berg", font: { bold: true } }] },
      "Enterprise",
      "EMEA",
      started,
    ]);
    first.getCell(6).numFmt = "yyyy-mm-dd";
    first.commit();
    reps.addRow(["O-2", { text: "bo@example.com", hyperlink: "mailto:bo@example.com" }, "Bo Li", "SMB", null, 45292])
      .commit();
    reps.addRow([]).commit();
    reps.addRow(["O-3", "cy@example.com", "Cy Ode", "SMB", "AMER", 45300, "stray"]).commit();
    reps.addRow(["O-4", "di@example.com", "Di Ray", { formula: '"Mid"&"market"', result: "Midmarket" }, "APAC", 45310])
      .commit();
    await workbook.commit();

    const rows = await collect(readExcelSheet(path, "Reps"));
    expect(rows.map((r) => (isBadRow(r) ? bad(r) : r))).toEqual([
      {
        "Owner ID": "O-1",
        Email: "anna.berg@example.com",
        Name: "Anna Berg",
        Team: "Enterprise",
        Region: "EMEA",
        "Start date": started,
      },
      { "Owner ID": "O-2", Email: "bo@example.com", Name: "Bo Li", Team: "SMB", Region: null, "Start date": 45292 },
      {
        line: 5,
        source: `${path}#Reps`,
        raw: JSON.stringify(["O-3", "cy@example.com", "Cy Ode", "SMB", "AMER", 45300, "stray"]),
        error: `${path}#Reps:5: a value in column G, which has no header`,
      },
      {
        "Owner ID": "O-4",
        Email: "di@example.com",
        Name: "Di Ray",
        Team: "Midmarket",
        Region: "APAC",
        "Start date": 45310,
      },
    ]);
    expect((rows[0] as Record<string, unknown>)["Start date"]).toBeInstanceOf(Date);
  });

  it("names the sheets there are when the one asked for is missing", async () => {
    await expect(collect(readExcelSheet(path, "Staff"))).rejects.toThrow(
      `${path}: no sheet named "Staff" (sheets: "Notes", "Reps")`,
    );
  });
});

describe("readJsonLines", () => {
  it("yields each object with its file and line, and lines that are not objects as bad rows", async () => {
    const agents = join(dir, "agents.jsonl");
    const more = join(dir, "agents-2.jsonl");
    writeFileSync(
      agents,
      [
        '{"id":"a1","name":"Ana","team":"EU"}',
        '{"id":"a2","name":"Ben"',
        "",
        "[1,2]",
        '{"id":"a3","name":"Cy","team":"US"}',
      ].join("\n"),
    );
    writeFileSync(more, '{"id":"a4","name":"Di","team":"EU"}\r\n');
    const rows = await collect(readJsonLines([agents, more]));
    expect(rows.map((r) => (isBadRow(r) ? bad(r) : r))).toEqual([
      { source: agents, line: 1, value: { id: "a1", name: "Ana", team: "EU" } },
      { line: 2, source: agents, raw: '{"id":"a2","name":"Ben"', error: startingWith(`${agents}:2: not JSON: `) },
      { line: 4, source: agents, raw: "[1,2]", error: `${agents}:4: not a JSON object but an array` },
      { source: agents, line: 5, value: { id: "a3", name: "Cy", team: "US" } },
      { source: more, line: 1, value: { id: "a4", name: "Di", team: "EU" } },
    ]);
    const seen: BadRow[] = [];
    expect(await collect(readJsonLines(agents, { onBadRow: (row) => void seen.push(row) }))).toHaveLength(2);
    expect(seen.map((r) => r.__line)).toEqual([2, 4]);
  });
});

describe("readTable", () => {
  it("streams a table through a server-side cursor in batches, in order, and lets go of it on break", async () => {
    // One connection, so that the temporary table and the cursor live in the same session.
    const pool = createPool(settings().databaseUrl, 1);
    try {
      await pool.query("create temporary table reps (id int primary key, name text)");
      await pool.query("insert into reps select g, 'rep ' || g from generate_series(1, 2345) g");

      const rows = await collect(
        readTable<{ id: number; name: string }>(pool, "select id, name from reps order by id", [], { batchSize: 100 }),
      );
      expect(rows).toHaveLength(2345);
      expect(rows.map((r) => r.id)).toEqual(Array.from({ length: 2345 }, (_, i) => i + 1));
      expect(rows[41]).toEqual({ id: 42, name: "rep 42" });

      const later = await collect(
        readTable<{ id: number }>(pool, "select id from reps where id > $1 order by id desc", [2300], { batchSize: 7 }),
      );
      expect(later.map((r) => r.id)).toEqual(Array.from({ length: 45 }, (_, i) => 2345 - i));

      let read = 0;
      for await (const _ of readTable(pool, "select id from reps order by id", [], { batchSize: 10 })) {
        if (++read === 15) break;
      }
      const { rows: after } = await pool.query(
        "select (select count(*) from pg_cursors) as cursors, pg_current_xact_id_if_assigned() as xact",
      );
      expect(after).toEqual([{ cursors: 0, xact: null }]);
    } finally {
      await pool.end();
    }
  });
});

describe("CrmClient against the sample CRM API", () => {
  const dataDir = join(dir, "crm-api");
  mkdirSync(dataDir);
  const counts: Record<CrmObjectType, number> = { companies: 37, contacts: 123, deals: 25, owners: 12 };
  for (const [type, count] of Object.entries(counts)) {
    const lines = Array.from(
      { length: count },
      (_, i) =>
        JSON.stringify({
          id: `${type}-${i + 1}`,
          properties: { name: `${type} ${i + 1}` },
          createdAt: "2026-01-01T00:00:00Z",
          updatedAt: "2026-02-01T00:00:00Z",
          archived: false,
        }),
    );
    writeFileSync(join(dataDir, `${type}.jsonl`), `${lines.join("\n")}\n`);
  }
  const credentials = { clientId: "ingest-tests", clientSecret: "s3cret-do-not-leak-7f9a" };
  const startApi = (options: Partial<CrmApiOptions>) => startCrmApi({ dataDir, ...credentials, ...options });

  it("returns every object exactly once through rate limits, token expiry and revocation, and injected 503s", async () => {
    const api = await startApi({ requestsPerSecond: 5, tokenTtlSeconds: 1, failureRate: 0.2, seed: 7 });
    try {
      const lines: string[] = [];
      const logger = createLogger({ write: (line: string) => void lines.push(line) });
      logger.level = "debug";
      const client = new CrmClient({
        baseUrl: api.url,
        ...credentials,
        requestsPerSecond: 50,
        burst: 5,
        backoffMs: 20,
        maxBackoffMs: 200,
        maxAttempts: 10,
        logger,
      });
      for (const type of ["contacts", "companies", "deals", "owners"] as const) {
        const ids: string[] = [];
        for await (const object of client.objects(type, { pageSize: 10 })) {
          ids.push(object.id);
          if (type === "contacts" && ids.length === 50) api.revokeTokens();
        }
        expect(ids).toEqual(Array.from({ length: counts[type] }, (_, i) => `${type}-${i + 1}`));
      }
      const server = api.stats;
      expect(server.pages).toBe(4 + 13 + 3 + 2);
      // Refreshed on expiry (more than once, with a 1 s TTL) and after the revocation's 401.
      expect(server.unauthorized).toBeGreaterThanOrEqual(1);
      expect(client.stats.unauthorized).toBe(server.unauthorized);
      expect(server.tokensIssued).toBeGreaterThan(1 + server.unauthorized);
      expect(client.stats.tokensFetched).toBe(server.tokensIssued);
      // Got 429s and waited as told: no request came back before its Retry-After.
      expect(server.tooManyRequests).toBeGreaterThan(0);
      expect(server.retryAfterIgnored).toBe(0);
      expect(client.stats.rateLimited).toBe(server.tooManyRequests);
      // Every 503 and 429 was retried, and nothing else was.
      expect(server.serviceUnavailable).toBeGreaterThan(0);
      expect(client.stats.retries).toBe(server.serviceUnavailable + server.tooManyRequests);
      // The retries were logged, without a secret or a token.
      expect(lines.filter((line) => line.includes("CRM API request retried"))).toHaveLength(client.stats.retries);
      expect(lines.join("\n")).not.toMatch(new RegExp(`${credentials.clientSecret}|Bearer|access_token`, "i"));
    } finally {
      await api.close();
    }
  });

  it("fails clearly, without the secret, on wrong credentials", async () => {
    const api = await startApi({});
    const lines: string[] = [];
    const logger = createLogger({ write: (line: string) => void lines.push(line) });
    logger.level = "debug";
    const wrongSecret = "wrong-secret-0b1d-do-not-print";
    try {
      const client = new CrmClient({
        baseUrl: api.url,
        clientId: credentials.clientId,
        clientSecret: wrongSecret,
        logger,
      });
      const error = await collect(client.objects("owners")).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(error?.message).toBe(
        `CRM API: POST ${api.url}/oauth/token: token request refused: 401 Unauthorized (client authentication failed) (check the client id and secret)`,
      );
      expect(error?.message).not.toContain(wrongSecret);
      expect(JSON.stringify(error)).not.toContain(wrongSecret);
      expect(lines.join("\n")).not.toContain(wrongSecret);
      expect(api.stats.tokensRefused).toBe(1);
    } finally {
      await api.close();
    }
  });

  it("gives up on a URL that keeps failing after a bounded number of attempts, naming it and the status", async () => {
    const api = await startApi({ failureRate: 1 });
    try {
      const client = new CrmClient({
        baseUrl: api.url,
        ...credentials,
        maxAttempts: 3,
        backoffMs: 10,
        logger: createLogger({ write: () => {} }),
      });
      await expect(collect(client.objects("deals", { pageSize: 5 }))).rejects.toThrow(
        `CRM API: GET ${api.url}/crm/v3/objects/deals?limit=5: 503 Service Unavailable (the service is temporarily unavailable) after 3 attempts`,
      );
      expect(api.stats.serviceUnavailable).toBe(3);
    } finally {
      await api.close();
    }
  });
});
