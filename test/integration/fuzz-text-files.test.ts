import fc from "fast-check";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { isBadRow, SourceError } from "../../connectors/bad-rows.ts";
import { readCsv, readTsv } from "../../connectors/csv/index.ts";
import { readJsonLines } from "../../connectors/jsonl/index.ts";
import {
  checkBadRow,
  fuzzRuns,
  hostileText,
  mutate,
  mutation,
  readAll,
  scratchFolder,
  stagedOutcome,
  Tally,
} from "../fuzz-inputs.ts";
import { agents, type CsvCase, csvCase, csvText, interactions, jsonlFile } from "../fuzz-files.ts";
import { recordFigure } from "../reliability.ts";

const { write, remove } = scratchFolder("ingest-fuzz-text-");
afterAll(remove);

/** The text as a reader sees it: UTF-8 with replacement characters, lone surrogates written as U+FFFD. */
const asRead = (text: string) => text.toWellFormed();

// ---------------------------------------------------------------------------------------------------------------
// CSV and TSV: interactions.csv's columns (the bundled Interaction model), with hostile extra columns.

/** A record as readCsv should give it: every column, its value as read. */
const expectedRecord = (c: CsvCase, row: Record<string, string>) => c.columns.map((name) => [name, asRead(row[name]!)]);

describe("readCsv and readTsv, fuzzed", () => {
  const tally = new Tally();

  it("reads every well-formed file back exactly, hostile values, headers and 1 MB texts included", async () => {
    await fc.assert(
      fc.asyncProperty(csvCase, fc.boolean(), async (c, gzip) => {
        tally.cases += 1;
        const { text } = csvText(c);
        const path = write(gzip ? "case.csv.gz" : "case.csv", gzip ? gzipSync(text) : text);
        const { items, error } = await readAll(readCsv(path, { delimiter: c.delimiter, maxRecordSize: 8 << 20 }));
        expect(error).toBeUndefined();
        const got = items.map((r) => (isBadRow(r) ? r.__error : Object.entries(r)));
        const want = c.rows.map((row) => expectedRecord(c, row));
        if (tally.compare(got, want) > 0) expect(got).toEqual(want);
        stagedOutcome(items, interactions);
      }),
      fuzzRuns(700),
    );
  });

  it("reads a corrupted file as its intact rows, then records and bad rows with their line, or fails it whole, clearly", async () => {
    await fc.assert(
      fc.asyncProperty(csvCase, fc.array(mutation, { minLength: 1, maxLength: 3 }), async (c, mutations) => {
        tally.cases += 1;
        const { text, rowEnds, tooLong } = csvText(c);
        const { bytes, intactUpTo } = mutate(new TextEncoder().encode(text), mutations);
        const path = write("corrupt.csv", bytes);
        const { items, error } = await readAll(readCsv(path, { delimiter: c.delimiter }));
        const lines = Buffer.from(bytes).toString("utf8").replace(/^\uFEFF/, "").split("\n");
        if (error) {
          // only a problem of the whole file: its header
          expect(error).toBeInstanceOf(SourceError);
          expect(error.message).toMatch(new RegExp(`^${escape(path)}(:\\d+: header: .+|: no header line .+)$`));
          expect(items).toEqual([]);
          return;
        }
        // the rows before the first change come back as they were, first (up to one with a line too long to read,
        // which is a bad row); nothing is dropped after
        const firstLong = tooLong.indexOf(true);
        const intact = c.rows.filter((_, i) => rowEnds[i]! <= intactUpTo && (firstLong === -1 || i < firstLong));
        const firstRecords = items.slice(0, intact.length);
        const got = firstRecords.map((r) => (isBadRow(r) ? r.__error : Object.entries(r)));
        const want = intact.map((row) => expectedRecord(c, row));
        if (tally.compare(got, want) > 0) expect(got).toEqual(want);
        const dataLines = lines.slice(1).filter((line) => line.trim() !== "").length;
        expect(items.length).toBeLessThanOrEqual(dataLines);
        for (const item of items) {
          if (!isBadRow(item)) continue;
          checkBadRow(item, path);
          // the bad row names the line it starts on: that line begins with its raw text
          expect(lines[item.__line - 1]!.replace(/\r$/, "").startsWith(item.raw.split("\n")[0]!)).toBe(true);
        }
        stagedOutcome(items, interactions);
      }),
      fuzzRuns(800),
    );
  });

  it("reads TSV, where quotes are plain characters, as its lines: one record or bad row each", async () => {
    const tsvValue = hostileText.map((v) => v.replace(/[\t\r\n]/g, " "));
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(tsvValue, { minLength: 3, maxLength: 3 }), { maxLength: 20 }),
        fc.array(fc.integer({ min: 0, max: 19 }), { maxLength: 3 }),
        async (rows, ragged) => {
          tally.cases += 1;
          // a ragged line (a field too many) is a bad row; the others come back trimmed
          const lines = rows.map((row, i) => (ragged.includes(i) ? [...row, "extra"] : row).join("\t"));
          const path = write("case.tsv", `a\tb\tc\n${lines.join("\n")}\n`);
          const { items, error } = await readAll(readTsv(path));
          expect(error).toBeUndefined();
          const expected = rows.flatMap((row, i): object[] => {
            if (lines[i]!.trim() === "") return [];
            if (ragged.includes(i)) return [{ line: i + 2 }];
            return [{ a: asRead(row[0]!).trim(), b: asRead(row[1]!).trim(), c: asRead(row[2]!).trim() }];
          });
          const got = items.map((r) => (isBadRow(r) ? { line: r.__line } : r));
          if (tally.compare(got, expected) > 0) expect(got).toEqual(expected);
          for (const item of items) if (isBadRow(item)) checkBadRow(item, path);
        },
      ),
      fuzzRuns(500),
    );
  });

  it("records its figures", () => {
    expect(tally.cases).toBe(2_000);
    recordFigure("fuzz: csv cases", tally.cases, "cases", ">= 1000", "readCsv/readTsv in-process, seed 20261117");
    recordFigure("fuzz: csv records lost or duplicated", tally.lostOrDuplicated, "records", "<= 0");
  });
});

// ---------------------------------------------------------------------------------------------------------------
// JSON Lines: agents.jsonl's objects (the bundled SupportAgent model), and lines that are anything but.

/** What readJsonLines yields for a file's bytes: one item a line that is not blank, an object or a bad row. */
function expectedJsonLines(bytes: Uint8Array, path: string) {
  const pieces = Buffer.from(bytes).toString("utf8").split("\n");
  if (pieces.at(-1) === "") pieces.pop();
  return pieces.flatMap((piece, i): object[] => {
    const raw = (i === 0 ? piece.replace(/^\uFEFF/, "") : piece).replace(/\r$/, "");
    if (raw.trim() === "") return [];
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      return [{ line: i + 1, raw, error: "not JSON" }];
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      return [{ line: i + 1, raw, error: "not a JSON object" }];
    }
    return [{ source: path, line: i + 1, value }];
  });
}

describe("readJsonLines, fuzzed", () => {
  const tally = new Tally();

  it("reads every line that is not blank as its object or a bad row at its number, whatever the bytes", async () => {
    await fc.assert(
      fc.asyncProperty(jsonlFile, async ({ lines, crlf, bom, finalBreak, mutations }) => {
        tally.cases += 1;
        const text = `${bom ? "\uFEFF" : ""}${lines.join(crlf ? "\r\n" : "\n")}${finalBreak ? "\n" : ""}`;
        const { bytes } = mutate(new TextEncoder().encode(text), mutations);
        const path = write("agents.jsonl", bytes);
        const { items, error } = await readAll(readJsonLines(path));
        expect(error).toBeUndefined();
        const expected = expectedJsonLines(bytes, path);
        const got = items.map((item) => {
          if (!isBadRow(item)) return item;
          checkBadRow(item, path);
          return { line: item.__line, raw: item.raw, error: item.__error.match(/not JSON|not a JSON object/)?.[0] };
        });
        // compared without recursion (a line may nest 5,000 deep), then, when they differ, shown without the values
        const shape = (item: object) => ({ ...item, value: "value" in item ? typeof item.value : undefined });
        if (tally.compare(got, expected) > 0) expect(got.map(shape)).toEqual(expected.map(shape));
        stagedOutcome(items.map((item) => (isBadRow(item) ? item : item.value)), agents);
      }),
      fuzzRuns(1_500),
    );
  });

  it("records its figures", () => {
    expect(tally.cases).toBe(1_500);
    recordFigure("fuzz: jsonl cases", tally.cases, "cases", ">= 1000", "readJsonLines in-process, seed 20261117");
    recordFigure("fuzz: jsonl records lost or duplicated", tally.lostOrDuplicated, "records", "<= 0");
  });
});

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
