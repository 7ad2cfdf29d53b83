import { InvalidArgumentError } from "commander";

/**
 * Argument parsers for commander options: a value that does not fit is refused before the command
 * runs (`error: option '-n, --limit <n>' argument 'abc' is invalid. a whole number from 1 …`),
 * never passed on as NaN.
 */

/** A whole number within [min, max]. */
export const wholeNumber = (min: number, max = Number.MAX_SAFE_INTEGER) => (value: string): number => {
  const n = Number(value);
  if (!/^\s*-?\d+\s*$/.test(value) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `from ${min} to ${max}`;
    throw new InvalidArgumentError(`a whole number ${range}`);
  }
  return n;
};

/** A number above zero (seconds, say). */
export const positiveNumber = (value: string): number => {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("a number above 0");
  return n;
};

/** A number of zero or more. */
export const nonNegativeNumber = (value: string): number => {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError("a number of 0 or more");
  return n;
};

/** An ISO 8601 time (`2026-01-01T00:00:00Z`). */
export const isoTime = (value: string): Date => {
  const time = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(time.getTime())) {
    throw new InvalidArgumentError("an ISO 8601 time such as 2026-01-01T00:00:00Z");
  }
  return time;
};
