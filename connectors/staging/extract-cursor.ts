/**
 * A staged asset's incremental cursor: the value in each record that grows with every change to it in
 * the source — an `updated_at` (a `Date`), a sequence number, or text compared as text (ISO 8601 of one
 * zone sorts right).
 */
export type CursorValue = Date | number | string;

/** A cursor as `staging.extract_cursors` keeps it: its kind with its value, so a Date comes back a Date. */
export type StoredCursor = { date: string } | { number: number } | { text: string };

/** Where a staged asset's reads of its source got to, as staging recorded it. */
export interface ExtractCursorState {
  /** The greatest cursor of what was staged (null: nothing staged yet, or none of it had one). */
  cursor: CursorValue | null;
  /** When the source was last read whole (null: never). */
  fullReadAt: Date | null;
  /** The staged asset's code version that read it. */
  codeVersion: string;
  /** What the source was when it was read (`IncrementalSpec.identity`; null: not asked). */
  sourceIdentity: string | null;
}

export function storeCursor(value: CursorValue): StoredCursor {
  if (value instanceof Date) return { date: value.toISOString() };
  return typeof value === "number" ? { number: value } : { text: value };
}

export function loadCursor(stored: StoredCursor): CursorValue {
  if ("date" in stored) return new Date(stored.date);
  return "number" in stored ? stored.number : stored.text;
}

const kindOf = (value: CursorValue) => value instanceof Date ? "date" : typeof value;

/** Whether two cursors can be compared: the same kind, and neither an invalid date or NaN. */
export function comparable(a: CursorValue, b: CursorValue): boolean {
  const valid = (v: CursorValue) => v instanceof Date ? !Number.isNaN(v.getTime()) : !Number.isNaN(v);
  return kindOf(a) === kindOf(b) && valid(a) && valid(b);
}

/** Negative, zero or positive as `a` is before, at or after `b` (two cursors of one kind: see {@link comparable}). */
export function compareCursors(a: CursorValue, b: CursorValue): number {
  if (a instanceof Date && b instanceof Date) return a.getTime() - b.getTime();
  if (typeof a === "number" && typeof b === "number") return a - b;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `value` moved back by `lag` (milliseconds for a date, units for a number; text has no lag). */
export function minusLag(value: CursorValue, lag: number): CursorValue {
  if (lag === 0) return value;
  if (value instanceof Date) return new Date(value.getTime() - lag);
  if (typeof value === "number") return value - lag;
  throw new Error("a text cursor cannot have a lag: give the cursor as a Date or a number");
}

/** A cursor as a log line or run metadata shows it. */
export function cursorText(value: CursorValue | null): string | null {
  return value === null ? null : value instanceof Date ? value.toISOString() : String(value);
}
