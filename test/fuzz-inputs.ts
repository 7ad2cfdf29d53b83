import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import type { z } from "zod";
import { type BadRow, isBadRow } from "../connectors/bad-rows.ts";
import { deadLetterPayload, maxRecordDepth, nestedDeeperThan, unstorableKey } from "../connectors/staging/index.ts";
import { canonicalJson } from "../engine/canonical-json.ts";

/**
 * Hostile input for the fuzz tests (`test/integration/fuzz-*.test.ts`), as fast-check arbitraries: what the
 * issue lists (Cypher and SQL look-alikes, unicode emails, huge numbers, dates out of range, NUL bytes, lone
 * surrogates, 1 MB texts, binary garbage, invalid UTF-8, deep nesting), and the staged asset's outcome of a
 * reader's items computed in-process, so that thousands of cases cost no database round trip.
 */

/** Every fuzz property runs from this seed: a failure replays exactly. */
export const fuzzSeed = 20_261_117;

/** fast-check's parameters for `runs` cases, each failed when it takes longer than `timeoutMs` (a hang). */
export const fuzzRuns = (runs: number, timeoutMs = 15_000) => ({ seed: fuzzSeed, numRuns: runs, timeout: timeoutMs });

/** Strings that would do harm if they reached Cypher or SQL as text rather than as parameters. */
export const injections = [
  "') DETACH DELETE n //",
  "'; drop table x; --",
  "`) MATCH (n) DETACH DELETE n //",
  '" OR 1=1 --',
  "Robert'); DROP TABLE students;--",
  "1; DELETE FROM ingest.runs",
  "}) CALL dbms.killQueries([]) //",
  "$where: '1 == 1'",
  "${process.exit(1)}",
  "<script>alert(1)</script>",
  "\\u0000 \\ud800 \\",
] as const;

/** Text that readers, models and stores have tripped on. */
export const oddTexts = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\ud800",
  "x\udfffy",
  "\uFEFFbom",
  "\u202Eevil",
  "👨‍👩‍👧‍👦",
  "Zalgo̸͈̤̱",
  "\r",
  "\t",
  "tab\tand\nline",
  "null",
  "NaN",
  "-0",
  "{}",
  "__proto__",
  "constructor",
  "ﬀ ligature",
] as const;

/** Email addresses a person types: unicode, quoted, padded, too long, not addresses at all. */
export const unicodeEmails = [
  "ü@exämple.com",
  "用户@例子.广告",
  "θσερ@εχαμπλε.ψομ",
  "ANNA.BERG@EXAMPLE.COM",
  " padded@example.com ",
  '"quoted local"@example.com',
  "a@xn--bcher-kva.example",
  "ﬀ@example.com",
  "a..b@example.com",
  "a@b",
  "@example.com",
  "a@",
  `${"a".repeat(300)}@example.com`,
  "a@example.com\u0000",
] as const;

/** Numbers as text that do not fit, or only look like numbers. */
export const hugeNumbers = [
  "1e400",
  "-1e400",
  "123456789012345678901234567890",
  "9007199254740993",
  "1e-400",
  "1e17",
  "100000000000000000",
  "NaN",
  "Infinity",
  "0x1F",
  "1_000",
  "1,234.50",
  "12,50",
  "٣٤",
  "00012",
] as const;

/** Dates JavaScript, luxon, Postgres or Excel cannot hold, and dates that do not exist. */
export const oddDates = [
  "0000-00-00",
  "0000-00-00 00:00:00",
  "+275761-09-14T00:00:00Z",
  "+275760-09-13T00:00:00.001Z",
  "-271821-04-19T00:00:00Z",
  "9999-12-31T23:59:60Z",
  "2026-02-30",
  "2026-13-45",
  "294277-01-01",
  "infinity",
  "31/12/99999",
  "2026-03-29T02:30:00",
  "1970-01-01T00:00:00+25:00",
  "2958466",
  "60",
  "1e17",
  "100000000000000000",
] as const;

/** A text of 1 MiB, Cypher look-alikes and non-ASCII in it. */
export const megabyteText = "') DETACH DELETE n // ünïcødé 用户 ".repeat(40_000).slice(0, 1 << 20);

/** JSON nested `depth` levels deep: `[[[…]]]` or `{"a":{"a":…}}`. */
export const nestedJson = (depth: number, object = false) =>
  object ? `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}` : `${"[".repeat(depth)}${"]".repeat(depth)}`;

/** Any hostile text: injections, odd strings, arbitrary code points (lone surrogates included), rarely 1 MiB. */
export const hostileText: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom(...injections), weight: 3 },
  { arbitrary: fc.constantFrom(...oddTexts), weight: 3 },
  { arbitrary: fc.string({ unit: "binary", maxLength: 30 }), weight: 2 },
  { arbitrary: fc.string({ unit: "grapheme", maxLength: 30 }), weight: 2 },
  { arbitrary: fc.constantFrom(...unicodeEmails, ...hugeNumbers, ...oddDates), weight: 2 },
);

/** What a field of a source record holds, by kind: mostly a valid value, often a hostile one. */
export type FieldKind = "id" | "text" | "email" | "timestamp" | "amount" | "currency" | readonly string[];

const validOf = (kind: FieldKind): fc.Arbitrary<string> => {
  if (Array.isArray(kind)) return fc.constantFrom(...(kind as string[]));
  switch (kind) {
    case "id":
      return fc.stringMatching(/^[A-Z]{1,2}-[0-9]{1,6}$/);
    case "email":
      // fast-check's addresses are RFC 5322's, most of which a model's pragmatic pattern refuses
      return fc.oneof(
        {
          arbitrary: fc.tuple(
            fc.stringMatching(/^[a-z]{1,8}(\.[a-z]{1,8})?$/),
            fc.constantFrom("example.com", "shop.de"),
          ).map(([local, domain]) => `${local}@${domain}`),
          weight: 3,
        },
        { arbitrary: fc.emailAddress(), weight: 1 },
      );
    case "timestamp":
      return fc.date({ min: new Date("1990-01-01"), max: new Date("2030-12-31"), noInvalidDate: true }).map((d) =>
        d.toISOString()
      );
    case "amount":
      return fc.oneof(fc.nat({ max: 100_000 }).map(String), fc.double({ min: 0, max: 1e6, noNaN: true }).map(String));
    case "currency":
      return fc.constantFrom("EUR", "USD", "GBP", "eur");
    default:
      return fc.lorem({ maxCount: 8 });
  }
};

/** Keys longer than an index holds (2,000 bytes and more): ASCII, and CJK of three bytes a character. */
export const longKeys = ["K".repeat(2_001), "用户".repeat(400), `${"x".repeat(5_000)}') DETACH DELETE n //`] as const;

const hostileOf = (kind: FieldKind): fc.Arbitrary<string> => {
  switch (kind) {
    case "id":
      return fc.oneof({ arbitrary: hostileText, weight: 9 }, { arbitrary: fc.constantFrom(...longKeys), weight: 1 });
    case "email":
      return fc.oneof(fc.constantFrom(...unicodeEmails), hostileText);
    case "timestamp":
      return fc.oneof(fc.constantFrom(...oddDates), hostileText);
    case "amount":
      return fc.oneof(fc.constantFrom(...hugeNumbers), hostileText);
    default:
      return hostileText;
  }
};

/** A field's value: valid three times in four, else hostile; a text field 1 MiB long once in 400. */
export const fieldValue = (kind: FieldKind): fc.Arbitrary<string> =>
  fc.oneof(
    { arbitrary: validOf(kind), weight: 300 },
    { arbitrary: hostileOf(kind), weight: 100 },
    { arbitrary: fc.constant(megabyteText), weight: kind === "text" ? 1 : 0 },
  );

/** A source record with a field of each kind named in `fields` (values as text, as files hold them). */
export const sourceRecord = (fields: Record<string, FieldKind>): fc.Arbitrary<Record<string, string>> =>
  fc.record(Object.fromEntries(Object.entries(fields).map(([name, kind]) => [name, fieldValue(kind)])));

/** Byte sequences that are not UTF-8: a stray continuation byte, a cut sequence, an encoded surrogate, overlong NUL. */
export const invalidUtf8 = [[0xff], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xc0, 0x80], [0xf8, 0x88, 0x80, 0x80]]
  .map((bytes) => new Uint8Array(bytes));

/** Bytes to splice into a file: binary garbage, invalid UTF-8, NUL, quotes, line breaks, markup and JSON delimiters. */
export const garbage: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 40 }),
  fc.constantFrom(...invalidUtf8),
  fc.constantFrom(
    ...["\u0000", '"', '"\n', "\n", "\r\n", ",,,", "&nbsp;", "<", "]]>", "{", "}", "[", '"\\'].map((s) =>
      new TextEncoder().encode(s)
    ),
  ),
  hostileText.map((text) => new TextEncoder().encode(text)),
);

/** A change to a file's bytes, at a position given as a fraction of its length. */
export type Mutation =
  | { kind: "truncate"; at: number }
  | { kind: "insert"; at: number; bytes: Uint8Array }
  | { kind: "overwrite"; at: number; bytes: Uint8Array };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("truncate" as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.double({ min: 0, max: 1, noNaN: true }), bytes: garbage }),
  fc.record({
    kind: fc.constant("overwrite" as const),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    bytes: garbage,
  }),
);

/**
 * `bytes` with the mutations applied in order, and the offset of the first byte that differs from the
 * original (its length when none does): what comes before it is intact.
 */
export function mutate(bytes: Uint8Array, mutations: readonly Mutation[]): { bytes: Uint8Array; intactUpTo: number } {
  let out = bytes;
  let intactUpTo = bytes.length;
  for (const m of mutations) {
    const at = Math.min(Math.floor(m.at * out.length), out.length);
    if (m.kind === "truncate") {
      out = out.subarray(0, at);
    } else if (m.kind === "insert") {
      out = concat(out.subarray(0, at), m.bytes, out.subarray(at));
    } else {
      out = concat(out.subarray(0, at), m.bytes, out.subarray(Math.min(at + m.bytes.length, out.length)));
    }
    intactUpTo = Math.min(intactUpTo, at);
  }
  // a mutation may leave what it touched as it was (a truncation at the end): compare, byte by byte
  let same = 0;
  while (same < Math.min(out.length, bytes.length) && out[same] === bytes[same]) same += 1;
  return { bytes: out, intactUpTo: out.length === bytes.length && same === out.length ? out.length : same };
}

const concat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

/** Whether `bytes` are valid UTF-8. */
export function isUtf8(bytes: Uint8Array): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether two values read from a source are equal: primitives by `Object.is`, dates by time, objects and arrays
 * by their own keys (`__proto__` included). Compared without recursion, so a value nested 100,000 deep compares.
 * `text` maps strings (values and keys) before they are compared, for a loss known and accepted.
 */
export function sameValue(a: unknown, b: unknown, text: (s: string) => string = (s) => s): boolean {
  const stack: [unknown, unknown][] = [[a, b]];
  while (stack.length > 0) {
    const [x, y] = stack.pop()!;
    if (Object.is(x, y)) continue;
    if (typeof x === "string" && typeof y === "string") {
      if (text(x) !== text(y)) return false;
      continue;
    }
    if (x instanceof Date || y instanceof Date) {
      if (!(x instanceof Date && y instanceof Date && Object.is(x.getTime(), y.getTime()))) return false;
      continue;
    }
    if (typeof x !== "object" || typeof y !== "object" || x === null || y === null) return false;
    if (Array.isArray(x) !== Array.isArray(y)) return false;
    const [xs, ys] = [x, y].map((o) => new Map(Object.entries(o).map(([k, v]) => [text(k), v])));
    if (xs!.size !== ys!.size) return false;
    for (const [key, value] of xs!) {
      if (!ys!.has(key)) return false;
      stack.push([value, ys!.get(key)]);
    }
  }
  return true;
}

/**
 * `text` without U+FEFF (ZERO WIDTH NO-BREAK SPACE, the byte-order mark): @streamparser/json and hyparquet decode
 * strings with a TextDecoder that drops it at the start of each piece it decodes, so such characters inside
 * strings are lost. Known and left to those libraries; a JSON or Parquet value is compared without them.
 */
export const withoutZwnbsp = (text: string) => text.replaceAll("\uFEFF", "");

/** Every item of an iterable, or the error that ended it, with what came before it. */
export async function readAll<T>(items: AsyncIterable<T>): Promise<{ items: T[]; error?: Error }> {
  const out: T[] = [];
  try {
    for await (const item of items) out.push(item);
    return { items: out };
  } catch (error) {
    return { items: out, error: error as Error };
  }
}

/** A dead letter as the staged asset writes it, computed in-process. */
export interface ExpectedDeadLetter {
  reason: "unparseable" | "invalid";
  sourceKey: string | undefined;
  issues: { path: string; message: string }[];
}

/** What a staged asset makes of a reader's items: the records staged by key, the dead letters, the duplicates. */
export interface StagedOutcome<T> {
  extracted: number;
  staged: Map<string, T>;
  deadLetters: ExpectedDeadLetter[];
  deduplicated: number;
}

/**
 * The staged asset's outcome of `items`, as `defineStagedAsset` materialises them (without the database):
 * a bad row dead-lettered `unparseable`, one the model rejects or whose key no index holds `invalid`, a record
 * staged nested too deeply `unparseable`, the rest staged by source key (of one key, the latest `updatedAt`,
 * then the last). Throws, as the materialisation would fail, when the model throws, or a record or dead letter
 * could not be stored: its JSON not well-formed Unicode, which Postgres refuses.
 */
export function stagedOutcome<T>(
  items: readonly unknown[],
  spec: {
    model: z.ZodType<T>;
    sourceKey(record: T): string;
    rawKey(raw: unknown): unknown;
    updatedAt?(record: T): string;
  },
): StagedOutcome<T> {
  const staged = new Map<string, { record: T; at: string | undefined }>();
  const deadLetters: ExpectedDeadLetter[] = [];
  let deduplicated = 0;
  const rawKey = (raw: unknown) => {
    try {
      const key = spec.rawKey(raw);
      return key === undefined || key === null || key === "" ? undefined : String(key);
    } catch {
      return undefined;
    }
  };
  for (const raw of items) {
    if (isBadRow(raw)) {
      assertStorable(raw.toDeadLetter());
      deadLetters.push({ reason: "unparseable", sourceKey: raw.__sourceKey, issues: raw.toDeadLetter().issues });
      continue;
    }
    const parsed = spec.model.safeParse(raw);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => ({ path: i.path.join(".") || "(record)", message: i.message }));
      assertStorable({ issues, payload: deadLetterPayload(raw) });
      deadLetters.push({ reason: "invalid", sourceKey: rawKey(raw), issues });
      continue;
    }
    const key = spec.sourceKey(parsed.data);
    const badKey = unstorableKey("", key, raw);
    if (badKey) {
      deadLetters.push({ reason: "invalid", sourceKey: key, issues: badKey.issues });
      continue;
    }
    if (nestedDeeperThan(parsed.data, maxRecordDepth)) {
      deadLetters.push({ reason: "unparseable", sourceKey: key, issues: [{ path: "(record)", message: "" }] });
      continue;
    }
    assertStorable(parsed.data);
    const at = spec.updatedAt?.(parsed.data);
    const current = staged.get(key);
    if (current) deduplicated += 1;
    // as the staging merge orders them: the latest updatedAt (as text, "C" collation), nulls last, then the last one
    if (!current || current.at === undefined || (at !== undefined && !(at < current.at))) {
      staged.set(key, { record: parsed.data, at });
    }
  }
  return {
    extracted: items.length,
    staged: new Map([...staged].map(([key, { record }]) => [key, record])),
    deadLetters,
    deduplicated,
  };
}

/** Throws when `value` could not be stored as jsonb: its canonical JSON holds a string that is not well-formed. */
export function assertStorable(value: unknown): void {
  const stack: unknown[] = [JSON.parse(canonicalJson(value))];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === "string" && !v.isWellFormed()) {
      throw new Error(`not storable: ${JSON.stringify(v).slice(0, 80)} is not well-formed Unicode`);
    }
    if (v !== null && typeof v === "object") {
      for (const [key, item] of Object.entries(v)) {
        if (!key.isWellFormed()) throw new Error(`not storable: the key ${JSON.stringify(key)} is not well-formed`);
        stack.push(item);
      }
    }
  }
}

/** The checks every bad row passes: where (`source:line:` first), why (a reason after it), and what (its raw text). */
export function checkBadRow(row: BadRow, source: string): void {
  const prefix = `${source}:${row.__line}: `;
  if (!row.__error.startsWith(prefix) || row.__error.length <= prefix.length + 3) {
    throw new Error(`bad row without a specific reason: ${JSON.stringify(row.__error.slice(0, 200))}`);
  }
  if (!Number.isInteger(row.__line) || row.__line < 1) throw new Error(`bad row at line ${row.__line}`);
  if (typeof row.raw !== "string") throw new Error("bad row without its raw text");
}

/** Records lost or duplicated across a fuzz test's cases, counted as the cases run and reported at the end. */
export class Tally {
  cases = 0;
  records = 0;
  lostOrDuplicated = 0;

  /**
   * Counts what a reader gave against what it should have given, position by position: each record missing,
   * extra or different is lost or duplicated. Returns that count for the case (its test asserts it is 0).
   */
  compare(
    got: readonly unknown[],
    want: readonly unknown[],
    same = (a: unknown, b: unknown) => sameValue(a, b),
  ): number {
    let wrong = Math.abs(got.length - want.length);
    for (let i = 0; i < Math.min(got.length, want.length); i++) if (!same(got[i], want[i])) wrong += 1;
    this.records += want.length;
    this.lostOrDuplicated += wrong;
    return wrong;
  }
}

/**
 * A temporary folder of a fuzz test file's own (`prefix` names it), `write(name, bytes)` putting a file of a
 * name unique in it there and giving its path, and `remove()` for the file's `afterAll`.
 */
export function scratchFolder(prefix: string) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  let files = 0;
  return {
    dir,
    write(name: string, bytes: Uint8Array | string): string {
      const path = join(dir, `${++files}-${name}`);
      writeFileSync(path, bytes);
      return path;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
