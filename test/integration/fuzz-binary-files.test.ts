import fc from "fast-check";
import { parquetMetadata } from "hyparquet";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { isBadRow, SourceError } from "../../connectors/bad-rows.ts";
import { readExcelSheet } from "../../connectors/excel/index.ts";
import { readParquet } from "../../connectors/parquet/index.ts";
import {
  checkBadRow,
  fuzzRuns,
  hostileText,
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
  notWorkbooks,
  orders,
  parquetBytes,
  type ParquetCase,
  parquetCase,
  parquetTypes,
  reps,
  rosterColumns,
  workbookBytes,
  type WorkbookCase,
  workbookCase,
} from "../fuzz-files.ts";
import { recordFigure } from "../reliability.ts";

const { write, remove } = scratchFolder("ingest-fuzz-binary-");
afterAll(remove);

/** Dates compared to the second: a workbook keeps them as fractions of days. */
const toSeconds = (value: unknown): unknown =>
  value instanceof Date
    ? `date ${Number.isNaN(value.getTime()) ? "invalid" : Math.round(value.getTime() / 1000)}`
    : value;

// ---------------------------------------------------------------------------------------------------------------
// Excel: the sales-reps.xlsx roster (the bundled SalesRep model), with hostile headers and cells.

/** exceljs writes a carriage return as it is, and the XML it is read with makes every line end a line feed. */
const oneLineEnd = (text: string) => text.replace(/\r\n?/g, "\n");

/** What readExcelSheet yields for the case: a record a row (empty rows skipped), a bad row where a value has no header. */
function expectedRoster(c: WorkbookCase): unknown[] {
  const header = [...rosterColumns, ...c.extra];
  const names = header.map((h) => h.trim());
  if (new Set(names).size !== names.length) return ["duplicate"];
  return c.rows.flatMap((row, i) => {
    const cells = row.slice(0, header.length);
    const stray = c.headerless.includes(i);
    if (!stray && cells.every((x) => x.read === null || x.read === "")) return [];
    if (stray) return [{ line: i + 2 }];
    const record: Record<string, unknown> = {};
    names.forEach((name, column) =>
      Object.defineProperty(record, name, {
        value: toSeconds(cells[column]!.read),
        enumerable: true,
        writable: true,
        configurable: true,
      })
    );
    return [record];
  });
}

describe("readExcelSheet, fuzzed", () => {
  const tally = new Tally();

  it("reads a workbook back as written, or refuses a duplicate header; a damaged one yields what it can or fails whole", async () => {
    await fc.assert(
      fc.asyncProperty(workbookCase, fc.array(mutation, { minLength: 1, maxLength: 2 }), async (c, mutations) => {
        tally.cases += 2;
        const bytes = await workbookBytes(c);
        const path = write("reps.xlsx", bytes);
        const { items, error } = await readAll(readExcelSheet(path, "Reps"));
        const expected = expectedRoster(c);
        if (expected[0] === "duplicate") {
          expect(error?.message).toMatch(new RegExp(`^${escape(path)}#Reps:1: header: duplicate column ".+"$`));
          expect(items).toEqual([]);
        } else {
          expect(error).toBeUndefined();
          const actual = items.map((item) => {
            if (isBadRow(item)) {
              checkBadRow(item, `${path}#Reps`);
              return { line: item.__line };
            }
            return Object.fromEntries(Object.entries(item).map(([k, v]) => [k, toSeconds(v)]));
          });
          const wrong = tally.compare(actual, expected, (a, b) => sameValue(a, b, oneLineEnd));
          if (wrong > 0) expect(actual.map((a) => JSON.stringify(a))).toEqual(expected.map((e) => JSON.stringify(e)));
          stagedOutcome(items, reps);
        }
        // the same workbook damaged: records and bad rows, or a SourceError for the whole file, never another error
        const damaged = write("damaged.xlsx", mutate(bytes, mutations).bytes);
        const read = await readAll(readExcelSheet(damaged, "Reps"));
        if (read.error) {
          expect(read.error).toBeInstanceOf(SourceError);
          expect(read.error.message.startsWith(damaged)).toBe(true);
        }
        for (const item of read.items) if (isBadRow(item)) checkBadRow(item, `${damaged}#Reps`);
        stagedOutcome(read.items, reps);
      }),
      fuzzRuns(350),
    );
  });

  it("refuses a file that is not a workbook (text, HTML, zeros, a gzip), clearly and whole", async () => {
    const inputs = fc.oneof(
      fc.constantFrom(...notWorkbooks),
      fc.uint8Array({ maxLength: 4_096 }),
      hostileText.map((t) => gzipSync(t)),
    );
    await fc.assert(
      fc.asyncProperty(inputs, async (bytes) => {
        tally.cases += 1;
        const path = write("not-a-workbook.xlsx", bytes);
        const { items, error } = await readAll(readExcelSheet(path, "Reps"));
        expect(items).toEqual([]);
        expect(error).toBeInstanceOf(SourceError);
        expect(error!.message).toMatch(
          new RegExp(`^${escape(path)}: (not a readable \\.xlsx workbook: .+|no sheet named "Reps" .+)$`, "s"),
        );
      }),
      fuzzRuns(300),
    );
  });

  it("records its figures", () => {
    expect(tally.cases).toBe(1_000);
    recordFigure("fuzz: excel cases", tally.cases, "cases", ">= 1000", "readExcelSheet in-process, seed 20261117");
    recordFigure("fuzz: excel records lost or duplicated", tally.lostOrDuplicated, "records", "<= 0");
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Parquet: the analytics export's orders (the bundled OrderAnalytics model), every column type odd values can take.

/** A row as readParquet gives it: INT64 a number while it is safe, text beyond; strings as UTF-8 keeps them. */
function expectedOrder(c: ParquetCase, row: ParquetCase["rows"][number]): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  const set = (name: string, value: unknown) =>
    Object.defineProperty(record, name, { value, enumerable: true, writable: true, configurable: true });
  for (const name of Object.keys(parquetTypes)) {
    const value = row[name as keyof typeof row] ?? null;
    if (typeof value === "bigint") set(name, Number.isSafeInteger(Number(value)) ? Number(value) : String(value));
    else if (typeof value === "string") set(name, value.toWellFormed());
    else if (name === "margin_eur" && typeof value === "number") set(name, Math.fround(value));
    else set(name, value);
  }
  set(c.extra, row.order_id?.toWellFormed() ?? null);
  return record;
}

describe("readParquet, fuzzed", () => {
  const tally = new Tally();

  it("reads every row of every row group back as written, in any batch size", async () => {
    await fc.assert(
      fc.asyncProperty(parquetCase, async (c) => {
        tally.cases += 1;
        const path = write("orders.parquet", parquetBytes(c));
        const { items, error } = await readAll(readParquet(path, { batchSize: c.batchSize }));
        expect(error).toBeUndefined();
        const want = c.rows.map((row) => expectedOrder(c, row));
        expect(tally.compare(items, want, (a, b) => sameValue(a, b, withoutZwnbsp)), "rows differ").toBe(0);
        stagedOutcome(items, orders);
      }),
      fuzzRuns(600),
    );
  });

  it("reads a damaged file as its readable row groups and a bad row for each other, or one for the whole file", async () => {
    await fc.assert(
      fc.asyncProperty(parquetCase, fc.array(mutation, { minLength: 1, maxLength: 3 }), async (c, mutations) => {
        tally.cases += 1;
        const original = parquetBytes(c);
        const { bytes } = mutate(original, mutations);
        const path = write("damaged.parquet", bytes);
        const { items, error } = await readAll(readParquet(path, { batchSize: c.batchSize }));
        expect(error).toBeUndefined();
        const bad = items.filter(isBadRow);
        for (const row of bad) {
          checkBadRow(row, path);
          expect(row.__error).toMatch(
            /: (not a complete Parquet file \(.+\); none of its rows were read|row group \d+ of \d+ \(rows \d+–\d+\) could not be read from row \d+: .+)$/s,
          );
        }
        // a bad footer is the file's only item; otherwise no more rows than the footer says
        if (bad.some((row) => row.__error.includes("not a complete Parquet file"))) expect(items.length).toBe(1);
        else {
          const rows = parquetMetadata(bytes.buffer as ArrayBuffer).row_groups.reduce(
            (n, g) => n + Number(g.num_rows),
            0,
          );
          expect(items.length - bad.length).toBeLessThanOrEqual(rows);
        }
        stagedOutcome(items, orders);
      }),
      fuzzRuns(600),
    );
  });

  it("records its figures", () => {
    expect(tally.cases).toBe(1_200);
    recordFigure("fuzz: parquet cases", tally.cases, "cases", ">= 1000", "readParquet in-process, seed 20261117");
    recordFigure("fuzz: parquet records lost or duplicated", tally.lostOrDuplicated, "records", "<= 0");
  });
});

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
