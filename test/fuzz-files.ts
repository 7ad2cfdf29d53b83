import ExcelJS from "exceljs";
import fc from "fast-check";
import { type ColumnSource, parquetWriteBuffer } from "hyparquet-writer";
import { SupportAgent, supportAgentKey } from "../assets/chat/models.ts";
import { Interaction, interactionKey, interactionTypes, SalesRep, salesRepKey } from "../assets/crm/models.ts";
import { Campaign, campaignChannels, OrderAnalytics, salesChannels } from "../assets/ec/analytics.ts";
import { TrackingEvent, trackingEventKey, trackingStatuses } from "../assets/ec/tracking.ts";
import type { XmlElement } from "../connectors/xml/index.ts";
import {
  type FieldKind,
  fieldValue,
  hostileText,
  megabyteText,
  mutation,
  nestedJson,
  sourceRecord,
} from "./fuzz-inputs.ts";

/**
 * The files the fuzz tests write, as fast-check arbitraries and the bytes made of them, one kind of file a
 * section, each shaped after a bundled source and read with its model: interactions.csv (Interaction),
 * agents.jsonl (SupportAgent), campaigns.json (Campaign), the tracking feed's XML (TrackingEvent),
 * sales-reps.xlsx (SalesRep), the analytics export's Parquet (OrderAnalytics). The in-process tests check each
 * reader against what was written; fuzz-file-loads runs a few of each through a real materialisation.
 */

export const interactionFields = {
  interaction_id: "id",
  type: interactionTypes,
  occurred_at: "timestamp",
  owner_id: "id",
  contact_id: "id",
  subject: "text",
  notes: "text",
} as const;

/** Header names that are not what a reader expects: prototype keys, blanks, delimiters, quotes, NUL, non-ASCII. */
export const oddHeader = fc.oneof(
  fc.constantFrom(
    "__proto__",
    "constructor",
    "toString",
    "hasOwnProperty",
    "名前",
    "  padded  ",
    "a,b",
    'quo"te',
    "x\u0000y",
  ),
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 12 }),
);

export interface CsvCase {
  columns: string[];
  rows: Record<string, string>[];
  delimiter: "," | ";";
  crlf: boolean;
  bom: boolean;
  quoteAll: boolean;
}

export const csvCase: fc.Arbitrary<CsvCase> = fc.record({
  extra: fc.uniqueArray(oddHeader, { maxLength: 3, selector: (name) => name.trim() }),
  rows: fc.array(sourceRecord(interactionFields), { maxLength: 25 }),
  extraValues: fc.array(fieldValue("text"), { minLength: 75, maxLength: 75 }),
  delimiter: fc.constantFrom(",", ";") as fc.Arbitrary<"," | ";">,
  crlf: fc.boolean(),
  bom: fc.boolean(),
  quoteAll: fc.boolean(),
}).map(({ extra, rows, extraValues, ...format }) => {
  const base = Object.keys(interactionFields);
  const extraColumns = extra.filter((name) => !base.includes(name.trim()));
  let v = 0;
  return {
    ...format,
    columns: [...base, ...extraColumns],
    rows: rows.map((row) => ({ ...row, ...Object.fromEntries(extraColumns.map((c) => [c, extraValues[v++ % 75]!])) })),
  };
});

/**
 * The case as a file's text; where each row (with its line break) ends, in bytes; and whether a line of it is
 * longer than readCsv's default maxRecordSize (128,000), which makes it a bad row.
 */
export function csvText(c: CsvCase): { text: string; rowEnds: number[]; tooLong: boolean[] } {
  const needsQuotes = (value: string) => c.quoteAll || /[",;\r\n]|^\s|\s$/.test(value) || value === "";
  const field = (value: string) => (needsQuotes(value) ? `"${value.replaceAll('"', '""')}"` : value);
  const eol = c.crlf ? "\r\n" : "\n";
  let text = `${c.bom ? "\uFEFF" : ""}${c.columns.map(field).join(c.delimiter)}${eol}`;
  const rowEnds: number[] = [];
  const tooLong: boolean[] = [];
  for (const row of c.rows) {
    const line = `${c.columns.map((name) => field(row[name]!)).join(c.delimiter)}${eol}`;
    text += line;
    rowEnds.push(Buffer.byteLength(text));
    tooLong.push(line.toWellFormed().split("\n").some((l) => l.length > 128_000));
  }
  return { text, rowEnds, tooLong };
}

export const interactions = {
  model: Interaction,
  sourceKey: interactionKey,
  rawKey: (row: unknown) => (row as Record<string, unknown>).interaction_id,
};

export const agentFields = { id: "id", name: "text", email: "email", team: "text" } as const;

/** Lines that are JSON but odd, or not JSON: deep, huge numbers, lone surrogates, prototype keys, cut, binary. */
export const oddLines = [
  `{"id":"D-1","name":"deep","email":"d@example.com","nested":${nestedJson(5_000)}}`,
  `{"id":"D-2","name":"deep and invalid","nested":${nestedJson(3_000, true)}}`,
  '{"id":"N-1","name":"huge","email":"n@example.com","team":1e400}',
  '{"id":123456789012345678901234567890,"name":"big id","email":"b@example.com"}',
  '{"id":"S-1","name":"\\ud83d cut \\ud83d","email":"s@example.com","team":"\\udfff"}',
  '{"id":"P-1","__proto__":{"name":"inherited"},"email":"p@example.com","constructor":1}',
  '{"id":"K-1","id":"K-2","name":"twice","email":"k@example.com"}',
  '{"id":"Z-1","name":"nul \\u0000 inside","email":"z@example.com"}',
  '{"id":"T-1","name":"cut',
  "[1,2,3]",
  "42",
  "null",
  '"a string"',
  "{oops}",
  "\u0000\u0000",
  "   ",
];

/** Lines heavy to read: 1 MiB of text, and brackets 100,000 deep. */
export const heavyLines = [
  `{"id":"L-1","name":"long","email":"l@example.com","team":${JSON.stringify(megabyteText)}}`,
  nestedJson(100_000),
];

export const jsonlLine = fc.oneof(
  { arbitrary: sourceRecord(agentFields).map((agent) => JSON.stringify(agent)), weight: 60 },
  { arbitrary: fc.constantFrom(...oddLines), weight: 15 },
  { arbitrary: fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value) ?? "null"), weight: 10 },
  { arbitrary: hostileText, weight: 10 },
  { arbitrary: fc.constantFrom(...heavyLines), weight: 1 },
);

export const jsonlFile = fc.record({
  lines: fc.array(jsonlLine, { maxLength: 25 }),
  crlf: fc.boolean(),
  bom: fc.boolean(),
  finalBreak: fc.boolean(),
  mutations: fc.array(mutation, { maxLength: 2 }),
});

export const agents = {
  model: SupportAgent,
  sourceKey: supportAgentKey,
  rawKey: (line: unknown) => (line as Record<string, unknown>).id,
};

/** An amount of money: mostly one, else any double (negative, NaN, infinite, -0, subnormal). */
const mostlyAmount = fc.oneof({ arbitrary: fc.double({ min: 0, max: 1e6, noNaN: true }), weight: 4 }, fc.double());

export const campaign = fc.record({
  id: fieldValue("id"),
  name: fieldValue("text"),
  channel: fieldValue(campaignChannels),
  starts_at: fieldValue("timestamp"),
  ends_at: fc.option(fieldValue("timestamp")),
  budget: fc.record({ amount: fc.oneof(fieldValue("amount"), fc.double()), currency: fieldValue("currency") }),
  daily_spend: fc.array(fc.record({ date: fieldValue("timestamp"), eur: mostlyAmount }), { maxLength: 4 }),
}).map((c) => JSON.stringify(c));

/** Elements written as text: what JSON.stringify never writes (1e400, lone surrogates, deep nesting, prototype keys). */
export const oddElements = [
  `{"id":"D-1","name":"deep","nested":${nestedJson(5_000, true)}}`,
  nestedJson(20_000),
  '{"id":"N-1","name":"huge","budget":{"amount":1e400,"currency":"EUR"},"daily_spend":[{"date":"x","eur":-1e400}]}',
  '{"id":123456789012345678901234567890,"name":"big id"}',
  '{"id":"S-1","name":"\\ud83d cut","channel":"\\udfffemail"}',
  '{"__proto__":{"id":"inherited"},"constructor":{"name":"c"},"id":"P-1"}',
  '{"id":"K-1","id":"K-2"}',
  '{"id":"Z-1","name":"nul \\u0000"}',
  "null",
  "[]",
  '"text"',
  "-0",
];

export const jsonDocument = fc.record({
  elements: fc.array(
    fc.oneof(
      { arbitrary: campaign, weight: 160 },
      { arbitrary: fc.constantFrom(...oddElements), weight: 40 },
      { arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? "null"), weight: 20 },
      { arbitrary: fc.constant(JSON.stringify({ id: "L-1", name: megabyteText })), weight: 1 },
    ),
    { maxLength: 20 },
  ),
  nested: fc.boolean(),
  pretty: fc.boolean(),
  bom: fc.boolean(),
  gzip: fc.boolean(),
  mutations: fc.array(mutation, { maxLength: 2 }),
});

/** The document's text and where each element ends, in bytes. */
export function documentText(elements: string[], nested: boolean, pretty: boolean, bom: boolean) {
  const separator = pretty ? ",\n  " : ",";
  let text = `${bom ? "\uFEFF" : ""}${nested ? '{"exportedAt": "2026-01-01T00:00:00Z", "campaigns": [' : "["}${
    pretty ? "\n  " : ""
  }`;
  const ends: number[] = [];
  for (const [i, element] of elements.entries()) {
    text += `${i === 0 ? "" : separator}${element}`;
    ends.push(Buffer.byteLength(text));
  }
  text += `${pretty ? "\n" : ""}]${nested ? ', "total": 0}' : ""}\n`;
  return { text, ends };
}

export const campaigns = {
  model: Campaign,
  sourceKey: (c: { campaignId: string }) => c.campaignId,
  rawKey: (raw: unknown) => (raw as Record<string, unknown>)?.id,
};

/** What XML 1.0 cannot hold: control characters but tab and line breaks, U+FFFE and U+FFFF. */
// deno-lint-ignore no-control-regex -- control characters are what it finds
const notInXml = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

/** Text XML 1.0 can hold as it is, the rest replaced by spaces (lone surrogates by U+FFFD, as UTF-8 writes them). */
export const xmlSafe = (text: string) => text.toWellFormed().replace(notInXml, " ");
export const escapeXml = (text: string) => xmlSafe(text).replace(/[&<>"'\r\t\n]/g, (c) => `&#${c.charCodeAt(0)};`);

/** Attribute names a record may carry: the feed's own, mostly, and prototype keys and namespaced ones. */
export const attributeName = fc.oneof(
  { arbitrary: fc.constantFrom("carrier", "trackingNumber"), weight: 4 },
  { arbitrary: fc.constantFrom("__proto__", "constructor", "toString", "geo:zone"), weight: 1 },
);

export const scan = fc.record({
  id: fieldValue("id"),
  status: fieldValue(trackingStatuses),
  timestamp: fieldValue("timestamp"),
  city: fieldValue("text"),
  country: fc.oneof({ arbitrary: fc.constantFrom("DE", "gb", "Deutschland", "Atlantis"), weight: 4 }, hostileText),
  description: fieldValue("text"),
  cdata: fc.boolean(),
});

export const shipment = fc.record({
  attributes: fc.uniqueArray(fc.tuple(attributeName, fieldValue("text")), { maxLength: 4, selector: ([n]) => n }),
  reference: fieldValue("id"),
  events: fc.array(scan, { maxLength: 3 }),
});

export type Shipment = typeof shipment extends fc.Arbitrary<infer S> ? S : never;

/** A shipment as XML, and as readXml should give it. */
export function shipmentXml(s: Shipment): { xml: string; element: XmlElement } {
  const attributes = s.attributes.map(([name, value]) => ` ${name}="${escapeXml(value)}"`).join("");
  const events = s.events.map((e) => {
    const description = e.cdata && !e.description.includes("]]>")
      ? `<![CDATA[${xmlSafe(e.description).replaceAll("\r", "\n")}]]>`
      : escapeXml(e.description);
    return `<event id="${escapeXml(e.id)}"><status>${escapeXml(e.status)}</status><timestamp>${
      escapeXml(e.timestamp)
    }</timestamp><geo:location><geo:city>${escapeXml(e.city)}</geo:city><geo:country>${
      escapeXml(e.country)
    }</geo:country></geo:location><description>${description}</description></event>`;
  });
  const xml = `<shipment${attributes}><reference>${escapeXml(s.reference)}</reference>${events.join("")}</shipment>`;
  const element: XmlElement = {};
  const define = (name: string, value: XmlElement[string]) =>
    Object.defineProperty(element, name, { value, enumerable: true, writable: true, configurable: true });
  for (const [name, value] of s.attributes) define(name.replace(/^geo:/, ""), xmlSafe(value));
  define("reference", xmlSafe(s.reference));
  const scans = s.events.map((e): XmlElement => ({
    id: xmlSafe(e.id),
    status: xmlSafe(e.status),
    timestamp: xmlSafe(e.timestamp),
    location: { city: xmlSafe(e.city), country: xmlSafe(e.country) },
    description: e.cdata && !e.description.includes("]]>")
      ? xmlSafe(e.description).replaceAll("\r", "\n")
      : xmlSafe(e.description),
  }));
  if (scans.length === 1) define("event", scans[0]!);
  if (scans.length > 1) define("event", scans);
  return { xml, element };
}

/** Documents that attack the parser: entity expansion, deep nesting, a foreign encoding, a DOCTYPE reaching out. */
export const hostileDocuments = [
  `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">` +
  `<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><feed><shipment><reference>&lol3;</reference></shipment></feed>`,
  `<!DOCTYPE feed [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><feed><shipment><reference>&xxe;</reference></shipment></feed>`,
  `<feed><shipment><reference>R</reference>${"<a>".repeat(20_000)}${"</a>".repeat(20_000)}</shipment></feed>`,
  `<feed>${"<shipment>".repeat(5_000)}${"</shipment>".repeat(5_000)}</feed>`,
  "",
  "   ",
  "<feed>",
  "not xml at all, a CSV maybe\nid,name\n1,a\n",
  `<feed><shipment><reference>${megabyteText}</reference></shipment></feed>`,
];

export const trackingEvents = {
  model: TrackingEvent,
  sourceKey: trackingEventKey,
  rawKey: (raw: unknown) => (raw as Record<string, unknown>)?.id,
};

/** A shipment's scans as records, as the bundled tracking asset makes them. */
export function eventsOf(shipment: XmlElement): unknown[] {
  const { event, reference, carrier, trackingNumber } = shipment;
  const events = event === undefined ? [] : Array.isArray(event) ? event : [event];
  return events.map((e) => ({ ...(typeof e === "string" ? { "#text": e } : e), reference, carrier, trackingNumber }));
}

/** Text a workbook holds as written: its XML cannot carry control characters (exceljs drops NUL, Excel refuses them). */
export const workbookText = xmlSafe;
export const cellText = fc.oneof(fieldValue("text"), hostileText).map(workbookText);

/** A cell as exceljs writes it, and what readExcelSheet should give back for it. */
export type Cell = { written: unknown; read: unknown; date?: true };

export const cell: fc.Arbitrary<Cell> = fc.oneof(
  { arbitrary: cellText.map((t) => ({ written: t, read: t === "" ? null : t })), weight: 8 },
  { arbitrary: fc.double().map((n) => ({ written: n, read: Object.is(n, -0) ? 0 : n })), weight: 2 },
  { arbitrary: fc.boolean().map((b) => ({ written: b, read: b })), weight: 1 },
  {
    arbitrary: fc.date({ min: new Date("1900-03-01"), max: new Date("9999-12-31"), noInvalidDate: true }).map((d) => ({
      written: d,
      read: d,
      date: true as const,
    })),
    weight: 2,
  },
  {
    arbitrary: fc.constantFrom("#N/A", "#DIV/0!", "#REF!").map((error) => ({ written: { error }, read: { error } })),
    weight: 1,
  },
  {
    arbitrary: fc.tuple(cellText, cellText).map(([a, b]) => ({
      written: { richText: [{ text: a }, { text: b, font: { bold: true } }] },
      read: a + b,
    })),
    weight: 1,
  },
  // a formula's text result is in the sheet's own XML, which exceljs still decodes a chunk at a time (exceljs#2084,
  // see readExcelSheet): kept short of a chunk here, where no character can straddle two
  {
    arbitrary: hostileText.map(workbookText).map((t) => ({
      written: { formula: '"x"&"y"', result: t },
      read: t === "" ? null : t,
    })),
    weight: 1,
  },
  { arbitrary: fc.constant({ written: null, read: null }), weight: 2 },
);

export const rosterColumns = ["Owner ID", "Email", "Name", "Team", "Region", "Start date"];

/** Header cells beyond the roster's: prototype keys, padding, duplicates once trimmed (which fail the sheet). */
export const extraHeader = fc.constantFrom(
  "__proto__",
  "constructor",
  "toString",
  " Padded ",
  "Owner ID ",
  "名前",
  "a\tb",
);

/** A text cell of a field's kind: what the roster's columns mostly hold. */
const textCell = (kind: FieldKind): fc.Arbitrary<Cell> =>
  fieldValue(kind).map(workbookText).map((t) => ({ written: t, read: t === "" ? null : t }));

/** A roster row: its six columns mostly of their kind (else any cell), four more of anything. */
const rosterRow = fc.tuple(
  ...(["id", "email", "text", "text", "text", "timestamp"] as const).map((kind) =>
    fc.oneof({ arbitrary: textCell(kind), weight: 3 }, { arbitrary: cell, weight: 1 })
  ),
  ...Array.from({ length: 4 }, () => cell),
);

export const workbookCase = fc.record({
  extra: fc.uniqueArray(extraHeader, { maxLength: 3 }),
  rows: fc.array(rosterRow, { maxLength: 12 }),
  headerless: fc.array(fc.nat({ max: 11 }), { maxLength: 2 }),
});

export type WorkbookCase = typeof workbookCase extends fc.Arbitrary<infer C> ? C : never;

export async function workbookBytes(c: WorkbookCase): Promise<Uint8Array> {
  const workbook = new ExcelJS.Workbook();
  workbook.addWorksheet("Notes").addRow(["not this sheet"]);
  const sheet = workbook.addWorksheet("Reps");
  const header = [...rosterColumns, ...c.extra];
  sheet.addRow(header);
  for (const [i, row] of c.rows.entries()) {
    const cells = row.slice(0, header.length);
    const added = sheet.addRow([...cells.map((x) => x.written), ...(c.headerless.includes(i) ? ["stray"] : [])]);
    cells.forEach((x, column) => {
      if (x.date) added.getCell(column + 1).numFmt = "yyyy-mm-dd hh:mm:ss";
    });
  }
  return new Uint8Array(await workbook.xlsx.writeBuffer());
}

export const reps = {
  model: SalesRep,
  sourceKey: salesRepKey,
  rawKey: (row: unknown) => (row as Record<string, unknown>)["Owner ID"],
};

/** Files that are not workbooks: what lands under an .xlsx name by mistake. */
export const notWorkbooks = [
  "",
  "Owner ID,Email\nO-1,a@example.com\n",
  "<html><body>Session expired</body></html>",
  "\u0000".repeat(512),
  "PK\u0003\u0004 not really a zip",
].map((text) => new TextEncoder().encode(text));

/** A value that is missing (a null) once in twenty. */
const sometimesNull = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { freq: 20 });

export const parquetCase = fc.record({
  rows: fc.array(
    fc.record({
      order_id: sometimesNull(fieldValue("id")),
      customer_id: sometimesNull(fieldValue("id")),
      ordered_at: sometimesNull(fc.date({ noInvalidDate: true })),
      channel: sometimesNull(fieldValue(salesChannels)),
      items: sometimesNull(
        fc.oneof({ arbitrary: fc.nat(50), weight: 4 }, fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })),
      ),
      revenue: sometimesNull(mostlyAmount),
      currency: sometimesNull(fieldValue("currency")),
      revenue_eur: sometimesNull(mostlyAmount),
      margin_eur: sometimesNull(
        fc.oneof({ arbitrary: fc.float({ noNaN: true, noDefaultInfinity: true }), weight: 4 }, fc.float()),
      ),
      views: sometimesNull(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })),
      flag: sometimesNull(fc.boolean()),
    }),
    { maxLength: 40 },
  ),
  extra: fc.constantFrom("__proto__", "constructor", "toString", "note"),
  rowGroupSize: fc.integer({ min: 1, max: 16 }),
  offsetIndex: fc.boolean(),
  batchSize: fc.integer({ min: 1, max: 20 }),
});

export type ParquetCase = typeof parquetCase extends fc.Arbitrary<infer C> ? C : never;

export const parquetTypes: Record<string, ColumnSource["type"]> = {
  order_id: "STRING",
  customer_id: "STRING",
  ordered_at: "TIMESTAMP",
  channel: "STRING",
  items: "INT32",
  revenue: "DOUBLE",
  currency: "STRING",
  revenue_eur: "DOUBLE",
  margin_eur: "FLOAT",
  views: "INT64",
  flag: "BOOLEAN",
};

export function parquetBytes(c: ParquetCase): Uint8Array {
  const columnData: ColumnSource[] = Object.entries(parquetTypes).map(([name, type]) => ({
    name,
    type,
    offsetIndex: c.offsetIndex,
    data: c.rows.map((row) => row[name as keyof typeof row] ?? null) as ColumnSource["data"],
  }));
  columnData.push({
    name: c.extra,
    type: "STRING",
    offsetIndex: c.offsetIndex,
    data: c.rows.map((r) => r.order_id ?? null),
  });
  return new Uint8Array(parquetWriteBuffer({ columnData, rowGroupSize: c.rowGroupSize }));
}

export const orders = {
  model: OrderAnalytics,
  sourceKey: (a: { orderId: string }) => a.orderId,
  rawKey: (row: unknown) => (row as Record<string, unknown>).order_id,
};
