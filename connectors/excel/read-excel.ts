import type ExcelJS from "exceljs";
import { createReadStream, type ReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import {
  BadRow,
  type HandleBadRows,
  handleBadRows,
  type OnBadRow,
  SourceError,
  type YieldBadRows,
} from "../bad-rows.ts";
import { setField } from "../record-fields.ts";
import { zipDirectoryProblem } from "./zip-directory.ts";

/**
 * A cell as the sheet holds it. Dates are `Date` where the cell has a date format, otherwise serial
 * numbers (a formula's result always is): the models normalise both. Rich text and hyperlinks are
 * read as their text, formulas as their cached result; an error cell is `{ error: "#N/A" }`.
 */
export type ExcelValue = string | number | boolean | Date | { error: string } | null;

/** An Excel row keyed by the header row's names; a column the row leaves empty is `null`. */
export type ExcelRecord = Record<string, ExcelValue>;

/**
 * Streams one sheet of an .xlsx workbook with exceljs's streaming reader: the first row is the header,
 * each later row a record keyed by it; empty rows are skipped. Memory is bounded by the workbook's
 * shared strings (which the format keeps in one table) and a row, not by the number of rows.
 *
 * A row with a value in a column that has no header cannot be keyed without losing it: by default it is
 * yielded in place as a {@link BadRow} (the row number, and its cells as JSON for `raw`); `onBadRow` as
 * for `readCsv`. A missing sheet, an empty header or a duplicate column name throws a {@link SourceError}, as
 * does a file that is not a readable .xlsx workbook (its zip directory is checked before a row is read).
 * Nothing is read until the first iteration.
 *
 * @example
 * ```ts
 * export const stagedSalesReps = defineStagedAsset({
 *   // key, table, model, …
 *   rawKey: (row) => row["Owner ID"],
 *   extract: () => readExcelSheet(join(sourcesDir, "crm", "exports", "sales-reps.xlsx"), "Reps"),
 * });
 * ```
 *
 * @example
 * ```ts
 * for await (const rep of readExcelSheet("crm/exports/sales-reps.xlsx", "Reps")) {
 *   if (!isBadRow(rep)) console.log(rep["Owner ID"], rep["Start date"]);
 * }
 * ```
 */
export function readExcelSheet(
  path: string,
  sheetName: string,
  options?: YieldBadRows,
): AsyncIterable<ExcelRecord | BadRow>;
/** With `onBadRow: "throw"` or a callback: only records are yielded (see the first signature). */
export function readExcelSheet(path: string, sheetName: string, options: HandleBadRows): AsyncIterable<ExcelRecord>;
export function readExcelSheet(
  path: string,
  sheetName: string,
  options: { onBadRow?: OnBadRow } = {},
): AsyncIterable<ExcelRecord | BadRow> {
  return handleBadRows(readSheet(path, sheetName), options.onBadRow);
}

/** What exceljs's streaming reader yields per sheet (its typings omit `name`). */
type SheetReader = AsyncIterable<ExcelJS.Row> & { name?: string };

async function* readSheet(path: string, sheetName: string): AsyncGenerator<ExcelRecord | BadRow> {
  // exceljs pipes the file into its unzipper and never hears of a read error: check the file first, or it waits forever.
  if (!(await stat(path)).isFile()) throw new SourceError(`${path}: not a file`);
  // exceljs's unzipper reads local headers alone, and one damaged there could leave the read waiting for ever
  const problem = await zipDirectoryProblem(path);
  if (problem) throw new SourceError(`${path}: not a readable .xlsx workbook: ${problem}`);
  // exceljs takes a quarter of a second to load: only a project that reads a workbook pays for it, when it does.
  const { default: excel } = await import("exceljs");
  const input = keepFlowing(createReadStream(path));
  // styles: cached so that date-formatted cells come as Dates; hyperlinks: ignored so that they read as text.
  const workbook = new excel.stream.xlsx.WorkbookReader(input, {
    worksheets: "emit",
    sharedStrings: "cache",
    styles: "cache",
    hyperlinks: "ignore",
    entries: "ignore",
  });
  const seen: string[] = [];
  try {
    for await (const sheet of workbook as AsyncIterable<SheetReader>) {
      const name = sheet.name ?? "";
      seen.push(name);
      if (name !== sheetName) {
        // A sheet exceljs parked in a temporary file is deleted as soon as we move on, perhaps before its read
        // stream has opened it (an uncaught ENOENT): read it to the end first.
        for await (const _ of sheet);
        continue;
      }
      yield* readRows(`${path}#${sheetName}`, sheet);
      return;
    }
  } catch (error) {
    if (error instanceof SourceError) throw error;
    throw new SourceError(`${path}: not a readable .xlsx workbook: ${(error as Error).message}`, { cause: error });
  } finally {
    input.destroy();
  }
  throw new SourceError(
    `${path}: no sheet named ${JSON.stringify(sheetName)} (sheets: ${
      seen.map((s) => JSON.stringify(s)).join(", ") || "none"
    })`,
  );
}

/**
 * exceljs pipes the file into an unzipper stream and pauses that stream while it handles each entry; unzipper
 * still reads on and emits `end` when the file is exhausted, and entries it had not delivered yet are lost
 * (exceljs#3064; on Deno, about one read in three of a small workbook loses `xl/workbook.xml` or the shared
 * strings). Keeping it flowing delivers every entry: each one's data waits in its own stream until read.
 */
function keepFlowing(input: ReadStream): ReadStream {
  const pipe = input.pipe.bind(input);
  input.pipe = <T extends NodeJS.WritableStream>(destination: T, options?: { end?: boolean }): T => {
    (destination as unknown as { pause: () => unknown }).pause = () => destination;
    decodeAsStreamed(destination as unknown as NodeJS.EventEmitter);
    return pipe(destination, options);
  };
  return input;
}

/**
 * exceljs decodes each chunk of an entry's XML on its own, so a character whose UTF-8 bytes straddle two chunks
 * becomes two U+FFFD (exceljs#2084, #2316: every 16 KiB or so of non-ASCII shared strings). Each XML entry the
 * unzipper delivers is set to decode as it streams, before exceljs reads it (this listener comes first), which
 * keeps such characters whole.
 */
function decodeAsStreamed(unzipper: NodeJS.EventEmitter): void {
  unzipper.on("data", (entry: { path?: unknown; setEncoding?: (encoding: "utf8") => unknown }) => {
    if (typeof entry.path === "string" && entry.path.endsWith(".xml")) entry.setEncoding?.("utf8");
  });
}

async function* readRows(source: string, sheet: SheetReader): AsyncGenerator<ExcelRecord | BadRow> {
  let header: (string | undefined)[] | undefined;
  for await (const row of sheet) {
    // row.values is sparse and 1-based: Array.from fills the holes (null), so cells[column] is the cell in that column.
    const cells = Array.from(row.values as unknown[], (value) => cellValue(value));
    if (!cells.some((v) => v !== null && v !== "")) continue;
    if (!header) {
      header = headerNames(source, row.number, cells);
      continue;
    }
    const names = header;
    const headless = cells.findIndex((v, column) => names[column] === undefined && v !== null && v !== "");
    if (headless !== -1) {
      yield new BadRow(
        source,
        row.number,
        `a value in column ${columnLetter(headless)}, which has no header`,
        JSON.stringify(cells.slice(1)),
      );
      continue;
    }
    const record: ExcelRecord = {};
    names.forEach((name, column) => {
      if (name !== undefined) setField(record, name, cells[column] ?? null);
    });
    yield record;
  }
  if (!header) throw new SourceError(`${source}: no header row (the sheet is empty)`);
}

/** Header cells by column (1-based, as exceljs indexes them); undefined where a column has no name. */
function headerNames(source: string, rowNumber: number, cells: ExcelValue[]): (string | undefined)[] {
  const names = cells.map((
    v,
  ) => (v === null || v === ""
    ? undefined
    : String(v instanceof Date ? v.toISOString() : typeof v === "object" ? v.error : v).trim())
  );
  const named = names.filter((n): n is string => n !== undefined);
  const duplicate = named.find((n, i) => named.indexOf(n) !== i);
  if (duplicate !== undefined) {
    throw new SourceError(`${source}:${rowNumber}: header: duplicate column ${JSON.stringify(duplicate)}`);
  }
  return names;
}

function cellValue(value: unknown): ExcelValue {
  if (value === undefined || value === null) return null;
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean" || value instanceof Date) {
    return value;
  }
  const v = value as {
    richText?: { text: string }[];
    text?: unknown;
    result?: unknown;
    formula?: unknown;
    error?: unknown;
  };
  if (v.richText) return v.richText.map((run) => run.text).join("");
  if ("sharedString" in v) throw new Error("a cell refers to the shared strings table, which was not read");
  if (v.formula !== undefined) return cellValue(v.result);
  if (typeof v.error === "string") return { error: v.error };
  if (v.text !== undefined) return cellValue(v.text);
  return JSON.stringify(value);
}

function columnLetter(column: number): string {
  let letters = "";
  for (let n = column; n > 0; n = Math.floor((n - 1) / 26)) {
    letters = String.fromCharCode(65 + ((n - 1) % 26)) + letters;
  }
  return letters;
}
