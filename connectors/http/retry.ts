/** `Retry-After` as seconds or an HTTP date, in milliseconds; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null): number | undefined {
  if (header === null || header.trim() === "") return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/**
 * Exponential backoff with "equal jitter": between half and all of `initialMs · 2^(attempt-1)`, capped
 * at `maxMs`. The jitter keeps many clients that failed together from retrying together.
 */
export function backoffMs(attempt: number, initialMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

/** Statuses worth another try: a timeout, the rate limit, and the server's own failures. */
export const retryableStatus = (status: number): boolean => status === 408 || status === 429 || status >= 500;
