import { parse } from "csv-parse/sync";
import {
  BadRow,
  type HandleBadRows,
  handleBadRows,
  type OnBadRow,
  SourceError,
  type YieldBadRows,
} from "../bad-rows.ts";
import { type CsvRecordText, csvRecordTexts } from "./records.ts";

/** A CSV record keyed by the header's column names; values are trimmed strings. */
export type CsvRecord = Record<string, string>;

/** How {@link readCsv} reads a file. */
export interface CsvOptions {
  /** One character (default `,`); anything else throws a {@link SourceError} when iteration starts. */
  delimiter?: string;
  /** Records parsed together (default 500): bounds memory, and amortises csv-parse's per-call cost. */
  batchSize?: number;
  /**
   * Longest record, in characters (default 128 000, csv-parse's own limit): bounds an unclosed quote's reach,
   * and a longer line is a bad row, skipped as it streams.
   */
  maxRecordSize?: number;
  /**
   * Whether a field may be quoted with `"` (default `true`; {@link readTsv}'s default is `false`). Unquoted,
   * a line is a record and a `"` is an ordinary character, as in the TSV that spreadsheets and shop
   * platforms export.
   */
  quoted?: boolean;
}

/**
 * Streams a CSV file with a header line as records keyed by column name (csv-parse: trimmed values,
 * blank lines skipped, strict quotes). Memory is bounded by `batchSize` records, whatever the file's size.
 * A file whose name ends in `.gz` is gunzipped as it is read; a truncated or corrupt one throws a
 * {@link SourceError} naming it.
 *
 * A malformed record (a stray or unclosed quote, too many or too few fields) is never dropped: by
 * default it is yielded in place as a {@link BadRow} naming the file and the line it starts on, with
 * its raw text; `onBadRow: "throw"` stops there instead, and a callback receives it and reading goes
 * on. A file without a header, or with a duplicate column name, throws a {@link SourceError}. Nothing is
 * read until the first iteration, so errors (a missing file included) reject it, not this call.
 *
 * A staged asset's `extract` can return it as it is: the asset dead-letters the bad rows itself.
 *
 * @example
 * ```ts
 * export const stagedInteractions = defineStagedAsset({
 *   // key, table, model, …
 *   extract: () => readCsv(join(sourcesDir, "crm", "exports", "interactions.csv")),
 * });
 * ```
 *
 * @example
 * ```ts
 * for await (const row of readCsv("exports/interactions.csv", { delimiter: ";", onBadRow: "throw" })) {
 *   console.log(row.interaction_id, row.type);
 * }
 * ```
 */
export function readCsv(path: string, options?: CsvOptions & YieldBadRows): AsyncIterable<CsvRecord | BadRow>;
/** With `onBadRow: "throw"` or a callback: only records are yielded (see the first signature). */
export function readCsv(path: string, options: CsvOptions & HandleBadRows): AsyncIterable<CsvRecord>;
export function readCsv(
  path: string,
  options: CsvOptions & { onBadRow?: OnBadRow } = {},
): AsyncIterable<CsvRecord | BadRow> {
  return handleBadRows(parseFile(path, options), options.onBadRow);
}

/**
 * Streams a tab-separated file with a header line: {@link readCsv} with `delimiter: "\t"` and, unless
 * `quoted: true` is given, no quoting (a line is a record; `"` is an ordinary character), as spreadsheets
 * and shop platforms export TSV. Bad rows, `.gz` files and errors as for `readCsv`.
 *
 * @example
 * ```ts
 * for await (const row of readTsv("exports/marketplace-orders.tsv.gz")) {
 *   if (isBadRow(row)) console.error(row.__error);
 *   else console.log(row["order-id"], row["purchase-date"]);
 * }
 * ```
 */
export function readTsv(
  path: string,
  options?: Omit<CsvOptions, "delimiter"> & YieldBadRows,
): AsyncIterable<CsvRecord | BadRow>;
/** With `onBadRow: "throw"` or a callback: only records are yielded (see the first signature). */
export function readTsv(path: string, options: Omit<CsvOptions, "delimiter"> & HandleBadRows): AsyncIterable<CsvRecord>;
export function readTsv(
  path: string,
  options: Omit<CsvOptions, "delimiter"> & { onBadRow?: OnBadRow } = {},
): AsyncIterable<CsvRecord | BadRow> {
  return handleBadRows(parseFile(path, { quoted: false, ...options, delimiter: "\t" }), options.onBadRow);
}

async function* parseFile(path: string, options: CsvOptions): AsyncGenerator<CsvRecord | BadRow> {
  const { batchSize = 500, maxRecordSize = 128_000, quoted = true } = options;
  if (options.delimiter !== undefined && options.delimiter.length !== 1) {
    throw new SourceError(`${path}: the delimiter must be one character, got ${JSON.stringify(options.delimiter)}`);
  }
  const format: Format = { delimiter: options.delimiter ?? ",", quote: quoted ? '"' : false };
  let columns: string[] | undefined;
  let batch: CsvRecordText[] = [];
  for await (const record of csvRecordTexts(path, format.delimiter, maxRecordSize, quoted)) {
    if (!columns) {
      columns = header(path, record, format);
    } else if (record.tooLong !== undefined) {
      yield* parseBatch(path, columns, batch, format);
      batch = [];
      yield new BadRow(
        path,
        record.line,
        `a line of ${record.tooLong} characters, longer than maxRecordSize (${maxRecordSize}): not read`,
        record.text,
      );
    } else if (record.unclosedQuote) {
      yield* parseBatch(path, columns, batch, format);
      batch = [];
      yield new BadRow(
        path,
        record.line,
        "quote not closed (by the end of the file or within maxRecordSize characters)",
        record.text,
      );
    } else {
      batch.push(record);
      if (batch.length >= batchSize) {
        yield* parseBatch(path, columns, batch, format);
        batch = [];
      }
    }
  }
  if (!columns) throw new SourceError(`${path}: no header line (the file is empty)`);
  yield* parseBatch(path, columns, batch, format);
}

const strict = { trim: true, relax_quotes: false, skip_empty_lines: true, record_delimiter: "\n" } as const;

/** The delimiter, and the quote character (`false`: fields are never quoted). */
interface Format {
  delimiter: string;
  quote: '"' | false;
}

function header(path: string, record: CsvRecordText, format: Format): string[] {
  const where = `${path}:${record.line}: header`;
  if (record.tooLong !== undefined) {
    throw new SourceError(`${where}: ${record.tooLong} characters, longer than maxRecordSize`);
  }
  if (record.unclosedQuote) throw new SourceError(`${where}: quote not closed`);
  let names: string[];
  try {
    names = parse(record.text, { ...strict, ...format })[0] ?? [];
  } catch (error) {
    throw new SourceError(`${where}: ${atLine((error as Error).message, record.line)}`);
  }
  const duplicate = names.find((name, i) => names.indexOf(name) !== i);
  if (duplicate !== undefined) throw new SourceError(`${where}: duplicate column ${JSON.stringify(duplicate)}`);
  return names;
}

/**
 * Parses a batch in one call, skipping bad records; each record csv-parse returns is matched to its text.
 * The texts nothing matched are the bad ones: parsed again on their own, for an error that names their line.
 */
function* parseBatch(
  path: string,
  columns: string[],
  batch: CsvRecordText[],
  format: Format,
): Generator<CsvRecord | BadRow> {
  if (batch.length === 0) return;
  let parsed: { raw: string; record: CsvRecord }[] = [];
  try {
    const text = `${batch.map((r) => r.text).join("\n")}\n`;
    parsed = parse<{ raw: string; record: CsvRecord }>(text, {
      ...strict,
      ...format,
      columns,
      raw: true,
      skip_records_with_error: true,
      on_skip: () => undefined,
    });
  } catch {
    // an error skip_records_with_error does not cover: every record on its own, below
  }
  const matched: (CsvRecord | undefined)[] = [];
  let next = 0;
  for (const { raw, record } of parsed) {
    while (next < batch.length && `${batch[next]!.text}\n` !== raw) next += 1;
    // A record that matches no text: a bad quote made csv-parse read across records. Trust none of this parse.
    if (next === batch.length) return yield* batch.map((r) => parseAlone(path, columns, r, format));
    matched[next++] = record;
  }
  for (const [i, record] of batch.entries()) yield matched[i] ?? parseAlone(path, columns, record, format);
}

function parseAlone(path: string, columns: string[], record: CsvRecordText, format: Format): CsvRecord | BadRow {
  try {
    const [parsed] = parse<CsvRecord>(record.text, { ...strict, ...format, columns });
    return parsed ?? new BadRow(path, record.line, "not a record", record.text);
  } catch (error) {
    return new BadRow(path, record.line, atLine((error as Error).message, record.line), record.text);
  }
}

/** csv-parse counts lines from the start of what it was given: the record, here, not the file. */
const atLine = (message: string, firstLine: number) =>
  message.replace(/\bline (\d+)/g, (_, n: string) => `line ${firstLine + Number(n) - 1}`);
