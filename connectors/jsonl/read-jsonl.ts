import { BadRow, type HandleBadRows, handleBadRows, type OnBadRow, type YieldBadRows } from "../bad-rows.ts";
import { fileLines, maxRecordChars } from "../file-input.ts";

/** One object of a JSON Lines file, with where it came from. */
export interface JsonLine {
  /** The file (one of the paths given). */
  source: string;
  /** 1-based line number in that file. */
  line: number;
  /** The line's JSON object. */
  value: Record<string, unknown>;
}

/**
 * Streams JSON Lines files one after another, a line at a time (memory is bounded by the longest line, at
 * most 16 Mi characters: a longer one is a bad row, not read), yielding each object with its file and line
 * number. Blank lines are skipped. A file whose name
 * ends in `.gz` is gunzipped as it is read; a truncated or corrupt one throws a `SourceError` naming it.
 *
 * A line that is not JSON, or is JSON but not an object, is never dropped: by default it is yielded in
 * place as a {@link BadRow} (file, line, parse error, raw text); `onBadRow: "throw"` stops there, and a
 * callback receives it while reading goes on. Nothing is read until the first iteration; a missing file
 * rejects it then.
 *
 * @example A staged asset's extract: the objects, bad lines passed on for the asset to dead-letter
 * ```ts
 * async *extract() {
 *   for await (const entry of readJsonLines(join(sourcesDir, "chat", "export", "agents.jsonl"))) {
 *     yield isBadRow(entry) ? entry : entry.value;
 *   }
 * },
 * ```
 *
 * @example
 * ```ts
 * for await (const entry of readJsonLines(["chat/webhooks/events-0001.jsonl", "chat/webhooks/events-0002.jsonl"])) {
 *   if (isBadRow(entry)) await ctx.deadLetter(entry.toDeadLetter());
 *   else console.log(entry.source, entry.line, entry.value.type);
 * }
 * ```
 */
export function readJsonLines(
  paths: string | readonly string[],
  options?: YieldBadRows,
): AsyncIterable<JsonLine | BadRow>;
/** With `onBadRow: "throw"` or a callback: only objects are yielded (see the first signature). */
export function readJsonLines(paths: string | readonly string[], options: HandleBadRows): AsyncIterable<JsonLine>;
export function readJsonLines(
  paths: string | readonly string[],
  options: { onBadRow?: OnBadRow } = {},
): AsyncIterable<JsonLine | BadRow> {
  return handleBadRows(readFiles(typeof paths === "string" ? [paths] : paths), options.onBadRow);
}

async function* readFiles(paths: readonly string[]): AsyncGenerator<JsonLine | BadRow> {
  for (const path of paths) yield* readFile(path);
}

async function* readFile(source: string): AsyncGenerator<JsonLine | BadRow> {
  for await (const { number, text, tooLong } of fileLines(source)) {
    if (tooLong !== undefined) {
      yield new BadRow(
        source,
        number,
        `a line of ${tooLong} characters, longer than ${maxRecordChars}: not read`,
        text,
      );
      continue;
    }
    const raw = text.endsWith("\r") ? text.slice(0, -1) : text;
    if (raw.trim() === "") continue;
    yield parseLine(source, number, raw);
  }
}

function parseLine(source: string, line: number, raw: string): JsonLine | BadRow {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    return new BadRow(source, line, `not JSON: ${(error as Error).message}`, raw);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return new BadRow(
      source,
      line,
      `not a JSON object but ${value === null ? "null" : Array.isArray(value) ? "an array" : typeof value}`,
      raw,
    );
  }
  return { source, line, value: value as Record<string, unknown> };
}
