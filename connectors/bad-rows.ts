import type { DeadLetterInput } from "../engine/dead-letters.ts";

/**
 * Input a reader could not turn into a record: a malformed CSV line, a line that is not JSON, an
 * Excel cell outside the header. Readers never drop such input: by default they yield it in place,
 * between the good records, so the caller can dead-letter it and the counts still add up.
 *
 * @example
 * ```ts
 * for await (const row of readCsv(path)) {
 *   if (isBadRow(row)) await ctx.deadLetter(row.toDeadLetter("crm/interactions.csv"));
 *   else records.push(row);
 * }
 * ```
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
  /** The source key of the record, when the input still says it (an API's record with a field error). */
  readonly __sourceKey: string | undefined;
  /** The field the error is about, when known (`price`); the dead letter's issue path, else `line <n>`. */
  readonly __path: string | undefined;

  /**
   * `source` and `line` say where; `error` why (it is prefixed with `source:line:`); `raw` is the input as
   * read. `at` names the record's source key and the field at fault, when the reader knows them.
   */
  constructor(
    source: string,
    line: number,
    error: string,
    raw: string,
    at: {
      /** The record's source key, when the input still says it. */
      sourceKey?: string;
      /** The field at fault (`price`). */
      path?: string;
    } = {},
  ) {
    this.__source = source;
    this.__line = line;
    this.__error = `${source}:${line}: ${error}`;
    this.raw = raw;
    this.__sourceKey = at.sourceKey;
    this.__path = at.path;
  }

  /**
   * The shape `ctx.deadLetter` takes: reason `unparseable`, with the line and raw text as payload.
   * `source` defaults to the file the row came from; a staged asset passes its own `source`.
   */
  toDeadLetter(source: string = this.__source): DeadLetterInput & { payload: { line: number; raw: string } } {
    return {
      source,
      ...(this.__sourceKey === undefined ? {} : { sourceKey: this.__sourceKey }),
      reason: "unparseable",
      issues: [{ path: this.__path ?? `line ${this.__line}`, message: this.__error }],
      payload: { line: this.__line, raw: this.raw },
    };
  }
}

/**
 * Whether a reader's item is a {@link BadRow} rather than a record: what narrows a reader's
 * `T | BadRow` to `T`.
 *
 * @example
 * ```ts
 * for await (const entry of readJsonLines(path)) {
 *   if (isBadRow(entry)) yield entry; // a staged asset's extract: dead-lettered as `unparseable`
 *   else yield entry.value;
 * }
 * ```
 */
export const isBadRow = (row: unknown): row is BadRow => row instanceof BadRow;

/**
 * Thrown for input that cannot be read at all (no header, a missing sheet), or for a bad row under `onBadRow: "throw"`.
 * The message starts with the file (and line, where there is one).
 *
 * @example
 * ```ts
 * try {
 *   for await (const row of readCsv(path, { onBadRow: "throw" })) console.log(row);
 * } catch (error) {
 *   if (error instanceof SourceError) console.error(error.message); // "interactions.csv:17: Invalid Closing Quote: …"
 *   else throw error;
 * }
 * ```
 */
export class SourceError extends Error {
  /** Always `"SourceError"`. */
  override name = "SourceError";
}

/** Receives each bad row under `onBadRow: callback`; reading waits for the promise it returns, and a throw stops the reader. */
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
  /** `"yield"`, or left out. */
  onBadRow?: "yield";
}

/** Options of a reader that throws bad rows or hands them to a callback: it yields only good records. */
export interface HandleBadRows {
  /** `"throw"`: stop with a {@link SourceError}; a callback: receive each bad row and read on. */
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
