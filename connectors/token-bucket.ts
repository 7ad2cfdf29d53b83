/**
 * A token bucket: `ratePerSecond` tokens a second, at most `capacity` saved up for a burst. The CRM
 * client waits on one before every request; the sample CRM API answers 429 from one per access token.
 */
export class TokenBucket {
  readonly #rate: number;
  readonly #capacity: number;
  readonly #now: () => number;
  #tokens: number;
  #updatedAt: number;
  #pausedUntil = 0;
  #queue: Promise<void> = Promise.resolve();

  constructor(ratePerSecond: number, capacity = ratePerSecond, now: () => number = () => performance.now()) {
    if (!(ratePerSecond > 0) || !(capacity >= 1)) {
      throw new RangeError(
        `a token bucket needs a positive rate and a capacity of at least 1, got ${ratePerSecond}/s and ${capacity}`,
      );
    }
    this.#rate = ratePerSecond;
    this.#capacity = capacity;
    this.#now = now;
    this.#tokens = capacity;
    this.#updatedAt = now();
  }

  /** Takes a token if one is there and returns 0; otherwise returns the milliseconds until one will be. */
  tryTake(): number {
    const now = this.#now();
    if (now < this.#pausedUntil) return this.#pausedUntil - now;
    this.#tokens = Math.min(this.#capacity, this.#tokens + ((now - this.#updatedAt) * this.#rate) / 1000);
    this.#updatedAt = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.#tokens) * 1000) / this.#rate);
  }

  /** Waits for a token; callers are served in the order they asked. */
  take(): Promise<void> {
    const turn = this.#queue.then(async () => {
      for (let wait = this.tryTake(); wait > 0; wait = this.tryTake()) await sleep(wait);
    });
    this.#queue = turn;
    return turn;
  }

  /** Hands out nothing until `ms` from now (a server's `Retry-After`). */
  pause(ms: number): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, this.#now() + ms);
  }
}

export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", abort);
      resolve();
    }, ms);
    const abort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", abort, { once: true });
  });
