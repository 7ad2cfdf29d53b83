import {
  Binary,
  BSON,
  BSONRegExp,
  Code,
  Decimal128,
  Double,
  Int32,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
  UUID,
} from "mongodb";
import { describe, expect, it } from "vitest";
import { plainDocument } from "../../connectors/mongodb/index.ts";

/** A document as the driver hands it over: serialized to BSON and read back, as off the wire. */
const offTheWire = (document: BSON.Document, options?: BSON.DeserializeOptions) =>
  BSON.deserialize(BSON.serialize(document), options);

describe("plainDocument", () => {
  it("turns every BSON type with a JSON form into plain values, exactly", () => {
    const document = offTheWire({
      _id: new ObjectId("65f0c0ffee00000000000001"),
      price: Decimal128.fromString("19.90"),
      huge: Decimal128.fromString("12345678901234567890.123456789"),
      at: new Date("2026-03-01T12:00:00.000Z"),
      small: Long.fromNumber(42),
      big: Long.fromString("9223372036854775807"),
      bytes: new Binary(Buffer.from([0, 1, 2, 255])),
      id: new UUID("0f8fad5b-d9cb-469f-a165-70867728950e"),
      ts: new Timestamp({ t: 1_700_000_000, i: 7 }),
      nested: { list: [1, "two", { three: null }], empty: [] },
    });
    expect(plainDocument(document)).toEqual({
      document: {
        _id: "65f0c0ffee00000000000001",
        price: "19.90",
        huge: "12345678901234567890.123456789",
        at: "2026-03-01T12:00:00.000Z",
        small: 42,
        big: "9223372036854775807",
        bytes: "AAEC/w==",
        id: "0f8fad5b-d9cb-469f-a165-70867728950e",
        ts: { t: 1_700_000_000, i: 7 },
        nested: { list: [1, "two", { three: null }], empty: [] },
      },
    });
  });

  it("unwraps the driver's number wrappers when values are not promoted", () => {
    const document = offTheWire(
      { i: new Int32(7), d: new Double(2.5), l: Long.fromNumber(3) },
      { promoteValues: false },
    );
    expect(plainDocument(document)).toEqual({ document: { i: 7, d: 2.5, l: 3 } });
  });

  it.each([
    ["a NaN", { price: Number.NaN }, "price", "NaN"],
    ["an infinite double", { a: { b: [1, Number.POSITIVE_INFINITY] } }, "a.b.1", "Infinity"],
    ["a decimal NaN", { price: Decimal128.fromString("NaN") }, "price", "the decimal NaN"],
    ["a regular expression", { match: new BSONRegExp("^a", "i") }, "match", "the regular expression /^a/i"],
    ["JavaScript code", { f: new Code("return 1") }, "f", "a BSON Code"],
    ["MinKey", { low: new MinKey() }, "low", "a BSON MinKey"],
    ["MaxKey", { list: [new MaxKey()] }, "list.0", "a BSON MaxKey"],
  ])("finds %s, and says where it is", (_, document, path, problem) => {
    expect(plainDocument(offTheWire(document))).toEqual({ unconvertible: { path, problem } });
  });

  it("finds a date JavaScript cannot hold", () => {
    // Year 300,000: valid BSON (milliseconds as a 64-bit integer), beyond JavaScript's ±8.64e15 ms.
    const bytes = BSON.serialize({ at: new Date(0) });
    const at = bytes.indexOf(0x09) + 4;
    new DataView(bytes.buffer, bytes.byteOffset).setBigInt64(at, 9_400_000_000_000_000n, true);
    expect(plainDocument(BSON.deserialize(bytes))).toEqual({
      unconvertible: { path: "at", problem: "a date outside JavaScript's range" },
    });
  });
});
