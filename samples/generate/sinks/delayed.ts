/**
 * Lines held back until a later record has been written: duplicates appear a few records after their
 * original, as they do when a source is paged while it changes. Holds at most a few lines at a time.
 */
export class DelayedLines {
  readonly #pending: { at: number; line: string }[] = [];

  hold(atIndex: number, line: string): void {
    this.#pending.push({ at: atIndex, line });
  }

  /** The lines due once record `index` is written, in the order they were held. */
  due(index: number): string[] {
    const ready: string[] = [];
    for (let i = 0; i < this.#pending.length;) {
      const item = this.#pending[i] as { at: number; line: string };
      if (item.at <= index) {
        ready.push(item.line);
        this.#pending.splice(i, 1);
      } else i++;
    }
    return ready;
  }

  /** Whatever is still held (the end of the source came first). */
  rest(): string[] {
    return this.#pending.splice(0).map((item) => item.line);
  }
}
