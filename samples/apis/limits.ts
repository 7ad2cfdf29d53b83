import { TokenBucket } from "../../connectors/token-bucket.ts";
import { mulberry32 } from "../generate/random.ts";

/** Slack for timers and clocks before a request counts as ignoring Retry-After. */
const retryAfterSlackMs = 50;

/** Whether a request may go now, and if not, how long to wait and whether it came back too early. */
export type Admission = { ok: true } | { ok: false; retryAfterSeconds: number; early: boolean };

/**
 * A rate limit per caller (per token, per key), as the APIs enforce theirs: a token bucket each, and a
 * note of the Retry-After last sent, so that a request coming back before it is told so again.
 */
export class RateLimits {
  readonly #rate: number;
  readonly #callers = new Map<string, { bucket: TokenBucket; retryAfterUntil: number }>();

  /** `requestsPerSecond` per caller. */
  constructor(requestsPerSecond: number) {
    this.#rate = requestsPerSecond;
  }

  /** Admits one request of `caller`, or says how long it must wait. */
  admit(caller: string): Admission {
    let state = this.#callers.get(caller);
    if (!state) {
      state = { bucket: new TokenBucket(this.#rate), retryAfterUntil: 0 };
      this.#callers.set(caller, state);
    }
    const now = Date.now();
    if (now < state.retryAfterUntil - retryAfterSlackMs) {
      return { ok: false, retryAfterSeconds: Math.ceil((state.retryAfterUntil - now) / 1000), early: true };
    }
    const wait = state.bucket.tryTake();
    if (wait === 0) return { ok: true };
    const seconds = Math.ceil(wait / 1000);
    state.retryAfterUntil = now + seconds * 1000;
    return { ok: false, retryAfterSeconds: seconds, early: false };
  }
}

/** Draws, from a generator seeded by `seed`, whether a request fails: true for a `rate` fraction of them. */
export function injectedFailures(rate: number, seed: number): () => boolean {
  const random = mulberry32(seed);
  return () => rate > 0 && random() < rate;
}
