import Tokenizer from "@streamparser/json/tokenizer.js";
import TokenParser from "@streamparser/json/tokenparser.js";
import { BadRow, type HandleBadRows, handleBadRows, type OnBadRow, type YieldBadRows } from "../bad-rows.ts";
import { fileChunks, maxRecordChars } from "../file-input.ts";

/** A JSON value as {@link readJson} yields it. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** What {@link readJson} yields from a document. */
export interface JsonOptions {
  /**
   * The values to yield, in @streamparser/json's subset of JSONPath: `$` (the root), `.name` and `.*`
   * (every element of an array or member of an object), e.g. `$.orders.*`, `$.*.items.*`; several paths
   * yield the values of each in document order. Default `$.*`: the elements of a top-level array.
   */
  path?: string | string[];
}

/**
 * Streams a JSON document, yielding each value at `path` as soon as it is complete (@streamparser/json):
 * the elements of a top-level array, or of an array nested anywhere (`$.orders.*`). A yielded value is
 * dropped from the parser's memory, so memory is bounded by the largest value, not the document. A file
 * whose name ends in `.gz` is gunzipped as it is read; a truncated or corrupt gzip stream throws a
 * `SourceError` naming the file.
 *
 * Malformed JSON cannot be read past (nothing says where the next value starts): the values before it are
 * yielded, then a {@link BadRow} whose `__line` is the line of the error and whose message gives the
 * byte offset and column and says that reading stopped there, and the reader ends. A document cut short
 * is malformed at its end, and so is a string longer than 16 MiB (memory stays bounded). `onBadRow` as for `readCsv` (`"throw"`: a `SourceError` instead). Nothing is
 * read until the first iteration.
 *
 * @example
 * ```ts
 * // {"exportedAt": "…", "orders": [{"id": "O-1", "lines": [{"sku": "A", "qty": 2}]}, …]}
 * for await (const order of readJson("exports/orders.json.gz", { path: "$.orders.*" })) {
 *   if (isBadRow(order)) await ctx.deadLetter(order.toDeadLetter());
 *   else console.log(order);
 * }
 * ```
 */
export function readJson(path: string, options?: JsonOptions & YieldBadRows): AsyncIterable<JsonValue | BadRow>;
/** With `onBadRow: "throw"` or a callback: only values are yielded (see the first signature). */
export function readJson(path: string, options: JsonOptions & HandleBadRows): AsyncIterable<JsonValue>;
export function readJson(
  path: string,
  options: JsonOptions & { onBadRow?: OnBadRow } = {},
): AsyncIterable<JsonValue | BadRow> {
  const paths = options.path === undefined ? ["$.*"] : typeof options.path === "string" ? [options.path] : options.path;
  return handleBadRows(parseFile(path, paths), options.onBadRow);
}

async function* parseFile(path: string, paths: string[]): AsyncGenerator<JsonValue | BadRow> {
  const tokenizer = new Tokenizer();
  const parser = new TokenParser({ paths, keepStack: false });
  const position = new Position();
  let values: JsonValue[] = [];
  let failure: Error | undefined;
  let tokenOffset = 0;
  /** The offset of the token the parser could not place, when it is the parser that failed. */
  let failedAt = 0;
  let tokens = 0;
  tokenizer.onToken = (token) => {
    if (failure) return;
    tokens += 1;
    tokenOffset = token.offset;
    parser.write(token);
  };
  parser.onValue = ({ value }) => void values.push(value as JsonValue);
  // Both report errors here instead of throwing; the parser then ignores further input.
  tokenizer.onError = parser.onError = (error) => {
    if (failure) return;
    failure = error;
    failedAt = tokenOffset;
  };
  tokenizer.onEnd = () => {
    if (!parser.isEnded) parser.end();
  };
  parser.onEnd = () => {
    if (!tokenizer.isEnded) tokenizer.end();
  };
  for await (let chunk of fileChunks(path)) {
    // a byte-order mark, as Windows tools write one, is not JSON
    if (position.total === 0 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) chunk = chunk.subarray(3);
    position.next(chunk);
    tokenizer.write(chunk);
    // a token the tokenizer is still reading (a string with no end in sight) is refused before it fills memory
    if (!failure && position.total - tokenOffset > maxRecordChars) {
      failure = new Error(`nothing ends within ${maxRecordChars} bytes of byte ${tokenOffset} (a string that long)`);
      failedAt = position.total;
    }
    yield* values;
    values = [];
    if (failure) return yield badJson(path, failure, position, failedAt);
  }
  // a complete document has ended the parser (and so the tokenizer) at its last token already
  if (!tokenizer.isEnded) tokenizer.end();
  yield* values;
  if (failure) yield badJson(path, failure, position, position.total);
  else if (tokens === 0) yield new BadRow(path, 1, "no JSON value: the file is empty", "");
}

function badJson(path: string, error: Error, position: Position, tokenOffset: number): BadRow {
  // The tokenizer names the byte it stopped at; the token parser, only the token it could not place.
  const at = Number(/absolute position "(\d+)"/.exec(error.message)?.[1] ?? tokenOffset);
  const { line, column, snippet } = position.at(at);
  return new BadRow(
    path,
    line,
    `malformed JSON at byte ${at} (line ${line}, column ${column}): ${error.message}; reading stopped there`,
    snippet,
  );
}

/** Line and column of a byte offset: lines counted as the chunks go by, the last two chunks kept. */
class Position {
  total = 0;
  private chunks: { start: number; line: number; lineStart: number; bytes: Buffer }[] = [];
  private line = 1;
  private lineStart = 0;

  next(bytes: Buffer): void {
    this.chunks = [...this.chunks.slice(-1), { start: this.total, line: this.line, lineStart: this.lineStart, bytes }];
    for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, i + 1)) {
      this.line += 1;
      this.lineStart = this.total + i + 1;
    }
    this.total += bytes.length;
  }

  /** 1-based line and column (in bytes) of `offset`, exact within the last two chunks, and the text around it. */
  at(offset: number): { line: number; column: number; snippet: string } {
    const chunk = this.chunks.findLast((c) => c.start <= offset) ?? this.chunks[0];
    if (!chunk) return { line: 1, column: 1, snippet: "" };
    let { line, lineStart } = chunk;
    const end = Math.min(offset - chunk.start, chunk.bytes.length);
    for (let i = chunk.bytes.indexOf(10); i !== -1 && i < end; i = chunk.bytes.indexOf(10, i + 1)) {
      line += 1;
      lineStart = chunk.start + i + 1;
    }
    const kept = Buffer.concat(this.chunks.map((c) => c.bytes));
    const at = offset - this.chunks[0]!.start;
    const snippet = kept.subarray(Math.max(at - 60, 0), Math.max(at + 60, 0)).toString("utf8");
    return { line, column: Math.max(offset - lineStart + 1, 1), snippet };
  }
}
