import { createReadStream } from "node:fs";
import { open, stat } from "node:fs/promises";

/**
 * Byte ranges of the non-blank lines of a JSON Lines file, and what `describe` took from each: a page is
 * a few reads, whatever the file's size, and the file is never held in memory.
 */
export interface LineIndex<K> {
  path: string;
  starts: number[];
  ends: number[];
  /** `describe(line)` for every line (empty without `describe`). */
  keys: K[];
}

/** Indexes `path`; `describe` is given each line's parsed JSON (or undefined when the line is not JSON). */
export async function indexLines<K = never>(path: string, describe?: (value: unknown) => K): Promise<LineIndex<K>> {
  const index: LineIndex<K> = { path, starts: [], ends: [], keys: [] };
  let position = 0;
  let lineStart = 0;
  let blank = true;
  let pending: Buffer[] = [];
  const endLine = (end: number, chunk: Buffer, chunkStart: number, from: number) => {
    if (!blank) {
      index.starts.push(lineStart);
      index.ends.push(end);
      if (describe) {
        const text = Buffer.concat([...pending, chunk.subarray(from, end - chunkStart)]).toString("utf8");
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch {
          value = undefined;
        }
        index.keys.push(describe(value));
      }
    }
    pending = [];
    lineStart = end + 1;
    blank = true;
  };
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    let from = 0;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (byte === 0x0a) {
        endLine(position + i, chunk, position, from);
        from = i + 1;
      } else if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d) blank = false;
    }
    if (describe && from < chunk.length) pending.push(chunk.subarray(from));
    position += chunk.length;
  }
  endLine(position, Buffer.alloc(0), position, 0);
  return index;
}

/** Lines `[from, to)` of the file, parsed. */
export async function readLines(index: LineIndex<unknown>, from: number, to: number): Promise<unknown[]> {
  if (from >= to) return [];
  const start = index.starts[from]!;
  const buffer = Buffer.alloc(index.ends[to - 1]! - start);
  const file = await open(index.path);
  try {
    await file.read(buffer, 0, buffer.length, start);
  } finally {
    await file.close();
  }
  return buffer.toString("utf8").split("\n").filter((line) => line.trim() !== "").map((line) => JSON.parse(line));
}

/** The lines at `positions` (in that order), parsed. */
export async function readLinesAt(index: LineIndex<unknown>, positions: readonly number[]): Promise<unknown[]> {
  const file = await open(index.path);
  try {
    const values: unknown[] = [];
    for (const p of positions) {
      const buffer = Buffer.alloc(index.ends[p]! - index.starts[p]!);
      await file.read(buffer, 0, buffer.length, index.starts[p]!);
      values.push(JSON.parse(buffer.toString("utf8")));
    }
    return values;
  } finally {
    await file.close();
  }
}

/**
 * A file's index, made again whenever the file changes (a new `ingest generate`): an index of the old file
 * would read the new one at stale offsets. `build` turns the lines' index into what the API needs.
 */
export function indexedFile<T>(path: string, build: (path: string) => Promise<T>): () => Promise<T> {
  let cached: { version: string; value: Promise<T> } | undefined;
  return async () => {
    const { mtimeMs, size } = await stat(path);
    const version = `${mtimeMs}:${size}`;
    if (cached?.version !== version) {
      const value = build(path);
      cached = { version, value };
      value.catch(() => (cached = undefined));
    }
    return cached.value;
  };
}
