import fc from "fast-check";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { isBadRow, SourceError } from "../../connectors/bad-rows.ts";
import { readJson } from "../../connectors/json/index.ts";
import { readXml } from "../../connectors/xml/index.ts";
import {
  checkBadRow,
  fuzzRuns,
  isUtf8,
  mutate,
  mutation,
  readAll,
  sameValue,
  scratchFolder,
  stagedOutcome,
  Tally,
  withoutZwnbsp,
} from "../fuzz-inputs.ts";
import {
  campaigns,
  documentText,
  eventsOf,
  hostileDocuments,
  jsonDocument,
  shipment,
  shipmentXml,
  trackingEvents,
} from "../fuzz-files.ts";
import { recordFigure } from "../reliability.ts";

const { write, remove } = scratchFolder("ingest-fuzz-documents-");
afterAll(remove);

// ---------------------------------------------------------------------------------------------------------------
// JSON documents: analytics/campaigns.json's campaigns (the bundled Campaign model), at `$.campaigns.*` or `$.*`.

/** The values at `$.campaigns.*` or `$.*` of a parsed document. */
function valuesAt(document: unknown, nested: boolean): unknown[] {
  const container = nested
    ? (document !== null && typeof document === "object" && !Array.isArray(document)
      ? (document as Record<string, unknown>).campaigns
      : undefined)
    : document;
  if (container === null || typeof container !== "object") return [];
  return Array.isArray(container) ? container : Object.values(container);
}

describe("readJson, fuzzed", () => {
  const tally = new Tally();

  it("yields a document's values as JSON.parse reads them, or those before the damage and one bad row, and stops", async () => {
    await fc.assert(
      fc.asyncProperty(jsonDocument, async ({ elements, nested, pretty, bom, gzip, mutations }) => {
        tally.cases += 1;
        const { text, ends } = documentText(elements, nested, pretty, bom);
        const { bytes, intactUpTo } = gzip
          ? { bytes: new TextEncoder().encode(text), intactUpTo: Infinity }
          : mutate(new TextEncoder().encode(text), mutations);
        const path = write(gzip ? "campaigns.json.gz" : "campaigns.json", gzip ? gzipSync(bytes) : bytes);
        const { items, error } = await readAll(readJson(path, { path: nested ? "$.campaigns.*" : "$.*" }));
        expect(error).toBeUndefined();
        // a byte-order mark before the document, after blanks too, is read as a blank (as the tokenizer does)
        const decoded = Buffer.from(bytes).toString("utf8").replace(
          /^[ \t\r\n\uFEFF]+/,
          (s) => s.replaceAll("\uFEFF", ""),
        );
        let expected: unknown[] | undefined;
        try {
          if (isUtf8(bytes)) expected = valuesAt(JSON.parse(decoded), nested);
        } catch {
          // not JSON: the reader stops at the damage
        }
        if (expected) {
          expect(items.some(isBadRow)).toBe(false);
          expect(items.length).toBe(expected.length);
          expect(tally.compare(items, expected, (a, b) => sameValue(a, b, withoutZwnbsp)), "values differ").toBe(0);
        } else {
          const bad = items.at(-1);
          expect(isBadRow(bad), "a bad row last").toBe(true);
          expect(items.slice(0, -1).some(isBadRow)).toBe(false);
          if (isBadRow(bad)) {
            checkBadRow(bad, path);
            expect(bad.__error).toMatch(/: (malformed JSON at byte \d+ .*; reading stopped there|no JSON value: .+)$/s);
            expect(bad.__line).toBeLessThanOrEqual(decoded.split("\n").length);
          }
          // the values whole before the first damaged byte come first, as they were written
          const intact = elements.filter((_, i) => ends[i]! < intactUpTo).map((e) => JSON.parse(e) as unknown);
          const before = items.slice(0, Math.min(intact.length, items.length - 1));
          const wrong = tally.compare(before, intact.slice(0, before.length), (a, b) => sameValue(a, b, withoutZwnbsp));
          expect(wrong, "intact values differ").toBe(0);
        }
        stagedOutcome(items, campaigns);
      }),
      fuzzRuns(1_200),
    );
  });

  it("records its figures", () => {
    expect(tally.cases).toBe(1_200);
    recordFigure("fuzz: json cases", tally.cases, "cases", ">= 1000", "readJson in-process, seed 20261117");
    recordFigure("fuzz: json records lost or duplicated", tally.lostOrDuplicated, "records", "<= 0");
  });
});

// ---------------------------------------------------------------------------------------------------------------
// XML: the tracking feed's shipments and their scans (the bundled TrackingEvent model).

describe("readXml, fuzzed", () => {
  const tally = new Tally();

  it("yields each record as written, attributes, entities, CDATA and prototype names included", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(shipment, { maxLength: 12 }), fc.boolean(), async (shipments, gzip) => {
        tally.cases += 1;
        const records = shipments.map(shipmentXml);
        const text = `<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns:geo="urn:example:geo">\n${
          records.map((r) => r.xml).join("\n")
        }\n</feed>\n`;
        const path = write(gzip ? "feed.xml.gz" : "feed.xml", gzip ? gzipSync(text) : text);
        const { items, error } = await readAll(readXml(path, { record: "shipment" }));
        expect(error).toBeUndefined();
        expect(items.length).toBe(records.length);
        const wrong = tally.compare(items, records.map((r) => r.element));
        if (wrong > 0) {
          expect(items.map((item) => JSON.stringify(item))).toEqual(records.map((r) => JSON.stringify(r.element)));
        }
        stagedOutcome(items.flatMap((item) => (isBadRow(item) ? [item] : eventsOf(item))), trackingEvents);
      }),
      fuzzRuns(600),
    );
  });

  it("yields the records before damage, then one bad row with its line, and stops; refuses only a foreign encoding", async () => {
    const documents = fc.oneof(
      { arbitrary: fc.array(shipment, { maxLength: 8 }).map((s) => s.map(shipmentXml)), weight: 9 },
      { arbitrary: fc.constantFrom(...hostileDocuments), weight: 1 },
    );
    await fc.assert(
      fc.asyncProperty(documents, fc.array(mutation, { minLength: 1, maxLength: 2 }), async (document, mutations) => {
        tally.cases += 1;
        const records = typeof document === "string" ? [] : document;
        const ends: number[] = [];
        let text = `<feed xmlns:geo="urn:example:geo">\n`;
        for (const record of records) {
          text += `${record.xml}\n`;
          ends.push(Buffer.byteLength(text));
        }
        text = typeof document === "string" ? document : `${text}</feed>\n`;
        const { bytes, intactUpTo } = mutate(new TextEncoder().encode(text), mutations);
        const path = write("feed.xml", bytes);
        const { items, error } = await readAll(readXml(path, { record: "shipment" }));
        if (error) {
          expect(error).toBeInstanceOf(SourceError);
          expect(error.message).toMatch(new RegExp(`declares the encoding .+; only UTF-8 is read$`));
          return;
        }
        const bad = items.findIndex(isBadRow);
        if (bad !== -1) {
          expect(bad, "the bad row comes last").toBe(items.length - 1);
          const row = items[bad]!;
          if (isBadRow(row)) {
            checkBadRow(row, path);
            expect(row.__error).toMatch(/: malformed XML at line \d+, column \d+: .+; reading stopped there$/s);
          }
        }
        const intact = records.filter((_, i) => ends[i]! < intactUpTo);
        const before = items.slice(0, Math.min(intact.length, bad === -1 ? items.length : bad));
        expect(tally.compare(before, intact.slice(0, before.length).map((r) => r.element)), "intact shipments").toBe(0);
        stagedOutcome(items.flatMap((item) => (isBadRow(item) ? [item] : eventsOf(item))), trackingEvents);
      }),
      fuzzRuns(700),
    );
  });

  it("records its figures", () => {
    expect(tally.cases).toBe(1_300);
    recordFigure("fuzz: xml cases", tally.cases, "cases", ">= 1000", "readXml in-process, seed 20261117");
    recordFigure("fuzz: xml records lost or duplicated", tally.lostOrDuplicated, "records", "<= 0");
  });
});
