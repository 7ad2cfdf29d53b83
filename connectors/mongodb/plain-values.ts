import type { Binary, Decimal128, Document, Long, ObjectId, Timestamp } from "mongodb";
import { setField } from "../record-fields.ts";

/** A JSON value: what a MongoDB document becomes once read. */
export type PlainValue = null | boolean | number | string | PlainValue[] | { [key: string]: PlainValue };

/** A MongoDB document as plain JSON values (see {@link plainDocument} for how each BSON type maps). */
export type PlainDocument = {
  /** A field of the document, its value converted. */
  [key: string]: PlainValue;
};

/** Why a value has no plain JSON form: where it is in the document, and what it is. */
export interface Unconvertible {
  /** Dotted path to the value: `variants.2.price`. */
  path: string;
  /** What the value is: `NaN`, `a regular expression`. */
  problem: string;
}

class NoPlainValue extends Error {
  readonly problem: string;
  readonly path: string[];
  constructor(problem: string, path: string[]) {
    super(problem);
    this.problem = problem;
    this.path = path;
  }
}

const isSafe = (n: number) => Number.isSafeInteger(n);

/** BSON wrapper types by `_bsontype`, which holds across copies of the bson library (instanceof does not). */
const wrappers: Record<string, (value: never, path: string[]) => PlainValue> = {
  ObjectId: (id: ObjectId) => id.toHexString(),
  Decimal128: (decimal: Decimal128, path) => {
    const text = decimal.toString();
    if (!/\d/.test(text)) throw new NoPlainValue(`the decimal ${text}`, path);
    return text;
  },
  Long: (long: Long) => (isSafe(long.toNumber()) ? long.toNumber() : long.toString()),
  Int32: (int: { value: number }) => int.value,
  Double: (double: { value: number }, path) => number(double.value, path),
  Binary: (binary: Binary) => binary.sub_type === 4 ? binary.toUUID().toHexString(true) : binary.toString("base64"),
  Timestamp: (timestamp: Timestamp) => ({ t: timestamp.t, i: timestamp.i }),
};

function number(value: number, path: string[]): number {
  if (!Number.isFinite(value)) throw new NoPlainValue(String(value), path);
  return value;
}

function plain(value: unknown, path: string[]): PlainValue {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      return number(value, path);
    case "bigint":
      return isSafe(Number(value)) ? Number(value) : value.toString();
    case "object":
      break;
    default:
      throw new NoPlainValue(`a ${typeof value}`, path);
  }
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new NoPlainValue("a date outside JavaScript's range", path);
    return value.toISOString();
  }
  if (Array.isArray(value)) return value.map((item, i) => plain(item, [...path, String(i)]));
  if (value instanceof RegExp) throw new NoPlainValue(`the regular expression ${value}`, path);
  const type = (value as { _bsontype?: unknown })._bsontype;
  if (typeof type === "string") {
    const convert = wrappers[type];
    if (!convert) throw new NoPlainValue(`a BSON ${type}`, path);
    return convert(value as never, path);
  }
  const out: { [key: string]: PlainValue } = {};
  for (const [key, item] of Object.entries(value)) setField(out, key, plain(item, [...path, key]));
  return out;
}

/**
 * A document as plain JSON values, or where it holds one that has none. ObjectIds become their 24 hex
 * digits, dates ISO 8601 strings (UTC), Decimal128 its exact decimal text (`"19.90"`), 64-bit integers
 * numbers (text beyond 2^53), binary data base64 (UUIDs their hyphenated text), timestamps `{ t, i }`.
 * NaN and infinities (double or decimal), dates outside JavaScript's range, regular expressions,
 * JavaScript code, MinKey, MaxKey and symbols have no such value: they give an {@link Unconvertible}.
 *
 * @example
 * ```ts
 * const result = plainDocument({ _id: new ObjectId("65f0c0ffee0000000000002a"), at: new Date(0) });
 * // { document: { _id: "65f0c0ffee0000000000002a", at: "1970-01-01T00:00:00.000Z" } }
 * ```
 */
export function plainDocument(document: Document): { document: PlainDocument } | { unconvertible: Unconvertible } {
  try {
    return { document: plain(document, []) as PlainDocument };
  } catch (error) {
    if (!(error instanceof NoPlainValue)) throw error;
    return { unconvertible: { path: error.path.join(".") || "(document)", problem: error.problem } };
  }
}
