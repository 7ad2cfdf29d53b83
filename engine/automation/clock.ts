/**
 * The daemon's idea of the time, for schedule ticks. Tests and the soak benchmark run it fast or
 * from another start; file completeness is judged on file system time, which stays real.
 */
export interface Clock {
  /** What the clock reads now. */
  now(): Date;
  /** Real milliseconds until the clock reads `time` (0 when it already has). */
  msUntil(time: Date): number;
  /**
   * What the clock read at a real instant (a materialisation's end, recorded in real time): freshness
   * targets compare it with `now()`. Without it, real instants are taken as they are.
   */
  at?(real: Date): Date;
}

export const systemClock: Clock = {
  now: () => new Date(),
  msUntil: (time) => Math.max(0, time.getTime() - Date.now()),
  at: (real) => real,
};

/** What {@link compressedClock} makes. */
export interface CompressedClockOptions {
  /** What the clock reads at `origin`. */
  start: Date;
  /** Clock milliseconds per real millisecond (default 1). */
  rate?: number;
  /** The real instant (epoch ms) at which it reads `start`; default now. Daemons given the same origin share one clock. */
  origin?: number;
}

/**
 * A clock that reads `start` at `origin` and runs `rate` times faster than real time: for a daemon in
 * tests and demos (`startDaemon({ clock })`). A rate that is not a positive number, or an invalid
 * start, throws.
 *
 * @example A day per 24 real seconds, from midnight of 1 January in UTC
 * ```ts
 * const clock = compressedClock({ start: new Date("2026-01-01T00:00:00Z"), rate: 3600 });
 * ```
 */
export function compressedClock(options: CompressedClockOptions): Clock {
  const rate = options.rate ?? 1;
  if (!(rate > 0)) throw new Error(`the clock rate must be a positive number, got ${options.rate}`);
  if (Number.isNaN(options.start.getTime())) throw new Error("the clock start is not a valid date");
  const origin = options.origin ?? Date.now();
  const start = options.start.getTime();
  const now = () => start + (Date.now() - origin) * rate;
  return {
    now: () => new Date(now()),
    msUntil: (time) => Math.max(0, (time.getTime() - now()) / rate),
    at: (real) => new Date(start + (real.getTime() - origin) * rate),
  };
}
