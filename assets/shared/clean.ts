/**
 * Cleaning for source values: pure functions that each normalise one kind of value, and the zod
 * field schemas the models build from them.
 *
 * A cleaner returns `undefined` for an empty value (`""`, whitespace, `null`, `undefined`) and
 * throws {@link InvalidValue}, naming the value, for one it cannot read; the field schemas turn
 * that error into a zod issue on the field's path, so a dead-lettered row reads
 * `orderedAt: Invalid date "2026-13-45"`.
 */
import { compile } from "html-to-text";
import { isSupportedCountry, parsePhoneNumberWithError } from "libphonenumber-js/max";
import { DateTime, Info } from "luxon";
import { z } from "zod";

/** A source value that cannot be read as what its field holds; the message names the value. */
export class InvalidValue extends Error {
  override name = "InvalidValue";
  readonly value: unknown;
  constructor(what: string, value: unknown, why?: string) {
    super(`${what} ${show(value)}${why ? ` (${why})` : ""}`);
    this.value = value;
  }
}

function show(value: unknown): string {
  if (typeof value === "string" || (typeof value === "object" && value !== null && !(value instanceof Date))) {
    try {
      return JSON.stringify(value);
    } catch {
      // A cycle or a bigint: String() below still says what it is.
    }
  }
  return String(value);
}

/** The trimmed text of a string value, `undefined` if it is empty or missing; other types are refused. */
function trimmed(value: unknown, what: string): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== "string") throw new InvalidValue(what, value);
  return value.trim() === "" ? undefined : value.trim();
}

/** `""`, whitespace-only strings and `null` become `undefined`; any other value is returned as is. */
export function emptyToUndefined<T>(value: T): Exclude<T, null> | undefined {
  if (value === null || (typeof value === "string" && value.trim() === "")) return undefined;
  return value as Exclude<T, null>;
}

/** Runs of whitespace (newlines, tabs, no-break spaces) become one space; the ends are trimmed. */
export function collapseWhitespace(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

// Compiled once: html-to-text's `convert` compiles its options on every call, and at a few hundred
// thousand messages that kept gigabytes of memory outside the JavaScript heap.
const htmlToText = compile({
  wordwrap: false,
  selectors: [
    { selector: "a", options: { ignoreHref: true } },
    { selector: "img", format: "skip" },
    { selector: "hr", format: "skip" },
    ...["h1", "h2", "h3", "h4", "h5", "h6"].map((selector) => ({ selector, options: { uppercase: false } })),
    { selector: "table", format: "dataTable", options: { uppercaseHeaderCells: false } },
    { selector: "ul", options: { itemPrefix: " " } },
    { selector: "ol", format: "unorderedList", options: { itemPrefix: " " } },
  ],
});

/**
 * The words of an HTML fragment, for text bound for embedding: entities decoded, scripts, styles,
 * images and link targets dropped, no case changes or list markers, whitespace collapsed.
 *
 * @example stripHtml("<p>Fish &amp; <b>chips</b></p><script>x()</script>") // "Fish & chips"
 */
export function stripHtml(html: string): string {
  return collapseWhitespace(htmlToText(html));
}

/**
 * A number from a number or a numeric string. Surrounding whitespace is ignored, and a single
 * comma with no dot is read as a decimal comma (`"12,50"` → 12.5: the European sources write
 * decimals so, and dates day first); grouping separators (`"1,234.50"`, `"1 234"`), units and
 * non-finite values are refused rather than guessed at.
 *
 * @example toNumber(" 12.50 ") // 12.5
 */
export function toNumber(value: string | number | null | undefined): number | undefined {
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new InvalidValue("Invalid number", value);
    return value;
  }
  const text = trimmed(value, "Invalid number");
  if (text === undefined) return undefined;
  const decimal = /^[^.,]*,[^.,]*$/.test(text) ? text.replace(",", ".") : text;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(decimal)) throw new InvalidValue("Invalid number", value);
  return Number(decimal);
}

export interface DateOptions {
  /** IANA zone for values without an offset (`DD/MM/YYYY`, ISO without offset, Excel serials); default UTC. */
  timezone?: string;
  /** Whether `01/03/2026` is 1 March (default) rather than 3 January. */
  dayFirst?: boolean;
}

/** The largest Excel serial date: 9999-12-31. */
const maxExcelSerial = 2_958_465;
/** Smaller epoch milliseconds (before 1973-03-03) are more likely seconds or garbage than real. */
const minEpochMs = 1e11;
/** The last instant a Date holds: +275760-09-13. */
const maxEpochMs = 8.64e15;

const validZones = new Set<string>();

/**
 * Luxon checks a zone by building an `Intl.DateTimeFormat` each time; their ICU memory lives outside
 * the JavaScript heap, so a check per record grew a process by gigabytes. A zone is checked once.
 */
function isValidZone(zone: string): boolean {
  if (validZones.has(zone)) return true;
  if (!Info.isValidIANAZone(zone)) return false;
  validZones.add(zone);
  return true;
}

/**
 * An instant as a UTC ISO-8601 string (`2026-03-01T13:00:00.000Z`). Reads Date objects;
 * ISO 8601 with or without offset, also with a space for the `T` and an hour-only offset as
 * Postgres writes it (`2026-03-01 14:00:00+01`); `DD/MM/YYYY` or `DD.MM.YYYY` with an optional
 * `HH:mm[:ss]`; numbers and numeric strings up to 2958465 as Excel serial dates (fraction = time
 * of day) and from 1e11 as epoch milliseconds (numbers in between are refused as ambiguous).
 * Wall-clock values are read in `timezone`: a time skipped by a DST change moves forward, a
 * repeated one takes the later (standard-time) offset.
 *
 * @example toUtcIso("01/03/2026", { timezone: "Europe/Berlin" }) // "2026-02-28T23:00:00.000Z"
 */
export function toUtcIso(
  value: string | number | Date | null | undefined,
  options: DateOptions = {},
): string | undefined {
  const { timezone = "UTC", dayFirst = true } = options;
  if (!isValidZone(timezone)) throw new RangeError(`unknown time zone ${JSON.stringify(timezone)}`);
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new InvalidValue("Invalid date", value);
    return value.toISOString();
  }
  if (typeof value === "number") return fromNumber(value, timezone, value);
  const text = trimmed(value, "Invalid date");
  if (text === undefined) return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return fromNumber(Number(text), timezone, value);
  const numeric = /^(\d{1,2})[./](\d{1,2})[./](\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$/.exec(text);
  const parsed = numeric
    ? DateTime.fromObject(
      {
        year: Number(numeric[3]),
        month: Number(dayFirst ? numeric[2] : numeric[1]),
        day: Number(dayFirst ? numeric[1] : numeric[2]),
        hour: Number(numeric[4] ?? 0),
        minute: Number(numeric[5] ?? 0),
        second: Number(numeric[6] ?? 0),
      },
      { zone: timezone },
    )
    : DateTime.fromISO(text.replace(/^(\d{4}-\d{2}-\d{2}) (?=\d)/, "$1T"), { zone: timezone });
  return utcIso(parsed, value);
}

function fromNumber(n: number, timezone: string, value: unknown): string {
  if (Number.isFinite(n) && n >= minEpochMs) {
    // A Date past ±8.64e15 ms is invalid, and its toISOString throws a RangeError no model would catch.
    if (n > maxEpochMs) throw new InvalidValue("Invalid date", value, "after the last date JavaScript can hold");
    return new Date(n).toISOString();
  }
  if (!Number.isFinite(n) || n < 1 || n >= maxExcelSerial + 1 || Math.floor(n) === 60) {
    throw new InvalidValue("Invalid date", value, "neither an Excel serial date nor epoch milliseconds");
  }
  // Excel counts 1900-02-29, which did not exist: serials from 61 on are days since 1899-12-30.
  const epoch = Date.UTC(1899, 11, n < 60 ? 31 : 30);
  const wallClock = new Date(epoch + Math.round(n * 86_400_000)).toISOString().slice(0, 23);
  return utcIso(DateTime.fromISO(wallClock, { zone: timezone }), value);
}

function utcIso(parsed: DateTime, value: unknown): string {
  if (parsed.isValid) return parsed.toUTC().toISO()!;
  throw new InvalidValue("Invalid date", value);
}

/**
 * A phone number in E.164 (`+49301234567`). National numbers need `defaultCountry` (ISO 3166-1
 * alpha-2); a number libphonenumber-js (full metadata) does not hold valid is refused.
 *
 * @example toE164("030 1234567", "DE") // "+49301234567"
 */
export function toE164(phone: string | null | undefined, defaultCountry?: string): string | undefined {
  const text = trimmed(phone, "Invalid phone number");
  if (text === undefined) return undefined;
  const country = defaultCountry !== undefined && isSupportedCountry(defaultCountry) ? defaultCountry : undefined;
  try {
    const parsed = parsePhoneNumberWithError(text, country);
    if (parsed.isValid()) return parsed.number;
  } catch {
    // libphonenumber's ParseError says only why (TOO_SHORT, ...); ours names the value.
  }
  throw new InvalidValue("Invalid phone number", phone);
}

/**
 * The form emails are compared in: Unicode NFKC, trimmed, lower-cased (`"  Anna.Berg@Example.com "`
 * → `"anna.berg@example.com"`). Does not check the address; see {@link isEmail}.
 */
export function normalizeEmail(email: string | null | undefined): string | undefined {
  return trimmed(email, "Invalid email address")?.normalize("NFKC").trim().toLowerCase();
}

const emailSchema = z.email();

/** Whether `email` is an address (zod's pragmatic pattern: no quoted local parts or IP hosts). */
export function isEmail(email: string): boolean {
  return emailSchema.safeParse(email).success;
}

const currencies = new Set(Intl.supportedValuesOf("currency"));

/** Whether `code` is an ISO 4217 currency code the runtime knows (`EUR`; not `eur`, not `XYZ`). */
export function isCurrencyCode(code: string): boolean {
  return currencies.has(code);
}

/** Common names the ICU names don't cover, in the normalised form of {@link countryKey}. */
const countryAliases: Record<string, string> = {
  usa: "US",
  "united states of america": "US",
  america: "US",
  "great britain": "GB",
  britain: "GB",
  england: "GB",
  scotland: "GB",
  wales: "GB",
  holland: "NL",
  "the netherlands": "NL",
  "czech republic": "CZ",
  turkey: "TR",
  russia: "RU",
  "russian federation": "RU",
  korea: "KR",
  "republic of korea": "KR",
  "ivory coast": "CI",
  swaziland: "SZ",
  macedonia: "MK",
  burma: "MM",
};

/** The ISO 3166-1 alpha-2 codes, with English and German names, from the runtime's ICU data. */
const countries = buildCountries();

function buildCountries(): { codes: Set<string>; byName: Map<string, string> } {
  // ICU also names deprecated codes (DD, SU; they canonicalise to others) and codes that are
  // reserved or user-assigned, not countries; Kosovo's XK is kept, as libphonenumber does.
  const notCountries = new Set(["AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "ZZ"]);
  const codes = new Set<string>();
  const byName = new Map<string, string>();
  const shortNames = new Map<string, string | null>();
  const names = ["en", "de"].map((locale) => new Intl.DisplayNames([locale], { type: "region", fallback: "none" }));
  for (let a = 65; a <= 90; a++) {
    for (let b = 65; b <= 90; b++) {
      const code = String.fromCharCode(a, b);
      if (notCountries.has(code) || names[0]!.of(code) === undefined || canonicalRegion(code) !== code) continue;
      codes.add(code);
      for (const display of names) {
        const name = display.of(code)!;
        byName.set(countryKey(name), code);
        // "Myanmar (Burma)", "Hong Kong SAR China": also the short name, unless two share it (Congo).
        const short = countryKey(name.replace(/\s*(\(.*\)|SAR China|SAR|- .*)$/, ""));
        shortNames.set(short, shortNames.has(short) && shortNames.get(short) !== code ? null : code);
      }
    }
  }
  for (const [name, code] of shortNames) if (code !== null && !byName.has(name)) byName.set(name, code);
  for (const [name, code] of Object.entries(countryAliases)) byName.set(name, code);
  return { codes, byName };
}

function canonicalRegion(code: string): string | undefined {
  return new Intl.Locale(Intl.getCanonicalLocales(`und-${code}`)[0]!).region;
}

/** Lower-case, without diacritics, punctuation or a leading "the"; "&" and "saint" spelled as ICU does. */
function countryKey(name: string): string {
  const plain = name.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase();
  return collapseWhitespace(plain.replace(/&/g, " and ").replace(/['’.()\-,]/g, " ").replace(/\bsaint\b/g, "st"))
    .replace(/^the /, "");
}

/**
 * An ISO 3166-1 alpha-2 code, upper case, from a code in any case (`de`; a deprecated one like
 * `UK` becomes `GB`) or an English or German country name (`Germany`, `Deutschland`,
 * `Côte d'Ivoire`, `St. Lucia`); anything else is refused.
 *
 * @example countryCode("germany") // "DE"
 */
export function countryCode(value: string | null | undefined): string | undefined {
  const text = trimmed(value, "Unknown country");
  if (text === undefined) return undefined;
  if (/^[a-z]{2}$/i.test(text)) {
    const region = canonicalRegion(text.toUpperCase());
    if (region !== undefined && countries.codes.has(region)) return region;
  } else {
    const code = countries.byName.get(countryKey(text));
    if (code !== undefined) return code;
  }
  throw new InvalidValue("Unknown country", value);
}

/**
 * Keeps one record per source key: the one with the latest `updatedAt` (an ISO string, epoch ms
 * or Date; missing counts as oldest); of equally recent ones, the later in input order. `kept`
 * and `duplicates` (the dropped records, counted as deduplicated) keep the input order.
 *
 * @example
 * const { kept, duplicates } = latestBySourceKey(customers, customerKey, (c) => c.updatedAt);
 */
export function latestBySourceKey<T>(
  records: Iterable<T>,
  key: (record: T) => string,
  updatedAt: (record: T) => string | number | Date | null | undefined,
): { kept: T[]; duplicates: T[] } {
  const all = [...records];
  const latest = new Map<string, { record: T; at: number }>();
  for (const record of all) {
    const at = instant(updatedAt(record));
    const current = latest.get(key(record));
    if (current === undefined || at >= current.at) latest.set(key(record), { record, at });
  }
  const winners = new Set([...latest.values()].map((l) => l.record));
  return { kept: all.filter((r) => winners.has(r)), duplicates: all.filter((r) => !winners.has(r)) };
}

function instant(value: string | number | Date | null | undefined): number {
  if (value === null || value === undefined) return Number.NEGATIVE_INFINITY;
  const ms = typeof value === "number" ? value : typeof value === "string" ? Date.parse(value) : value.getTime();
  if (Number.isNaN(ms)) throw new InvalidValue("Invalid updatedAt", value);
  return ms;
}

// ---------------------------------------------------------------------------------------------
// Zod: source field names, and field schemas built from the cleaners.

/** Where each field of a model is found in a source record: source names, tried in order. */
export type SourceNames<Shape> = { readonly [K in keyof Shape]?: readonly string[] };

/**
 * A model that reads source records: each field of `schema` takes the first of its source names
 * present in the record (a dotted name reads a nested field: `requester.email`), else the field's
 * own name, so a model's output parses again. Issue paths are the model's field names.
 *
 * @example
 * const Category = fromSource(z.object({ categoryId: field.id, name: field.text }), { categoryId: ["category_id"] });
 * Category.parse({ category_id: "C-1", name: "Audio" }) // { categoryId: "C-1", name: "Audio" }
 */
export function fromSource<Shape extends z.ZodRawShape>(schema: z.ZodObject<Shape>, names: SourceNames<Shape>) {
  const fields = Object.keys(schema.shape) as (keyof Shape & string)[];
  return z.preprocess((raw) => {
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return raw;
    // Every field is set, if only to undefined: zod 4 reports an absent key as "nonoptional".
    return Object.fromEntries(
      fields.map((f) => [f, [...(names[f] ?? []), f].map((n) => read(raw, n)).find((v) => v !== undefined)]),
    );
  }, schema);
}

function read(record: object, name: string): unknown {
  if (name in record) return (record as Record<string, unknown>)[name];
  let value: unknown = record;
  for (const part of name.split(".")) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/**
 * Runs a cleaner inside a zod transform: its {@link InvalidValue} becomes an issue on `path`
 * (relative to the value being transformed; default: that value), other errors propagate.
 *
 * @example
 * .transform((c, ctx) => ({ ...c, phone: cleanOrIssue(ctx, c.phone, () => toE164(c.phone, c.country), ["phone"]) }))
 */
export function cleanOrIssue<T>(ctx: z.RefinementCtx, input: unknown, clean: () => T, path?: PropertyKey[]): T {
  try {
    return clean();
  } catch (error) {
    if (!(error instanceof InvalidValue)) throw error;
    ctx.issues.push({ code: "custom", message: error.message, input, ...(path && { path }) });
    return z.NEVER;
  }
}

// Each cleaner checks its input's runtime type, so it is handed the raw value (`as never`).
type Cleaner<T> = (value: never) => T | undefined;

/** A field cleaned by `clean`; empty is an issue, "Required". */
export function required<T>(clean: Cleaner<T>): z.ZodType<T, unknown> {
  return z.unknown().transform((value, ctx) => {
    const cleaned = cleanOrIssue(ctx, value, () => clean(value as never));
    if (cleaned === undefined) ctx.issues.push({ code: "custom", message: "Required", input: value });
    return cleaned as T;
  });
}

/** A field cleaned by `clean`; empty becomes `null`. */
export function optional<T>(clean: Cleaner<T>): z.ZodType<T | null, unknown> {
  return z.unknown().transform((value, ctx) => cleanOrIssue(ctx, value, () => clean(value as never)) ?? null);
}

function text(value: string | number | null | undefined): string | undefined {
  return typeof value === "number" ? String(value) : trimmed(value, "Expected text, got");
}

const currency = (value: string | null | undefined) => {
  const code = text(value)?.toUpperCase();
  if (code !== undefined && !isCurrencyCode(code)) throw new InvalidValue("Unknown ISO 4217 currency code", value);
  return code;
};

const email = z.email({ error: (issue) => `Invalid email address ${JSON.stringify(issue.input)}` });

/** The field schemas models are made of; optional ones output `null` when empty. */
export const field = {
  /** A source key or reference: a non-empty string, numbers as strings. */
  id: required(text),
  optionalId: optional(text),
  /** Trimmed text; empty is missing. */
  text: required(text),
  optionalText: optional(text),
  /** Trimmed, lower-cased text for enumerations: `oneOf(["call", "email"])`. */
  oneOf: <const V extends readonly [string, ...string[]]>(values: V) =>
    required((v: string | number | null | undefined) => text(v)?.toLowerCase()).pipe(
      z.enum(values, {
        error: (i) => `Invalid option ${JSON.stringify(i.input)}: expected one of ${values.join(", ")}`,
      }),
    ),
  /** A normalised, valid email address. */
  email: required(normalizeEmail).pipe(email),
  /** A UTC ISO-8601 instant (see {@link toUtcIso}; UTC for wall-clock values, day first). */
  timestamp: required(toUtcIso),
  optionalTimestamp: optional(toUtcIso),
  /** A number (see {@link toNumber}), then checked by `check`: `number(z.number().int())`. */
  number: (check: z.ZodType<number, number> = z.number()) => required(toNumber).pipe(check),
  /** A number, `null` when empty. */
  optionalNumber: optional(toNumber),
  /** An amount of money or a price: a number ≥ 0. */
  amount: required(toNumber).pipe(z.number().nonnegative("Must not be negative")),
  /** An ISO 4217 currency code, upper case. */
  currency: required(currency),
  /** An ISO 3166-1 alpha-2 country code (see {@link countryCode}). */
  country: optional(countryCode),
  /** A phone number in E.164 (see {@link toE164}), international format unless the model knows a country. */
  phone: optional(toE164),
};
