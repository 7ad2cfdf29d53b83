import { DateTime, IANAZone } from "luxon";

/**
 * A bad partitions definition (an unknown time zone, an invalid static key, an end before the start)
 * or a bad partition key or range; the message names the key, the definition and the expected format.
 *
 * @example
 * ```ts
 * try {
 *   days.assertKey(key);
 * } catch (error) {
 *   if (error instanceof PartitionError) console.error(error.message); // invalid partition key "2026-02-30" for daily:…: … not a calendar date
 * }
 * ```
 */
export class PartitionError extends Error {
  /** Always `"PartitionError"`. */
  override name = "PartitionError";
}

/** Why a key is malformed or names no window; callers add the key, the definition and the expected format. */
class BadKey extends Error {}

/** How an asset's data is split into independently materialised pieces, each named by a partition key. */
export interface PartitionsDefinition {
  /** `static` (from {@link staticPartitions}) or `time` (daily or hourly windows, a {@link TimeWindowPartitions}). */
  readonly kind: "static" | "time";
  /** Equal ids mean the same partitioning: partition p of a downstream asset reads partition p upstream. */
  readonly id: string;
  /** Every partition key that exists at `now` (time partitions: windows that have fully ended by now, from start; optional `end` caps them). */
  keys(now?: Date): string[];
  /** Keys from `from` to `to` inclusive, in order; errors name the bad key. */
  keysBetween(from: string, to: string): string[];
  /** True when `key` is a well-formed key of this definition (for time: also not before start, and before `end` when given). */
  has(key: string): boolean;
  /** Throws a clear PartitionError naming the key and the expected format when `has(key)` is false. */
  assertKey(key: string): void;
}

/** Consecutive time windows in an IANA time zone, keyed by their local start. */
export interface TimeWindowPartitions extends PartitionsDefinition {
  /** Always `time`. */
  readonly kind: "time";
  /** The IANA time zone the windows are laid out in (`UTC` unless given). */
  readonly timezone: string;
  /** The window [start, end) of a key, as instants. */
  window(key: string): { start: Date; end: Date };
  /** The key of the last window that has fully ended at `time` (what a schedule tick at `time` materialises), or undefined before the first; past `end`, the last key. */
  lastCompleteKey(time: Date): string | undefined;
  /** The key of the window containing `time`; throws when no partition contains it (before start, or at/after `end`). */
  keyContaining(time: Date): string;
}

const staticKey = /^[A-Za-z0-9_.-]+$/;

/**
 * A fixed, ordered set of partitions, e.g. one per region or per source system.
 * Keys are what `keysBetween` ranges over, in the order given here. Keys are letters, digits, `_`,
 * `.` and `-`; no keys, an invalid key or a duplicate throws a {@link PartitionError} listing them all.
 *
 * @example
 * ```ts
 * const regions = staticPartitions(["eu", "us", "apac"]);
 * regions.keysBetween("eu", "us"); // ["eu", "us"]
 * ```
 */
export function staticPartitions(keys: readonly string[]): PartitionsDefinition {
  const problems: string[] = [];
  if (keys.length === 0) problems.push("no keys given");
  const seen = new Set<string>();
  for (const key of keys) {
    if (typeof key !== "string" || !staticKey.test(key)) {
      problems.push(`key ${JSON.stringify(key)} is invalid: expected letters, digits, '_', '.' or '-'`);
    } else if (seen.has(key)) problems.push(`key '${key}' is declared twice`);
    seen.add(key);
  }
  if (problems.length > 0) throw new PartitionError(`invalid static partitions: ${problems.join("; ")}`);

  const ordered = [...keys];
  const position = new Map(ordered.map((key, index) => [key, index]));
  // The key pattern excludes ',', so the joined list names exactly one key set.
  const id = `static:${ordered.join(",")}`;
  const shown = ordered.length <= 20
    ? ordered.join(", ")
    : `${ordered.slice(0, 20).join(", ")}, … (${ordered.length - 20} more)`;
  const indexOf = (key: string): number => {
    const index = position.get(key);
    if (index === undefined) {
      throw new PartitionError(
        `invalid partition key '${key}' for ${id}: not a declared key; expected one of: ${shown}`,
      );
    }
    return index;
  };

  return {
    kind: "static",
    id,
    keys: () => [...ordered],
    keysBetween(from, to) {
      const first = indexOf(from);
      const last = indexOf(to);
      if (first > last) {
        throw new PartitionError(
          `invalid partition range for ${id}: '${from}' comes after '${to}' in the declared order`,
        );
      }
      return ordered.slice(first, last + 1);
    },
    has: (key) => position.has(key),
    assertKey(key) {
      indexOf(key);
    },
  };
}

/**
 * One partition per local calendar day, keyed `YYYY-MM-DD`. A day runs from local midnight to the next
 * local midnight, so DST days last 23 or 25 hours (where midnight itself is skipped, the day starts at
 * the first instant of that date). `end` (exclusive, also `YYYY-MM-DD`) caps the partitions. A malformed
 * `start` or `end`, an `end` not after `start`, or an unknown time zone throws a {@link PartitionError}.
 * Only days that have fully ended exist: `keys()` lists them up to now.
 *
 * @example
 * ```ts
 * const days = dailyPartitions({ start: "2026-01-01", timezone: "Europe/Berlin" });
 * days.window("2026-03-29"); // 2026-03-28T23:00Z – 2026-03-29T22:00Z (23 hours)
 * days.lastCompleteKey(new Date("2026-03-29T22:00:00Z")); // "2026-03-29"
 * // in an asset: `partitions: days`; `ctx.partitionKey` is then the day being materialised
 * ```
 */
export function dailyPartitions(options: {
  /** The first day, `YYYY-MM-DD`. */
  start: string;
  /** An IANA time zone name (default `UTC`); an unknown one throws a {@link PartitionError}. */
  timezone?: string;
  /** The day after the last partition, `YYYY-MM-DD` (exclusive); without it, partitions go on. */
  end?: string;
}): TimeWindowPartitions {
  const timezone = zoneNamed(options.timezone ?? "UTC");
  const offsets = offsetsIn(timezone);
  const dayStart = (local: number) => firstInstantAtOrAfter(offsets, local);
  const dateOf = (instant: number) => Math.floor((instant + offsets.at(instant)) / DAY) * DAY;
  const cadence: Cadence = {
    kind: "daily",
    format: `YYYY-MM-DD (a calendar date in ${timezone}), e.g. '2026-01-31'`,
    parse(key) {
      return dayStart(parseLocal(key, /^(\d{4})-(\d{2})-(\d{2})$/, "YYYY-MM-DD"));
    },
    keyOf: (start) => localDate(dateOf(start)),
    next: (start) => dayStart(dateOf(start) + DAY),
    floor(instant) {
      // Where clocks go back across midnight, the reading can show the previous date after this one began.
      const date = dateOf(instant);
      const start = dayStart(date);
      if (instant < start) return dayStart(date - DAY);
      const next = dayStart(date + DAY);
      return instant >= next ? next : start;
    },
  };
  return timeWindows(cadence, timezone, options, cadence.parse, cadence.format);
}

/**
 * One partition per local hour, keyed `YYYY-MM-DD-HH:mm` in local time (Dagster's format; minutes are
 * always `00`). `start` and `end` (exclusive) are a date (its local midnight) or an hour key.
 *
 * Daylight saving: an hour the clocks skip has no key (`2026-03-29-02:00` does not exist in
 * Europe/Berlin, so that day has 23 keys). When clocks go back, the first occurrence of the repeated
 * hour keeps the plain key and the second carries its UTC offset, so every key is unique and sorts
 * next to its twin: `2026-10-25-02:00` (02:00+02:00), then `2026-10-25-02:00+01:00`, then
 * `2026-10-25-03:00` — 25 keys that day. Bad options throw a {@link PartitionError}, as for
 * {@link dailyPartitions}.
 *
 * @example
 * ```ts
 * const hours = hourlyPartitions({ start: "2026-01-01", timezone: "Europe/Berlin" });
 * hours.keyContaining(new Date("2026-10-25T01:30:00Z")); // "2026-10-25-02:00+01:00"
 * ```
 */
export function hourlyPartitions(options: {
  /** The first hour: a date (`YYYY-MM-DD`, its local midnight) or an hour key (`YYYY-MM-DD-HH:00`). */
  start: string;
  /** An IANA time zone name (default `UTC`); an unknown one throws a {@link PartitionError}. */
  timezone?: string;
  /** Where partitions stop (exclusive), a date or an hour key; without it, partitions go on. */
  end?: string;
}): TimeWindowPartitions {
  const timezone = zoneNamed(options.timezone ?? "UTC");
  const offsets = offsetsIn(timezone);
  const hourKey = /^(\d{4})-(\d{2})-(\d{2})-(\d{2}):(\d{2})(?:([+-])(\d{2}):(\d{2}))?$/;
  const format =
    `YYYY-MM-DD-HH:00 (a local hour in ${timezone}), e.g. '2026-01-31-13:00'; the second occurrence of an hour repeated when clocks go back carries its UTC offset, e.g. '2026-10-25-02:00+01:00'`;

  // The first boundary (an instant whose local reading is a whole hour) strictly after `instant`. Offsets
  // change at most once between two consecutive boundaries; the checks below also handle half-hour shifts.
  const nextBoundary = (instant: number): number => {
    const before = offsets.at(instant);
    const candidate = instant + HOUR - mod(instant + before, HOUR);
    const after = offsets.at(candidate);
    if (after === before) return candidate;
    const past = mod(candidate + after, HOUR);
    if (past === 0) return candidate;
    const earlier = candidate - past;
    return earlier > instant && offsets.at(earlier) === after ? earlier : earlier + HOUR;
  };
  const floor = (instant: number): number => {
    // Windows are at most two hours long (a half-hour shift forward makes one 90 minutes).
    let start = nextBoundary(instant - 4 * HOUR);
    for (let next = nextBoundary(start); next <= instant; next = nextBoundary(start)) start = next;
    return start;
  };

  const cadence: Cadence = {
    kind: "hourly",
    format,
    parse(key) {
      const local = parseLocal(key, hourKey, "YYYY-MM-DD-HH:mm");
      const [, year, month, day, hour, minutes, sign, offsetHours, offsetMinutes] = hourKey.exec(key)!;
      if (minutes !== "00") throw new BadKey("hourly partitions start on the hour, so the minutes must be 00");
      const reading = `${year}-${month}-${day} ${hour}:00`;
      const occurrences = instantsAt(offsets, local);
      const [first, repeat] = occurrences;
      if (first === undefined) {
        const jump = firstInstantAtOrAfter(offsets, local);
        const [from, to] = [localTime(jump + offsets.at(jump - 1)), localTime(jump + offsets.at(jump))];
        throw new BadKey(`${reading} does not exist in ${timezone}: clocks skip from ${from} to ${to}`);
      }
      const plain = key.slice(0, 16);
      if (sign === undefined) return first;
      if (repeat === undefined) {
        throw new BadKey(`${reading} occurs only once in ${timezone}, so its key has no offset: '${plain}'`);
      }
      const offset = (sign === "-" ? -1 : 1) * (Number(offsetHours) * 60 + Number(offsetMinutes));
      if (offset === minutesOf(offsets.at(repeat))) return repeat;
      const twin = `${plain}${formatOffset(offsets.at(repeat))}`;
      if (offset === minutesOf(offsets.at(first))) {
        throw new BadKey(
          `the first ${reading} in ${timezone} (${
            formatOffset(offsets.at(first))
          }) is written without an offset: '${plain}'; only its repeat is '${twin}'`,
        );
      }
      throw new BadKey(
        `${reading} in ${timezone} is at ${formatOffset(offsets.at(first))} and then at ${
          formatOffset(offsets.at(repeat))
        }: '${plain}' or '${twin}'`,
      );
    },
    keyOf(start) {
      const offset = offsets.at(start);
      const local = start + offset;
      const key = `${localDate(local)}-${localTime(local)}`;
      // A repeat is a reading seen before under the larger offset in effect before the clocks went back.
      const earlier = offsets.at(local - DAY);
      return earlier > offset && offsets.at(local - earlier) === earlier ? `${key}${formatOffset(offset)}` : key;
    },
    next: nextBoundary,
    floor,
  };
  const parseStart = (text: string): number => {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return cadence.parse(text);
    const first = firstInstantAtOrAfter(offsets, parseLocal(text, /^(\d{4})-(\d{2})-(\d{2})$/, "YYYY-MM-DD"));
    const start = floor(first);
    return start === first ? start : nextBoundary(start);
  };
  return timeWindows(cadence, timezone, options, parseStart, `YYYY-MM-DD or ${format}`);
}

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** How one kind of time window is keyed and laid out; instants are epoch milliseconds. */
interface Cadence {
  kind: "daily" | "hourly";
  /** The key format, for error messages. */
  format: string;
  /** The start of the window `key` names; throws a BadKey for malformed or nonexistent keys. */
  parse(key: string): number;
  keyOf(start: number): string;
  /** The end of the window starting at `start`, which is the start of the next. */
  next(start: number): number;
  /** The start of the window containing `instant`. */
  floor(instant: number): number;
}

function timeWindows(
  cadence: Cadence,
  timezone: string,
  options: { start: string; end?: string },
  parseBound: (text: string) => number,
  boundFormat: string,
): TimeWindowPartitions {
  const bound = (text: unknown, name: string): number => {
    const problem = (reason: string) =>
      new PartitionError(
        `invalid ${cadence.kind} partitions: ${name} ${JSON.stringify(text)} ${reason}; expected ${boundFormat}`,
      );
    if (typeof text !== "string") throw problem("is not a string");
    try {
      return parseBound(text);
    } catch (error) {
      throw error instanceof BadKey ? problem(`is invalid: ${error.message}`) : error;
    }
  };
  const startAt = bound(options.start, "start");
  const endAt = options.end === undefined ? Infinity : bound(options.end, "end");
  if (endAt <= startAt) {
    throw new PartitionError(
      `invalid ${cadence.kind} partitions: end '${options.end}' must be after start '${options.start}'`,
    );
  }
  const id = `${cadence.kind}:${options.start}:${timezone}${options.end === undefined ? "" : `:${options.end}`}`;
  const span = `${options.start}${options.end === undefined ? "" : ` to ${options.end} (exclusive)`}`;

  const locate = (key: string): number => {
    const invalid = (reason: string) =>
      new PartitionError(`invalid partition key ${JSON.stringify(key)} for ${id}: ${reason}`);
    if (typeof key !== "string") throw invalid(`not a string; expected ${cadence.format}`);
    let start: number;
    try {
      start = cadence.parse(key);
    } catch (error) {
      throw error instanceof BadKey ? invalid(`${error.message}; expected ${cadence.format}`) : error;
    }
    if (start < startAt) {
      throw invalid(`before the first partition '${cadence.keyOf(startAt)}' (partitions run ${span})`);
    }
    if (start >= endAt) throw invalid(`not before the end '${options.end}' (partitions run ${span})`);
    return start;
  };
  const instant = (time: Date, name: string): number => {
    const ms = time instanceof Date ? time.getTime() : NaN;
    if (Number.isNaN(ms)) throw new PartitionError(`${name} for ${id} must be a valid Date, got ${String(time)}`);
    return ms;
  };
  const keysFrom = (first: number, stop: (start: number, end: number) => boolean): string[] => {
    const keys: string[] = [];
    for (let start = first; start < endAt;) {
      const end = cadence.next(start);
      if (stop(start, end)) break;
      keys.push(cadence.keyOf(start));
      start = end;
    }
    return keys;
  };

  return {
    kind: "time",
    id,
    timezone,
    keys(now = new Date()) {
      const limit = instant(now, "now");
      return keysFrom(startAt, (_start, end) => end > limit);
    },
    keysBetween(from, to) {
      const first = locate(from);
      const last = locate(to);
      if (first > last) throw new PartitionError(`invalid partition range for ${id}: '${from}' is after '${to}'`);
      return keysFrom(first, (start) => start > last);
    },
    has(key) {
      try {
        locate(key);
        return true;
      } catch (error) {
        if (error instanceof PartitionError) return false;
        throw error;
      }
    },
    assertKey(key) {
      locate(key);
    },
    window(key) {
      const start = locate(key);
      return { start: new Date(start), end: new Date(cadence.next(start)) };
    },
    lastCompleteKey(time) {
      const current = cadence.floor(Math.min(instant(time, "time"), endAt));
      return current <= startAt ? undefined : cadence.keyOf(cadence.floor(current - 1));
    },
    keyContaining(time) {
      const at = instant(time, "time");
      if (at < startAt || at >= endAt) {
        throw new PartitionError(`no partition of ${id} contains ${time.toISOString()}: partitions run ${span}`);
      }
      return cadence.keyOf(cadence.floor(at));
    },
  };
}

function zoneNamed(timezone: unknown): string {
  if (typeof timezone !== "string" || !IANAZone.isValidZone(timezone)) {
    throw new PartitionError(
      `unknown time zone ${
        JSON.stringify(timezone)
      }: expected an IANA zone name such as 'UTC', 'Europe/Berlin' or 'America/New_York'`,
    );
  }
  return timezone;
}

/** The local reading of a date (and hour) key as epoch milliseconds, as if the wall clock were UTC. */
function parseLocal(key: string, pattern: RegExp, form: string): number {
  const match = pattern.exec(key);
  if (!match) throw new BadKey(`not of the form ${form}`);
  const [year, month, day, hour = 0] = match.slice(1, 5).filter((part) => part !== undefined).map(Number);
  if (hour > 23) throw new BadKey(`hour ${match[4]} is not an hour of the day`);
  const reading = DateTime.utc(year!, month!, day!, hour);
  if (!reading.isValid) throw new BadKey(`${key.slice(0, 10)} is not a calendar date`);
  return reading.toMillis();
}

const pad = (n: number): string => String(n).padStart(2, "0");
let formattedDay = NaN;
let formattedDate = "";

/** `YYYY-MM-DD` of a local reading; consecutive keys mostly share a date, and Date formatting dominates enumeration. */
function localDate(local: number): string {
  const day = Math.floor(local / DAY);
  if (day !== formattedDay) [formattedDay, formattedDate] = [day, new Date(day * DAY).toISOString().slice(0, 10)];
  return formattedDate;
}

/** `HH:mm` of a local reading. */
const localTime = (local: number): string =>
  `${pad(Math.floor(mod(local, DAY) / HOUR))}:${pad(Math.floor(mod(local, HOUR) / MINUTE))}`;
const minutesOf = (offset: number): number => Math.round(offset / MINUTE);
const mod = (value: number, by: number): number => ((value % by) + by) % by;

function formatOffset(offset: number): string {
  const minutes = Math.abs(minutesOf(offset));
  return `${offset < 0 ? "-" : "+"}${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;
}

/** The instants whose local reading is `local`, earliest first: none in a gap, two when clocks go back. */
function instantsAt(offsets: ZoneOffsets, local: number): number[] {
  // No zone's offset exceeds a day, so the offsets a day either side bracket every candidate.
  const before = offsets.at(local - DAY);
  const after = offsets.at(local + DAY);
  const found: number[] = [];
  for (const offset of before === after ? [before] : [before, after]) {
    if (offsets.at(local - offset) === offset) found.push(local - offset);
  }
  return found.sort((a, b) => a - b);
}

/** The first instant whose local reading is `local` or, when the clocks skip it, the instant they jump past it. */
function firstInstantAtOrAfter(offsets: ZoneOffsets, local: number): number {
  const found = instantsAt(offsets, local);
  if (found.length > 0) return found[0]!;
  // In a gap the jump lies between the instants the reading would have had under either offset.
  let low = local - offsets.at(local + DAY);
  let high = local - offsets.at(local - DAY);
  const before = offsets.at(low);
  while (high - low > 1) {
    const middle = low + Math.floor((high - low) / 2);
    if (offsets.at(middle) === before) low = middle;
    else high = middle;
  }
  return high;
}

interface OffsetChange {
  at: number;
  offset: number;
}

/**
 * UTC offsets (ms) of a zone, memoised per UTC day: luxon asks Intl for each offset, which costs
 * microseconds, and years of hourly keys need hundreds of thousands of lookups. Each day's transitions
 * are found by bisection to the second (tzdata's resolution), so lookups stay exact; a pair of changes
 * that cancel out within one UTC day would go unseen, which no zone has.
 */
class ZoneOffsets {
  readonly #zone: IANAZone;
  readonly #midnights = new Map<number, number>();
  readonly #days = new Map<number, number | OffsetChange[]>();

  constructor(timezone: string) {
    this.#zone = IANAZone.create(timezone);
  }

  at(instant: number): number {
    const day = Math.floor(instant / DAY);
    let known = this.#days.get(day);
    if (known === undefined) this.#days.set(day, known = this.#scan(day));
    if (typeof known === "number") return known;
    let offset = known[0]!.offset;
    for (const change of known) if (instant >= change.at) offset = change.offset;
    return offset;
  }

  #raw(instant: number): number {
    return Math.round(this.#zone.offset(instant) * MINUTE);
  }

  #midnight(day: number): number {
    let offset = this.#midnights.get(day);
    if (offset === undefined) this.#midnights.set(day, offset = this.#raw(day * DAY));
    return offset;
  }

  /** The day's offset, or its changes (the first entry is the offset at the day's start). */
  #scan(day: number): number | OffsetChange[] {
    const first = this.#midnight(day);
    const last = this.#midnight(day + 1);
    if (first === last) return first;
    const changes: OffsetChange[] = [{ at: day * DAY, offset: first }];
    let low = day * DAY;
    let offset = first;
    // Each pass finds the next change; a handful bounds it should Intl ever answer inconsistently.
    for (let pass = 0; pass < 8 && offset !== last; pass++) {
      let high = (day + 1) * DAY;
      while (high - low > 1000) {
        const middle = low + Math.floor((high - low) / 2000) * 1000;
        if (this.#raw(middle) === offset) low = middle;
        else high = middle;
      }
      offset = this.#raw(high);
      changes.push({ at: high, offset });
      low = high;
    }
    return changes;
  }
}

const zoneOffsets = new Map<string, ZoneOffsets>();

function offsetsIn(timezone: string): ZoneOffsets {
  let offsets = zoneOffsets.get(timezone);
  if (offsets === undefined) zoneOffsets.set(timezone, offsets = new ZoneOffsets(timezone));
  return offsets;
}
