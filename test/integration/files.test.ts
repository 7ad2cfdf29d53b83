import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import { parquetMetadata } from "hyparquet";
import { type ColumnSource, parquetWriteBuffer } from "hyparquet-writer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { BadRow, isBadRow, SourceError } from "../../connectors/bad-rows.ts";
import { readCsv, readTsv } from "../../connectors/csv/index.ts";
import { readJson } from "../../connectors/json/index.ts";
import { readJsonLines } from "../../connectors/jsonl/index.ts";
import { readParquet } from "../../connectors/parquet/index.ts";
import { defineStagedAsset, Staging } from "../../connectors/staging/index.ts";
import { readXml, type XmlElement } from "../../connectors/xml/index.ts";
import { buildAssetGraph } from "../../engine/asset-graph.ts";
import { listDeadLetters } from "../../engine/dead-letters.ts";
import { defineResource } from "../../engine/resource.ts";
import { prepareDatabase } from "../../engine/worker.ts";
import { createPool, metadataDb, type pg } from "../../resources/postgres.ts";
import { settings } from "../../resources/settings.ts";
import { materialize } from "../support.ts";

const dir = mkdtempSync(join(tmpdir(), "ingest-files-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function collect<T>(rows: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const row of rows) out.push(row);
  return out;
}

/** A bad row as plain data, for exact comparison. */
const bad = (row: BadRow) => ({ line: row.__line, source: row.__source, raw: row.raw, error: row.__error });
const plain = <T>(rows: (T | BadRow)[]) => rows.map((r) => (isBadRow(r) ? bad(r) : r));

function file(name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** The first `fraction` of a gzip'd text: what an interrupted download leaves. */
const cutGzip = (text: string, fraction: number) => {
  const zipped = gzipSync(text);
  return zipped.subarray(0, Math.floor(zipped.length * fraction));
};

describe("readJson", () => {
  const orders = [
    { id: "O-1", customer: { email: "a@example.com" }, lines: [{ sku: "A-1", qty: 2 }, { sku: "B-2", qty: 1 }] },
    { id: "O-2", customer: { email: "b@example.com" }, lines: [], note: 'gift, "wrapped"\nand sent' },
    { id: "O-3", customer: null, lines: [{ sku: "C-3", qty: 5, price: 1.5e2 }] },
  ];
  const document = JSON.stringify({ exportedAt: "2026-01-01T00:00:00Z", orders, total: 3 }, null, 2);

  it("yields each element at a path in a nested document, from plain and gzip'd files alike", async () => {
    const path = file("orders.json", document);
    const gzipped = file("orders.json.gz", gzipSync(document));
    expect(await collect(readJson(path, { path: "$.orders.*" }))).toEqual(orders);
    expect(await collect(readJson(gzipped, { path: "$.orders.*" }))).toEqual(orders);
    expect(await collect(readJson(path, { path: "$.orders.*.lines.*" }))).toEqual(orders.flatMap((o) => o.lines));
    expect(await collect(readJson(path, { path: ["$.exportedAt", "$.total"] }))).toEqual(["2026-01-01T00:00:00Z", 3]);
    const array = file("array.json", `\uFEFF${JSON.stringify(orders)}`);
    expect(await collect(readJson(array))).toEqual(orders);
  });

  it("yields the values before malformed JSON, then a bad row with the line and column, and stops", async () => {
    const text = '[\n  {"id": 1},\n  {"id": 2},\n  {"id": 3 "x": 1},\n  {"id": 4}\n]\n';
    const path = file("malformed.json", text);
    const rows = plain(await collect(readJson(path)));
    expect(rows).toEqual([
      { id: 1 },
      { id: 2 },
      {
        line: 4,
        source: path,
        raw: expect.stringContaining('{"id": 3 "x": 1}'),
        error: expect.stringMatching(
          new RegExp(`^${path}:4: malformed JSON at byte 39 \\(line 4, column 12\\): .*; reading stopped there$`),
        ),
      },
    ]);
    await expect(collect(readJson(path, { onBadRow: "throw" }))).rejects.toThrow(`${path}:4: malformed JSON`);
  });

  it("reads a document cut short as its values so far and a bad row at the end; an empty file is a bad row", async () => {
    const cut = file("cut.json", JSON.stringify(orders).slice(0, 120));
    const rows = await collect(readJson(cut));
    expect(rows.slice(0, -1)).toEqual([orders[0]]);
    expect(plain(rows.slice(-1))).toEqual([
      expect.objectContaining({ line: 1, error: expect.stringMatching(/^.*cut\.json:1: malformed JSON at byte 120/) }),
    ]);
    const empty = file("empty.json", "");
    expect(plain(await collect(readJson(empty)))).toEqual([
      { line: 1, source: empty, raw: "", error: `${empty}:1: no JSON value: the file is empty` },
    ]);
  });

  it("counts lines across chunks: an error 100,000 lines into a file names its line", async () => {
    const values = Array.from({ length: 100_000 }, (_, i) => JSON.stringify({ n: i, text: "x".repeat(i % 50) }));
    const path = file("long.json", `[\n${values.join(",\n")},\n{"n": oops}\n]\n`);
    const rows = await collect(readJson(path));
    expect(rows).toHaveLength(100_001);
    expect((rows[99_999] as { n: number }).n).toBe(99_999);
    expect(bad(rows[100_000] as BadRow)).toMatchObject({ line: 100_002, error: expect.stringContaining("column 7") });
  });
});

describe("gzip'd files, TSV", () => {
  const tsv = [
    "order-id\tsku\tproduct-name\tquantity\tnote",
    'A-1\tSKU-1\t27" monitor\t1\t',
    "A-2\tSKU-2\tUSB-C cable, 2 m\t3\tgift",
    "A-3\tSKU-3\tDesk lamp\t1\textra\tfield",
    'A-4\tSKU-4\t"Quoted" name\t2\t',
    "",
  ].join("\r\n");
  const records = [
    { "order-id": "A-1", sku: "SKU-1", "product-name": '27" monitor', quantity: "1", note: "" },
    { "order-id": "A-2", sku: "SKU-2", "product-name": "USB-C cable, 2 m", quantity: "3", note: "gift" },
    {
      line: 4,
      source: expect.any(String),
      raw: "A-3\tSKU-3\tDesk lamp\t1\textra\tfield",
      error: expect.stringContaining("Invalid Record Length"),
    },
    { "order-id": "A-4", sku: "SKU-4", "product-name": '"Quoted" name', quantity: "2", note: "" },
  ];

  it("reads TSV with quotes as ordinary characters, a malformed line as a bad row, gzip'd or not", async () => {
    expect(plain(await collect(readTsv(file("orders.tsv", tsv))))).toEqual(records);
    const gzipped = file("orders.tsv.gz", gzipSync(tsv));
    expect(plain(await collect(readTsv(gzipped)))).toEqual(records);
    expect((await collect(readTsv(gzipped)))[2]).toMatchObject({ __source: gzipped, __line: 4 });
  });

  it("reads CSV and JSON Lines through gzip as they read plain files", async () => {
    const csv = 'id,name\n1,"a, b"\n2,c\n';
    expect(await collect(readCsv(file("small.csv.gz", gzipSync(csv))))).toEqual([
      { id: "1", name: "a, b" },
      { id: "2", name: "c" },
    ]);
    const jsonl = '{"id":1}\r\n\r\nnot json\r\n{"id":2}\r\n';
    const path = file("events.jsonl.gz", gzipSync(jsonl));
    expect(plain(await collect(readJsonLines(path)))).toEqual([
      { source: path, line: 1, value: { id: 1 } },
      { line: 3, source: path, raw: "not json", error: expect.stringMatching(/events\.jsonl\.gz:3: not JSON/) },
      { source: path, line: 4, value: { id: 2 } },
    ]);
  });

  it("stops a truncated or corrupt gzip file with an error naming the file, never a shorter success", async () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => `${i}\titem ${i}\t${i * 3}`);
    const text = `id\tname\tqty\n${lines.join("\n")}\n`;
    const cut = file("cut.tsv.gz", cutGzip(text, 0.5));
    const error = await collect(readTsv(cut)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceError);
    expect((error as Error).message).toBe(
      `${cut}: not a complete gzip file (truncated or corrupt): unexpected end of file`,
    );
    const notGzip = file("plain.jsonl.gz", '{"id":1}\n');
    await expect(collect(readJsonLines(notGzip))).rejects.toThrow(
      `${notGzip}: not a complete gzip file (truncated or corrupt): incorrect header check`,
    );
    const cutJson = file("cut.json.gz", cutGzip(JSON.stringify(lines), 0.5));
    await expect(collect(readJson(cutJson))).rejects.toThrow(`${cutJson}: not a complete gzip file`);
  });
});

describe("readXml", () => {
  const feed = `<?xml version="1.0" encoding="UTF-8"?>
<!-- the provider's feed -->
<trk:feed xmlns:trk="urn:parcelhub:tracking:2" xmlns:geo="urn:example:geo" exportedAt="2026-01-01T00:00:00Z">
  <trk:shipment carrier="DHL" trackingNumber="JJD0001">
    <trk:reference>SHP-1</trk:reference>
    <trk:event id="E1">
      <trk:status>PICKED_UP</trk:status>
      <trk:timestamp>2025-12-01T10:00:00Z</trk:timestamp>
      <geo:location geo:precision="city"><geo:city>K&#246;ln &amp; Bonn</geo:city><geo:country>DE</geo:country></geo:location>
      <trk:description><![CDATA[Picked up <at the door> & scanned]]></trk:description>
    </trk:event>
    <trk:event id="E2"><trk:status>DELIVERED</trk:status><trk:note/></trk:event>
  </trk:shipment>
  <trk:shipment carrier="Evri &quot;Next Day&quot;" trackingNumber="H0002"><trk:reference>SHP-2</trk:reference>Handed over &lt;late&gt;<trk:event id="E3"/></trk:shipment>
  <shipment xmlns="urn:other" trackingNumber="X3"><reference>SHP-3</reference></shipment>
</trk:feed>
`;
  const shipments: XmlElement[] = [
    {
      carrier: "DHL",
      trackingNumber: "JJD0001",
      reference: "SHP-1",
      event: [
        {
          id: "E1",
          status: "PICKED_UP",
          timestamp: "2025-12-01T10:00:00Z",
          location: { precision: "city", city: "Köln & Bonn", country: "DE" },
          description: "Picked up <at the door> & scanned",
        },
        { id: "E2", status: "DELIVERED", note: "" },
      ],
    },
    {
      carrier: 'Evri "Next Day"',
      trackingNumber: "H0002",
      reference: "SHP-2",
      event: { id: "E3" },
      "#text": "Handed over <late>",
    },
    { trackingNumber: "X3", reference: "SHP-3" },
  ];

  it("yields each record element with its attributes, children (repeated ones as arrays), entities, CDATA, namespaces", async () => {
    expect(await collect(readXml(file("feed.xml", feed), { record: "shipment" }))).toEqual(shipments);
    expect(await collect(readXml(file("feed.xml.gz", gzipSync(feed)), { record: "trk:shipment" }))).toEqual(
      shipments.slice(0, 2),
    );
    // a record nested in another is part of it; the innermost name is matched too
    const events = await collect(readXml(join(dir, "feed.xml"), { record: "event" }));
    expect(events.map((e) => (e as XmlElement).id)).toEqual(["E1", "E2", "E3"]);
  });

  it("yields the records before malformed XML, then a bad row with its line and column, and stops", async () => {
    const broken = feed.replace("<trk:reference>SHP-2</trk:reference>", "<trk:reference>SHP-2&nbsp;</trk:reference>");
    const path = file("broken.xml", broken);
    const rows = await collect(readXml(path, { record: "shipment" }));
    expect(rows.slice(0, 1)).toEqual(shipments.slice(0, 1));
    expect(rows).toHaveLength(2);
    expect(bad(rows[1] as BadRow)).toEqual({
      line: 14,
      source: path,
      raw: expect.stringContaining("SHP-2&nbsp;"),
      error: expect.stringMatching(
        new RegExp(`^${path}:14: malformed XML at line 14, column \\d+: undefined entity.*; reading stopped there$`),
      ),
    });
    const mismatched = file("mismatched.xml", "<feed>\n<shipment><a>1</b></shipment>\n<shipment/></feed>");
    expect(plain(await collect(readXml(mismatched, { record: "shipment" })))).toEqual([
      expect.objectContaining({ line: 2, error: expect.stringContaining("malformed XML at line 2") }),
    ]);
    await expect(collect(readXml(mismatched, { record: "shipment", onBadRow: "throw" }))).rejects.toThrow(
      `${mismatched}:2: malformed XML`,
    );
  });

  it("reads a document cut short as its records so far and a bad row; refuses an encoding it does not read", async () => {
    const cut = file("cut.xml", feed.slice(0, feed.indexOf('<trk:event id="E3"/>')));
    const rows = await collect(readXml(cut, { record: "shipment" }));
    expect(rows.slice(0, 1)).toEqual(shipments.slice(0, 1));
    expect(bad(rows[1] as BadRow).error).toMatch(/malformed XML at line \d+, column \d+: unclosed tag/);
    const latin1 = file("latin1.xml", '<?xml version="1.0" encoding="ISO-8859-1"?><feed><shipment/></feed>');
    await expect(collect(readXml(latin1, { record: "shipment" }))).rejects.toThrow(
      `${latin1}: declares the encoding ISO-8859-1; only UTF-8 is read`,
    );
    const many = `<feed>${"<shipment><reference>S</reference></shipment>\n".repeat(20_000)}</feed>`;
    const cutGz = file("cut.xml.gz", cutGzip(many, 0.5));
    await expect(collect(readXml(cutGz, { record: "shipment" }))).rejects.toThrow(`${cutGz}: not a complete gzip`);
  });
});

/** A small Parquet file: 25 rows in row groups of 10, with a column of each kind the export has. */
const n = 25;
const columns = (offsetIndex: boolean): ColumnSource[] => [
  { name: "order_id", data: Array.from({ length: n }, (_, i) => `O-${i + 1}`), type: "STRING", offsetIndex },
  { name: "items", data: Array.from({ length: n }, (_, i) => i % 4), type: "INT32", offsetIndex },
  {
    name: "views",
    data: Array.from({ length: n }, (_, i) => (i === 0 ? 2n ** 60n : BigInt(i * 1000))),
    type: "INT64",
    offsetIndex,
  },
  {
    name: "ordered_at",
    data: Array.from({ length: n }, (_, i) => new Date(Date.UTC(2025, 11, 1 + i))),
    type: "TIMESTAMP",
    offsetIndex,
  },
  {
    name: "campaign",
    data: Array.from({ length: n }, (_, i) => (i % 3 === 0 ? null : `c${i % 3}`)),
    type: "STRING",
    offsetIndex,
  },
];
const expected = Array.from({ length: n }, (_, i) => ({
  order_id: `O-${i + 1}`,
  items: i % 4,
  views: i === 0 ? String(2n ** 60n) : i * 1000,
  ordered_at: new Date(Date.UTC(2025, 11, 1 + i)),
  campaign: i % 3 === 0 ? null : `c${i % 3}`,
}));
const write = (name: string, offsetIndex = true) =>
  file(name, new Uint8Array(parquetWriteBuffer({ columnData: columns(offsetIndex), rowGroupSize: 10 })));

describe("readParquet", () => {
  let path: string;
  beforeAll(() => {
    path = write("orders.parquet");
  });

  it("reads every row of several row groups, in batches or whole groups, with plain JSON values", async () => {
    expect(parquetMetadata(new Uint8Array(readFileSync(path)).buffer).row_groups.map((g) => Number(g.num_rows)))
      .toEqual([10, 10, 5]);
    for (const batchSize of [10_000, 10, 3, 1]) {
      expect(await collect(readParquet(path, { batchSize }))).toEqual(expected);
    }
    // without offset indexes a row group is decoded whole, whatever the batch size
    expect(await collect(readParquet(write("no-index.parquet", false), { batchSize: 3 }))).toEqual(expected);
  });

  it("reads only the columns asked for, and names the columns there are when one is not", async () => {
    expect(await collect(readParquet(path, { columns: ["order_id", "campaign"], batchSize: 4 }))).toEqual(
      expected.map(({ order_id, campaign }) => ({ order_id, campaign })),
    );
    await expect(collect(readParquet(path, { columns: ["order_id", "channel"] }))).rejects.toThrow(
      `${path}: no column "channel" (columns: order_id, items, views, ordered_at, campaign)`,
    );
  });

  it("yields a truncated file as one bad row naming it, none of its rows; an unreadable row group as a bad row", async () => {
    const bytes = readFileSync(path);
    const cut = file("cut.parquet", bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    expect(plain(await collect(readParquet(cut)))).toEqual([{
      line: 1,
      source: cut,
      raw: `${Math.floor(bytes.length * 0.6)} bytes`,
      error:
        `${cut}:1: not a complete Parquet file (truncated or corrupt: parquet file invalid (footer != PAR1)); none of its rows were read`,
    }]);
    await expect(collect(readParquet(cut, { onBadRow: "throw" }))).rejects.toBeInstanceOf(SourceError);

    // the second row group's first column chunk overwritten: that group is lost, the others are read
    const metadata = parquetMetadata(new Uint8Array(bytes).buffer);
    const chunk = metadata.row_groups[1]!.columns[0]!.meta_data!;
    const corrupt = Buffer.from(bytes);
    corrupt.fill(0xff, Number(chunk.data_page_offset), Number(chunk.data_page_offset) + 8);
    const damaged = file("damaged.parquet", corrupt);
    const rows = plain(await collect(readParquet(damaged)));
    expect(rows).toEqual([
      ...expected.slice(0, 10),
      {
        line: 11,
        source: damaged,
        raw: "row group 2",
        error: expect.stringMatching(
          new RegExp(`^${damaged}:11: row group 2 of 3 \\(rows 11–20\\) could not be read from row 11: `),
        ),
      },
      ...expected.slice(20),
    ]);
  });

  it("rejects a missing file at the first read, with ENOENT naming it", async () => {
    const reader = readParquet(join(dirname(path), "no-such.parquet"));
    await expect(collect(reader)).rejects.toMatchObject({
      code: "ENOENT",
      message: expect.stringContaining("no-such.parquet"),
    });
  });
});

describe("staged assets over files", () => {
  let pool: pg.Pool;
  let staging: Staging;
  const id = randomBytes(3).toString("hex");

  beforeAll(async () => {
    pool = createPool(settings().databaseUrl);
    await prepareDatabase(pool);
    staging = new Staging(createPool(settings().databaseUrl));
  });
  afterAll(async () => {
    for (const table of ["events", "orders"]) await pool.query(`drop table if exists staging.files_${table}_${id}`);
    await staging.close();
    await pool.end();
  });

  const Event = z.object({ id: z.string(), reference: z.string(), timestamp: z.iso.datetime() });
  const Order = z.object({ order_id: z.string(), items: z.number().int().min(1) });

  it("dead-letters malformed XML and a truncated Parquet file as unparseable, bad records as invalid; counts reconcile", async () => {
    const feeds = [
      file(
        `feed-1-${id}.xml.gz`,
        gzipSync(
          `<feed><shipment><reference>S-1</reference><event id="E1"><timestamp>2025-12-01T10:00:00Z</timestamp></event>` +
            `<event id="E2"><timestamp>yesterday</timestamp></event></shipment></feed>`,
        ),
      ),
      file(
        `feed-2-${id}.xml`,
        `<feed>\n<shipment><reference>S-2</reference><event id="E3"><timestamp>2025-12-02T10:00:00Z</timestamp></event></shipment>\n` +
          `<shipment><reference>S-3</reference><event id="E4"><timestamp>2025-12-03T10:00:00Z</event></shipment>\n</feed>`,
      ),
    ];
    const events = defineStagedAsset({
      key: `files_${id}/events`,
      codeVersion: "1",
      table: `files_events_${id}`,
      source: "test.feed",
      model: Event,
      sourceKey: (e) => e.id,
      rawKey: (e) => e.id,
      retry: { maxAttempts: 1 },
      async *extract() {
        for (const feed of feeds) {
          for await (const shipment of readXml(feed, { record: "shipment" })) {
            if (isBadRow(shipment)) yield shipment;
            else {
              const list = Array.isArray(shipment.event) ? shipment.event : [shipment.event];
              yield* list.map((e) => ({ ...(e as XmlElement), reference: shipment.reference }));
            }
          }
        }
      },
    });
    const good = write(`orders-1-${id}.parquet`);
    const bytes = readFileSync(good);
    const truncated = file(`orders-2-${id}.parquet`, bytes.subarray(0, bytes.length - 100));
    const orders = defineStagedAsset({
      key: `files_${id}/orders`,
      codeVersion: "1",
      table: `files_orders_${id}`,
      source: "test.orders",
      model: Order,
      sourceKey: (o) => o.order_id,
      rawKey: (o) => o.order_id,
      retry: { maxAttempts: 1 },
      async *extract() {
        for (const path of [good, truncated]) yield* readParquet(path, { columns: ["order_id", "items"] });
      },
    });
    const graph = buildAssetGraph({
      assets: [events, orders],
      resources: { staging: defineResource({ setup: () => staging }) },
    });
    const { run } = await materialize(pool, graph);
    expect(run.status, run.error ?? "").toBe("succeeded");
    const counts = Object.fromEntries(
      (await metadataDb(pool).selectFrom("ingest.materializations").select(["asset_key", "counts"]).where(
        "run_id",
        "=",
        run.id,
      ).execute()).map((m) => [m.asset_key, m.counts]),
    );
    // E1, E2 (bad date), E3, then the malformed second shipment of feed 2
    expect(counts[`files_${id}/events`]).toMatchObject({ extracted: 4, loaded: 2, deadLettered: 2, deduplicated: 0 });
    // 25 rows of which 7 have no items, and the truncated file
    const noItems = expected.filter((o) => o.items === 0).length;
    expect(counts[`files_${id}/orders`]).toMatchObject({
      extracted: n + 1,
      loaded: n - noItems,
      deadLettered: noItems + 1,
      deduplicated: 0,
    });
    const letters = (await listDeadLetters(metadataDb(pool), { runId: run.id })).map((
      l,
    ) => [l.assetKey.split("/")[1], l.reason, l.sourceKey, l.issues[0]!.path, l.issues[0]!.message]);
    expect(letters.filter(([asset]) => asset === "events")).toEqual([
      ["events", "invalid", "E2", "timestamp", expect.any(String)],
      ["events", "unparseable", null, "line 3", expect.stringMatching(/feed-2-.*\.xml:3: malformed XML at line 3/)],
    ]);
    expect(letters.filter(([asset, reason]) => asset === "orders" && reason === "unparseable")).toEqual([
      ["orders", "unparseable", null, "line 1", expect.stringContaining(`${truncated}:1: not a complete Parquet file`)],
    ]);
    expect((await staging.read<{ id: string }>(`files_events_${id}`)).map((e) => e.sourceKey)).toEqual(["E1", "E3"]);
  });
});
