import { once } from "node:events";
import { createWriteStream, type WriteStream } from "node:fs";
import type { Writable } from "node:stream";
import { finished } from "node:stream/promises";
import { createGzip } from "node:zlib";

const CHUNK = 1 << 16;

/**
 * A text file written line by line through a write stream, in 64 KiB chunks, waiting for `drain` when the
 * stream's buffer is full (so a fast generator cannot outrun the disk and fill memory). A path ending in `.gz`
 * is gzip-compressed on the way (the same bytes for the same lines with one zlib build; other builds may
 * compress differently).
 */
export class LineFile {
  readonly path: string;
  readonly #stream: Writable;
  readonly #file: WriteStream;
  readonly #eol: string;
  #chunk = "";
  lines = 0;

  constructor(path: string, eol = "\n") {
    this.path = path;
    this.#eol = eol;
    this.#file = createWriteStream(path);
    if (path.endsWith(".gz")) {
      this.#stream = createGzip();
      this.#stream.pipe(this.#file);
    } else {
      this.#stream = this.#file;
    }
  }

  /** Appends a line; returns a promise (to await) only when a chunk was handed to the stream. */
  write(line: string): Promise<void> | undefined {
    this.#chunk += line + this.#eol;
    this.lines++;
    return this.#chunk.length >= CHUNK ? this.#flush() : undefined;
  }

  async #flush(): Promise<void> {
    const chunk = this.#chunk;
    this.#chunk = "";
    if (!this.#stream.write(chunk)) await once(this.#stream, "drain");
  }

  async close(): Promise<void> {
    if (this.#chunk) await this.#flush();
    this.#stream.end();
    await finished(this.#file);
  }
}
