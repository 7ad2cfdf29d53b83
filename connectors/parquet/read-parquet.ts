import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import {
  BadRow,
  type HandleBadRows,
  handleBadRows,
  type OnBadRow,
  SourceError,
  type YieldBadRows,
} from "../bad-rows.ts";
import type { DecoderInput, DecoderMessage } from "./decode-worker.ts";

/**
 * A Parquet row keyed by column name, as plain JSON-able values: strings, numbers (INT64 too, as a string
 * beyond ±2^53), booleans, `null`, `Date` for timestamps and dates, base64 strings for binary, objects and
 * arrays for structs, lists and maps.
 */
export type ParquetRecord = Record<string, unknown>;

/** What {@link readParquet} reads of a file. */
export interface ParquetOptions {
  /** Top-level columns to read (default: all); only their column chunks are read from the file. */
  columns?: string[];
  /**
   * Rows decoded at a time within a row group (default 10,000), through the offset index of its column
   * chunks, which hyparquet-writer, Spark and DuckDB write. A row group without one (pyarrow's default)
   * is decoded whole: memory is then bounded by the file's largest row group.
   */
  batchSize?: number;
}

/**
 * Streams a Parquet file's rows (hyparquet, pure JavaScript): the footer first, then one row group at a
 * time, `batchSize` rows at a time, read through positioned reads of one file handle, so memory is bounded
 * by a row group's decoded columns, never the file. Decoding runs in a worker thread with a small young
 * generation (its garbage is collected often instead of growing the process's heap), one batch ahead of the
 * rows being consumed; a reader stopped early stops it. Snappy, gzip, Brotli and (where the runtime's zlib has it) Zstandard pages
 * are read. A `.gz` file is not: Parquet compresses its pages itself, and its footer must be read first.
 *
 * A file that is incomplete is never a shorter success. A file whose footer cannot be read (truncated by
 * an interrupted copy or export, or not Parquet at all) yields one {@link BadRow} for the whole file (row
 * 1, the reason, and its size as `raw`): none of its rows can be located without the footer. A row group
 * that cannot be decoded yields a `BadRow` at its first row, naming it and its row range, and reading
 * goes on with the next. `onBadRow` as for `readCsv` (`"throw"`: a `SourceError` instead). A column that
 * is not in the file throws a `SourceError` naming the columns there are. Nothing is read until the first
 * iteration; a missing file rejects it then.
 *
 * @example
 * ```ts
 * for await (const row of readParquet("exports/orders-2025-12.parquet", { columns: ["order_id", "revenue_eur"] })) {
 *   if (isBadRow(row)) await ctx.deadLetter(row.toDeadLetter());
 *   else console.log(row.order_id, row.revenue_eur);
 * }
 * ```
 */
export function readParquet(
  path: string,
  options?: ParquetOptions & YieldBadRows,
): AsyncIterable<ParquetRecord | BadRow>;
/** With `onBadRow: "throw"` or a callback: only rows are yielded (see the first signature). */
export function readParquet(path: string, options: ParquetOptions & HandleBadRows): AsyncIterable<ParquetRecord>;
export function readParquet(
  path: string,
  options: ParquetOptions & { onBadRow?: OnBadRow } = {},
): AsyncIterable<ParquetRecord | BadRow> {
  return handleBadRows(readFile(path, options), options.onBadRow);
}

/**
 * The worker thread's young generation, in MiB. Decoding allocates fast: with Node's default (tens of MiB)
 * the heap grows well past what is live. Capping it costs the worker more frequent, short collections.
 */
const decoderYoungGenerationMiB = 8;

/** decode-worker.ts here, decode-worker.js in the published package: the same extension as this module. */
const decoderUrl = new URL(`./decode-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

async function* readFile(path: string, options: ParquetOptions): AsyncGenerator<ParquetRecord | BadRow> {
  const batchSize = options.batchSize ?? 10_000;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new SourceError(`${path}: batchSize must be a positive integer, got ${batchSize}`);
  }
  const parquet: DecoderInput = { path, columns: options.columns, batchSize };
  const worker = new Worker(decoderUrl, {
    workerData: { parquet },
    resourceLimits: { maxYoungGenerationSizeMb: decoderYoungGenerationMiB },
  });
  // Only a request in flight keeps the process alive: a reader dropped without being closed leaves nothing running.
  worker.unref();
  const ask = () => {
    const reply = nextMessage(path, worker);
    reply.catch(() => {}); // awaited below, unless the reader stops first
    return reply;
  };
  try {
    let reply = ask();
    for (;;) {
      const message = await reply;
      if ("end" in message) return;
      if ("error" in message) throw rebuilt(message.error);
      reply = ask(); // the next batch is decoded while this one is consumed
      if ("bad" in message) yield new BadRow(path, message.bad.line, message.bad.reason, message.bad.raw);
      else yield* message.rows;
    }
  } finally {
    await worker.terminate();
  }
}

/** Asks the worker for its next message; rejects if it fails (out of memory, say) or exits instead. */
function nextMessage(path: string, worker: Worker): Promise<DecoderMessage> {
  return new Promise((resolve, reject) => {
    const settle = () => {
      worker.off("message", onMessage).off("error", onError).off("exit", onExit);
      worker.unref();
    };
    const onMessage = (message: DecoderMessage) => (settle(), resolve(message));
    const onError = (error: Error) => (settle(), reject(new SourceError(`${path}: decoding failed: ${error.message}`)));
    const onExit = (code: number) => (settle(), reject(new SourceError(`${path}: the decoder exited (${code})`)));
    worker.on("message", onMessage).on("error", onError).on("exit", onExit);
    worker.ref();
    worker.postMessage(null);
  });
}

/** The worker's error as it was thrown there: a `SourceError`, or a system error with its `code` (ENOENT…). */
function rebuilt({ name, message, code }: { name: string; message: string; code?: string }): Error {
  if (name === "SourceError") return new SourceError(message);
  return Object.assign(new Error(message), { name, ...(code !== undefined && { code }) });
}
