/**
 * Input a reader could not turn into a record: a malformed CSV line, a line that is not JSON, an
 * Excel cell outside the header. Readers never drop such input: by default they yield it in place,
 * between the good records, so the caller can dead-letter it and the counts still add up.
 *
 * @example
 * for await (const row of readCsv(path)) {
 *   if (isBadRow(row)) await ctx.deadLetter(row.toDeadLetter("crm/interactions.csv"));
 *   else records.push(row);
 * }
 */
export class BadRow {
  /** Why the input could not be read, naming the file and line. */
  readonly __error: string;
  /** The 1-based line (CSV, JSON Lines) or row (Excel) where the bad input starts. */
  readonly __line: number;
  /** The file it came from (and sheet, for Excel). */
  readonly __source: string;
  /** The input exactly as read, without its line break (for Excel, the row's cells as JSON). */
  readonly raw: string;

  constructor(source: string, line: number, error: string, raw: string) {
    this.__source = source;
    this.__line = line;
    this.__error = `${source}:${line}: ${error}`;
    this.raw = raw;
  }

  /** The shape `ctx.deadLetter` takes: reason `unparseable`, with the line and raw text as payload. */
  toDeadLetter(source: string = this.__source) {
    return {
      source,
      reason: "unparseable",
      issues: [{ path: `line ${this.__line}`, message: this.__error }],
      payload: { line: this.__line, raw: this.raw },
    };
  }
}

export const isBadRow = (row: unknown): row is BadRow => row instanceof BadRow;

/** Thrown for input that cannot be read at all (no header, a missing sheet), or for a bad row under `onBadRow: "throw"`. */
export class SourceError extends Error {
  override name = "SourceError";
}

export type BadRowCallback = (row: BadRow) => void | Promise<void>;

/**
 * What a reader does with input it cannot parse:
 * - `"yield"` (default): yield a {@link BadRow} in place, so the iterable is of `T | BadRow`;
 * - `"throw"`: stop with a {@link SourceError} naming the file and line;
 * - a callback: hand the bad row to it (e.g. to dead-letter it) and read on; the iterable is of `T`.
 */
export type OnBadRow = "yield" | "throw" | BadRowCallback;

/** Options of a reader that yields bad rows in place (the default). */
export interface YieldBadRows {
  onBadRow?: "yield";
}

/** Options of a reader that throws bad rows or hands them to a callback: it yields only good records. */
export interface HandleBadRows {
  onBadRow: "throw" | BadRowCallback;
}

/** Applies the caller's `onBadRow` choice to a reader's mixed stream of records and bad rows. */
export async function* handleBadRows<T>(
  rows: AsyncIterable<T | BadRow>,
  onBadRow: OnBadRow = "yield",
): AsyncGenerator<T | BadRow> {
  for await (const row of rows) {
    if (!(row instanceof BadRow) || onBadRow === "yield") yield row;
    else if (onBadRow === "throw") throw new SourceError(row.__error);
    else await onBadRow(row);
  }
}
