import { pick, type Random, weighted } from "./random.ts";

/** Every timestamp is this instant minus (or, for the newest webhooks, plus) a span: nothing reads the clock. */
export const EPOCH = Date.UTC(2026, 0, 1);
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
/** The chat export was taken a day before the epoch; messages after it arrive by webhook. */
export const EXPORT_CUTOFF = EPOCH - DAY;

const pad2 = (n: number) => String(n).padStart(2, "0");

/** `2025-03-01T13:00:00Z`: whole seconds. */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

/** `2025-03-01T13:00:00.000Z`, as HubSpot writes `createdAt`/`updatedAt`. */
export function isoMillis(ms: number): string {
  return new Date(Math.floor(ms)).toISOString();
}

function lastSundayUtc(year: number, month: number): number {
  const last = new Date(Date.UTC(year, month + 1, 0));
  return Date.UTC(year, month, last.getUTCDate() - last.getUTCDay());
}

/** Europe/Berlin's offset: +2 from the last Sunday of March to the last Sunday of October (01:00 UTC), else +1. */
function berlinOffsetHours(ms: number): number {
  const year = new Date(ms).getUTCFullYear();
  const summerStart = lastSundayUtc(year, 2) + HOUR;
  const summerEnd = lastSundayUtc(year, 9) + HOUR;
  return ms >= summerStart && ms < summerEnd ? 2 : 1;
}

function berlinParts(ms: number) {
  const offset = berlinOffsetHours(ms);
  const local = new Date(Math.floor(ms / 1000) * 1000 + offset * HOUR);
  return { local, offset };
}

/** `2026-03-01 14:00:00+01`: how psql prints a timestamptz in Europe/Berlin. */
export function postgresText(ms: number): string {
  const { local, offset } = berlinParts(ms);
  const date = `${local.getUTCFullYear()}-${pad2(local.getUTCMonth() + 1)}-${pad2(local.getUTCDate())}`;
  const time = `${pad2(local.getUTCHours())}:${pad2(local.getUTCMinutes())}:${pad2(local.getUTCSeconds())}`;
  return `${date} ${time}+${pad2(offset)}`;
}

/** `01/03/2026`: day first, the calendar date in Europe/Berlin (JavaScript's `Date` would read it month first). */
export function dayMonthYear(ms: number): string {
  const { local } = berlinParts(ms);
  return `${pad2(local.getUTCDate())}/${pad2(local.getUTCMonth() + 1)}/${local.getUTCFullYear()}`;
}

/** A valid date as a messy shop column holds it: ISO 8601 (80 %), psql style (12 %) or day-first date only (8 %). */
export function messyDate(random: Random, ms: number): string {
  const style = weighted(random, [["iso", 80], ["psql", 12], ["dmy", 8]] as const);
  return style === "iso" ? isoSeconds(ms) : style === "psql" ? postgresText(ms) : dayMonthYear(ms);
}

/** Values no date parser should accept (each is `Invalid Date` to `new Date()` as well). */
export const unparseableDates = [
  "31/31/2025",
  "2025-02-30 25:61:00",
  "yesterday",
  "0000-00-00 00:00:00",
  "n/a",
  "13/13/13",
  "Q3 2025",
  "last tuesday",
] as const;

export function unparseableDate(random: Random): string {
  return pick(random, unparseableDates);
}
