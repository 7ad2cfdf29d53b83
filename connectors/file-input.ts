import { createHash } from "node:crypto";
import { createReadStream, existsSync, readdirSync } from "node:fs";
import { stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { pipeline, type Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { SourceError } from "./bad-rows.ts";

/** Whether a file reader decompresses `path` as it reads it: its name ends in `.gz`. */
export const isGzip = (path: string): boolean => path.toLowerCase().endsWith(".gz");

/**
 * A file's content as it streams, in chunks of about 64 KiB, gunzipped on the fly when the name ends in
 * `.gz`; text decoded as UTF-8 when `encoding` is given (a character split between chunks stays whole).
 * A gzip stream that ends early or is corrupt throws a {@link SourceError} naming the file: a truncated
 * download never reads as a shorter file. Every file reader reads through it.
 */
export function fileChunks(path: string, encoding: "utf8"): AsyncIterable<string>;
export function fileChunks(path: string): AsyncIterable<Buffer>;
export async function* fileChunks(path: string, encoding?: "utf8"): AsyncIterable<string | Buffer> {
  const file = createReadStream(path, { highWaterMark: 64 * 1024 });
  // pipeline: a read error of the file reaches the gunzip stream we iterate, and either end destroys both
  const stream: Readable = isGzip(path) ? pipeline(file, createGunzip(), () => {}) : file;
  if (encoding) stream.setEncoding(encoding);
  try {
    for await (const chunk of stream) yield chunk as string | Buffer;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code === "string" && code.startsWith("Z_")) {
      throw new SourceError(`${path}: not a complete gzip file (truncated or corrupt): ${(error as Error).message}`, {
        cause: error,
      });
    }
    throw error;
  } finally {
    stream.destroy();
    file.destroy();
  }
}

/** One line of a file: its 1-based number and its text, without the `\n` (a CRLF line keeps its `\r`). */
export interface Line {
  number: number;
  text: string;
  /**
   * Set when the line is longer than the reader's limit: its length, in characters. `text` is then only its
   * first {@link longLinePreview} characters; the rest was skipped as it streamed, never held.
   */
  tooLong?: number;
}

/** What is kept of a line longer than the limit: enough to find it, and to see what it is. */
export const longLinePreview = 200;

/**
 * The longest record the JSON Lines, JSON and XML readers hold, in characters (16 Mi, as MongoDB bounds a
 * document): one longer (a line, a string, an element's text) is a bad row, so a line with no end in sight
 * grows the process by a bounded few hundred MB rather than by ten times its length.
 */
export const maxRecordChars = 16 * 1024 * 1024;

/**
 * A text file's lines as it streams ({@link fileChunks}: `.gz` included), a byte-order mark dropped from the
 * first. A line longer than `maxLineSize` characters comes with `tooLong` and only its start, so one missing
 * line break cannot fill memory, and the lines after it are read as usual.
 */
export async function* fileLines(path: string, maxLineSize = maxRecordChars): AsyncGenerator<Line> {
  let number = 0;
  // The line being read, in pieces: joined once, when it ends (joining at every chunk made a long line quadratic).
  let pieces: string[] = [];
  let length = 0;
  const line = (): Line => {
    number += 1;
    const joined = pieces.join("");
    const text = number === 1 ? joined.replace(/^\uFEFF/, "") : joined;
    const tooLong = length > maxLineSize ? length : undefined;
    pieces = [];
    length = 0;
    return tooLong === undefined ? { number, text } : { number, text, tooLong };
  };
  const add = (piece: string) => {
    if (length <= maxLineSize) {
      pieces.push(piece);
      // past the limit, only the start is kept
      if (length + piece.length > maxLineSize) pieces = [pieces.join("").slice(0, longLinePreview)];
    }
    length += piece.length;
  };
  // leaving the loop early (the consumer stopped) closes the file: for-await returns the iterator
  for await (const chunk of fileChunks(path, "utf8")) {
    let start = 0;
    for (let end = chunk.indexOf("\n"); end !== -1; end = chunk.indexOf("\n", start)) {
      add(chunk.slice(start, end));
      yield line();
      start = end + 1;
    }
    if (start < chunk.length) add(chunk.slice(start));
  }
  if (length > 0) yield line();
}

/**
 * The files of a landing folder whose names match `pattern`, as full paths in name order (the order exports
 * numbered or dated in their names were written in); none when the folder does not exist yet.
 *
 * @example
 * ```ts
 * async *extract() {
 *   for (const file of filesIn(join(sourcesDir, "analytics"), /^orders-.*\.parquet$/)) yield* readParquet(file);
 * },
 * ```
 */
export function filesIn(dir: string, pattern: RegExp): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((name) => pattern.test(name)).sort().map((name) => join(dir, name));
}

/** Files as {@link observeFiles} sees them (a type, not an interface: `observe` returns it as a record). */
export type FilesObservation = {
  /** How many files there are. */
  files: number;
  /** Their sizes, added up. */
  bytes: number;
  /** The latest modification time among them, ISO 8601 (null when there are none). */
  modified: string | null;
  /** A digest of every file's name, size and modification time: it moves when any one of them does. */
  digest: string;
};

/**
 * A cheap version of file sources for an observable staged asset (its `observe`): how many files, their
 * bytes, the latest modification time and a digest of each file's name, size and modification time, read
 * with one `stat` a file and nothing of their content. The source is stale as soon as a file lands, goes, or
 * is rewritten. A file that is gone by the time it is looked at is left out.
 *
 * @example
 * ```ts
 * export const stagedTrackingEvents = defineStagedAsset<TrackingEvent>({
 *   // …key, table, model, extract…
 *   observe: () => observeFiles(filesIn(join(sourcesDir, "shipping", "tracking"), /\.xml(\.gz)?$/)),
 * });
 * ```
 */
export async function observeFiles(paths: readonly string[]): Promise<FilesObservation> {
  const digest = createHash("sha256");
  let files = 0;
  let bytes = 0;
  let modified = -Infinity;
  for (const path of paths) {
    const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return undefined;
      throw error;
    });
    if (!info) continue;
    files += 1;
    bytes += info.size;
    modified = Math.max(modified, info.mtimeMs);
    digest.update(`${basename(path)}\t${info.size}\t${info.mtimeMs}\n`);
  }
  return {
    files,
    bytes,
    modified: files === 0 ? null : new Date(modified).toISOString(),
    digest: digest.digest("hex").slice(0, 16),
  };
}
