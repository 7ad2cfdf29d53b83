import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  collapseWhitespace,
  countryCode,
  emptyToUndefined,
  field,
  fromSource,
  InvalidValue,
  isCurrencyCode,
  isEmail,
  latestBySourceKey,
  normalizeEmail,
  stripHtml,
  toE164,
  toNumber,
  toUtcIso,
} from "../../assets/shared/clean.ts";

describe("toUtcIso", () => {
  it.each([
    ["2026-03-01T14:00:00Z", "2026-03-01T14:00:00.000Z"],
    ["2026-03-01T14:00:00.123456Z", "2026-03-01T14:00:00.123Z"],
    ["2026-03-01T14:00:00+01:00", "2026-03-01T13:00:00.000Z"],
    ["2026-03-01 14:00:00+01", "2026-03-01T13:00:00.000Z"],
    ["2026-07-01 14:00:00+02", "2026-07-01T12:00:00.000Z"],
    ["2026-03-01 14:00:00.5+05:30", "2026-03-01T08:30:00.500Z"],
    [" 2026-03-01T14:00:00 ", "2026-03-01T14:00:00.000Z"],
    ["2026-03-01", "2026-03-01T00:00:00.000Z"],
    ["01/03/2026", "2026-03-01T00:00:00.000Z"],
    ["01.03.2026 14:30", "2026-03-01T14:30:00.000Z"],
    ["1/3/2026 9:05:07", "2026-03-01T09:05:07.000Z"],
  ])("reads %j as %s", (input, expected) => {
    expect(toUtcIso(input)).toBe(expected);
  });

  it("reads DD/MM/YYYY day first unless told otherwise", () => {
    expect(toUtcIso("01/03/2026", { dayFirst: false })).toBe("2026-01-03T00:00:00.000Z");
    expect(toUtcIso("13/03/2026")).toBe("2026-03-13T00:00:00.000Z");
    expect(() => toUtcIso("13/03/2026", { dayFirst: false })).toThrow('Invalid date "13/03/2026"');
  });

  it("reads wall-clock values in the time zone, across DST changes; offsets in the value win", () => {
    const berlin = { timezone: "Europe/Berlin" };
    expect(toUtcIso("2026-01-15T14:00:00", berlin)).toBe("2026-01-15T13:00:00.000Z");
    expect(toUtcIso("2026-07-15T14:00:00", berlin)).toBe("2026-07-15T12:00:00.000Z");
    expect(toUtcIso("01/03/2026", berlin)).toBe("2026-02-28T23:00:00.000Z");
    expect(toUtcIso("2026-03-29T01:59:59", berlin)).toBe("2026-03-29T00:59:59.000Z");
    expect(toUtcIso("2026-03-29T03:00:00", berlin)).toBe("2026-03-29T01:00:00.000Z");
    // 02:30 did not happen that night: it moves forward to 03:30 CEST.
    expect(toUtcIso("2026-03-29T02:30:00", berlin)).toBe("2026-03-29T01:30:00.000Z");
    // 02:30 happened twice: the later, CET, is taken.
    expect(toUtcIso("2026-10-25T02:30:00", berlin)).toBe("2026-10-25T01:30:00.000Z");
    expect(toUtcIso("2026-03-08T12:00:00", { timezone: "America/New_York" })).toBe("2026-03-08T16:00:00.000Z");
    expect(toUtcIso("2026-07-01 14:00:00+02", { timezone: "America/New_York" })).toBe("2026-07-01T12:00:00.000Z");
  });

  it("reads Excel serial dates, with the time of day as the fraction, and Excel's 1900 leap day", () => {
    expect(toUtcIso(46082)).toBe("2026-03-01T00:00:00.000Z");
    expect(toUtcIso(46082.75)).toBe("2026-03-01T18:00:00.000Z");
    expect(toUtcIso("46082.5")).toBe("2026-03-01T12:00:00.000Z");
    expect(toUtcIso(46082.583333333336)).toBe("2026-03-01T14:00:00.000Z");
    expect(toUtcIso(46082, { timezone: "Europe/Berlin" })).toBe("2026-02-28T23:00:00.000Z");
    expect(toUtcIso(1)).toBe("1900-01-01T00:00:00.000Z");
    expect(toUtcIso(59)).toBe("1900-02-28T00:00:00.000Z");
    expect(toUtcIso(61)).toBe("1900-03-01T00:00:00.000Z");
    expect(() => toUtcIso(60)).toThrow("Invalid date 60 (neither an Excel serial date nor epoch milliseconds)");
  });

  it("reads Date objects and epoch milliseconds, and refuses numbers that are neither", () => {
    expect(toUtcIso(new Date(Date.UTC(2026, 2, 1, 13)))).toBe("2026-03-01T13:00:00.000Z");
    expect(toUtcIso(1772370000000)).toBe("2026-03-01T13:00:00.000Z");
    expect(() => toUtcIso(1772370000)).toThrow(
      "Invalid date 1772370000 (neither an Excel serial date nor epoch milliseconds)",
    );
    expect(() => toUtcIso(-5)).toThrow(InvalidValue);
    expect(() => toUtcIso(Number.NaN)).toThrow(InvalidValue);
    expect(() => toUtcIso(new Date("nonsense"))).toThrow("Invalid date Invalid Date");
  });

  it("gives undefined for empty values", () => {
    expect(toUtcIso("")).toBeUndefined();
    expect(toUtcIso("   ")).toBeUndefined();
    expect(toUtcIso(null)).toBeUndefined();
    expect(toUtcIso(undefined)).toBeUndefined();
  });

  it("throws an InvalidValue naming what it cannot read", () => {
    expect(() => toUtcIso("not a date")).toThrow('Invalid date "not a date"');
    expect(() => toUtcIso("2026-13-01")).toThrow('Invalid date "2026-13-01"');
    expect(() => toUtcIso("31/02/2026")).toThrow('Invalid date "31/02/2026"');
    expect(() => toUtcIso(true as never)).toThrow("Invalid date true");
    expect(() => toUtcIso("x")).toThrow(InvalidValue);
  });

  it("refuses an unknown time zone as a programming error, not a bad value", () => {
    expect(() => toUtcIso("2026-03-01", { timezone: "Mars/Olympus" })).toThrow(RangeError);
  });
});

describe("toE164", () => {
  it.each([
    ["030 1234567", "DE", "+49301234567"],
    ["(030) 123-4567", "DE", "+49301234567"],
    ["0171 2345678", "DE", "+491712345678"],
    ["+49 30 1234567", undefined, "+49301234567"],
    ["+49 30 1234567", "FR", "+49301234567"],
    ["+44 20 7946 0958", undefined, "+442079460958"],
    ["0033 1 23 45 67 89", "DE", "+33123456789"],
    [" 202-555-0100 ", "US", "+12025550100"],
  ])("reads %j (default country %s) as %s", (input, country, expected) => {
    expect(toE164(input, country)).toBe(expected);
  });

  it("gives undefined for empty values", () => {
    expect(toE164("")).toBeUndefined();
    expect(toE164("  ", "DE")).toBeUndefined();
    expect(toE164(null)).toBeUndefined();
  });

  it("refuses invalid numbers, and national numbers without a country", () => {
    expect(() => toE164("12", "DE")).toThrow('Invalid phone number "12"');
    expect(() => toE164("+1 555 555 0100")).toThrow('Invalid phone number "+1 555 555 0100"');
    expect(() => toE164("call me", "DE")).toThrow(InvalidValue);
    expect(() => toE164("030 1234567")).toThrow('Invalid phone number "030 1234567"');
    expect(() => toE164("030 1234567", "ZZ")).toThrow(InvalidValue);
  });
});

describe("emails", () => {
  it("normalises case, surrounding whitespace and compatibility characters", () => {
    expect(normalizeEmail("  Anna.Berg@Example.com ")).toBe("anna.berg@example.com");
    expect(normalizeEmail("\tANNA.BERG@EXAMPLE.COM\n")).toBe("anna.berg@example.com");
    expect(normalizeEmail("ａｎｎａ@Example.com")).toBe("anna@example.com");
    expect(normalizeEmail("")).toBeUndefined();
    expect(normalizeEmail(null)).toBeUndefined();
  });

  it("checks addresses", () => {
    expect(isEmail("anna.berg@example.com")).toBe(true);
    expect(isEmail("anna+shop@mail.example.co.uk")).toBe(true);
    expect(isEmail("anna.example.com")).toBe(false);
    expect(isEmail("anna@")).toBe(false);
    expect(isEmail("anna berg@example.com")).toBe(false);
  });
});

describe("countryCode", () => {
  it.each([
    ["de", "DE"],
    ["DE", "DE"],
    [" at ", "AT"],
    ["Germany", "DE"],
    ["germany", "DE"],
    ["Deutschland", "DE"],
    ["Österreich", "AT"],
    ["Schweiz", "CH"],
    ["United Kingdom", "GB"],
    ["UK", "GB"],
    ["Great Britain", "GB"],
    ["United States", "US"],
    ["USA", "US"],
    ["the Netherlands", "NL"],
    ["Netherlands", "NL"],
    ["Czechia", "CZ"],
    ["Czech Republic", "CZ"],
    ["Côte d’Ivoire", "CI"],
    ["Cote d'Ivoire", "CI"],
    ["St. Lucia", "LC"],
    ["Saint Lucia", "LC"],
    ["Bosnia and Herzegovina", "BA"],
    ["Hong Kong", "HK"],
    ["South Korea", "KR"],
    ["Turkey", "TR"],
    ["Türkiye", "TR"],
    ["Myanmar", "MM"],
  ])("reads %j as %s", (input, expected) => {
    expect(countryCode(input)).toBe(expected);
  });

  it("knows the English names of the countries a shop sells to", () => {
    const names = [
      "Austria",
      "Belgium",
      "Bulgaria",
      "Croatia",
      "Cyprus",
      "Denmark",
      "Estonia",
      "Finland",
      "France",
      "Greece",
      "Hungary",
      "Ireland",
      "Italy",
      "Latvia",
      "Lithuania",
      "Luxembourg",
      "Malta",
      "Poland",
      "Portugal",
      "Romania",
      "Slovakia",
      "Slovenia",
      "Spain",
      "Sweden",
      "Norway",
      "Switzerland",
      "Iceland",
      "Canada",
      "Mexico",
      "Brazil",
      "Argentina",
      "Australia",
      "New Zealand",
      "Japan",
      "China",
      "India",
      "Singapore",
      "South Africa",
    ];
    const codes = [
      "AT",
      "BE",
      "BG",
      "HR",
      "CY",
      "DK",
      "EE",
      "FI",
      "FR",
      "GR",
      "HU",
      "IE",
      "IT",
      "LV",
      "LT",
      "LU",
      "MT",
      "PL",
      "PT",
      "RO",
      "SK",
      "SI",
      "ES",
      "SE",
      "NO",
      "CH",
      "IS",
      "CA",
      "MX",
      "BR",
      "AR",
      "AU",
      "NZ",
      "JP",
      "CN",
      "IN",
      "SG",
      "ZA",
    ];
    expect(names.map((n) => countryCode(n))).toEqual(codes);
  });

  it("gives undefined for empty values and refuses unknown codes, non-country codes and names", () => {
    expect(countryCode("")).toBeUndefined();
    expect(countryCode(null)).toBeUndefined();
    expect(() => countryCode("XX")).toThrow('Unknown country "XX"');
    expect(() => countryCode("EU")).toThrow('Unknown country "EU"');
    expect(() => countryCode("Atlantis")).toThrow('Unknown country "Atlantis"');
    expect(() => countryCode("DEU")).toThrow(InvalidValue);
    // Two countries are "Congo" for short: only the full names are read.
    expect(() => countryCode("Congo")).toThrow('Unknown country "Congo"');
    expect(countryCode("Congo - Brazzaville")).toBe("CG");
  });
});

describe("text", () => {
  it("collapses whitespace", () => {
    expect(collapseWhitespace("  a \n\t b\u00a0 c  ")).toBe("a b c");
    expect(collapseWhitespace("")).toBe("");
  });

  it("strips HTML to its words: entities decoded, no scripts, styles, images, link targets or markers", () => {
    const html = '<h1>Title &amp; more</h1><script>alert("x")</script><style>p { color: red }</style>' +
      '<p>Hello <a href="https://example.com">link</a> <img src="a.png" alt="pic"> world&nbsp;&euro;<br>x &lt; y</p>' +
      "<hr><ul><li>one</li><li>two</li></ul><ol><li>three</li></ol><table><tr><th>head</th></tr><tr><td>cell</td></tr></table>";
    expect(stripHtml(html)).toBe("Title & more Hello link world € x < y one two three head cell");
    expect(stripHtml("plain text, 3 > 2")).toBe("plain text, 3 > 2");
    expect(stripHtml("")).toBe("");
  });

  it("turns only empty values into undefined", () => {
    expect(emptyToUndefined("")).toBeUndefined();
    expect(emptyToUndefined(" \n ")).toBeUndefined();
    expect(emptyToUndefined(null)).toBeUndefined();
    expect(emptyToUndefined(undefined)).toBeUndefined();
    expect(emptyToUndefined(" a ")).toBe(" a ");
    expect(emptyToUndefined(0)).toBe(0);
    expect(emptyToUndefined(false)).toBe(false);
  });
});

describe("toNumber", () => {
  it.each([
    [" 12.50 ", 12.5],
    ["12,50", 12.5],
    ["-4", -4],
    ["+4", 4],
    [".5", 0.5],
    ["7.", 7],
    ["0", 0],
    [3, 3],
    [-0.25, -0.25],
  ])("reads %j as %d", (input, expected) => {
    expect(toNumber(input)).toBe(expected);
  });

  it("gives undefined for empty values", () => {
    expect(toNumber("")).toBeUndefined();
    expect(toNumber("  ")).toBeUndefined();
    expect(toNumber(null)).toBeUndefined();
  });

  it.each(["abc", "12.5 EUR", "1,234.50", "1.234,50", "1 234", "12,5,0", "1e3", "--1"])("refuses %j", (input) => {
    expect(() => toNumber(input)).toThrow(`Invalid number ${JSON.stringify(input)}`);
  });

  it("refuses non-finite numbers", () => {
    expect(() => toNumber(Number.NaN)).toThrow("Invalid number NaN");
    expect(() => toNumber(Number.POSITIVE_INFINITY)).toThrow("Invalid number Infinity");
  });
});

describe("currency codes", () => {
  it("knows ISO 4217, upper case", () => {
    expect(["EUR", "USD", "GBP", "CHF", "JPY"].map(isCurrencyCode)).toEqual([true, true, true, true, true]);
    expect(["eur", "XYZ", "EU", ""].map(isCurrencyCode)).toEqual([false, false, false, false]);
  });
});

describe("latestBySourceKey", () => {
  const r = (id: string, at: string | undefined, n: number) => ({ id, at, n });
  const dedupe = (records: ReturnType<typeof r>[]) => {
    const { kept, duplicates } = latestBySourceKey(records, (x) => x.id, (x) => x.at);
    return { kept: kept.map((x) => x.n), duplicates: duplicates.map((x) => x.n) };
  };

  it("keeps the latest per key, in input order, and returns the rest as duplicates", () => {
    expect(
      dedupe([
        r("a", "2026-01-01T00:00:00.000Z", 1),
        r("b", "2026-01-01T00:00:00.000Z", 2),
        r("a", "2026-02-01T00:00:00.000Z", 3),
        r("a", "2026-01-15T00:00:00.000Z", 4),
        r("c", "2026-01-01T00:00:00.000Z", 5),
      ]),
    ).toEqual({ kept: [2, 3, 5], duplicates: [1, 4] });
  });

  it("keeps the later of equally recent records, and counts a missing updatedAt as oldest", () => {
    expect(dedupe([r("a", "2026-01-01T00:00:00.000Z", 1), r("a", "2026-01-01T00:00:00.000Z", 2)])).toEqual({
      kept: [2],
      duplicates: [1],
    });
    expect(dedupe([r("a", "2020-01-01T00:00:00.000Z", 1), r("a", undefined, 2)])).toEqual({
      kept: [1],
      duplicates: [2],
    });
    expect(dedupe([r("a", undefined, 1), r("a", undefined, 2)])).toEqual({ kept: [2], duplicates: [1] });
    expect(dedupe([])).toEqual({ kept: [], duplicates: [] });
  });

  it("compares instants, not strings", () => {
    expect(dedupe([r("a", "2026-01-01T01:00:00+02:00", 1), r("a", "2026-01-01T00:00:00Z", 2)])).toEqual({
      kept: [2],
      duplicates: [1],
    });
  });

  it("refuses an unreadable updatedAt", () => {
    expect(() => dedupe([r("a", "yesterday", 1)])).toThrow('Invalid updatedAt "yesterday"');
  });
});

describe("fromSource", () => {
  const Thing = fromSource(
    z.object({ thingId: field.id, email: field.email, city: field.optionalText, count: field.number() }),
    { thingId: ["thing_id", "Thing ID"], email: ["owner.email"], count: ["n"] },
  );

  it("reads source names in order, dotted names as nested fields, else the field's own name; drops the rest", () => {
    expect(Thing.parse({ "Thing ID": 7, thing_id: "T-1", owner: { email: " A@B.de " }, n: " 3 ", other: 1 }))
      .toStrictEqual({
        thingId: "T-1",
        email: "a@b.de",
        city: null,
        count: 3,
      });
    expect(Thing.parse({ "Thing ID": 7, email: "a@b.de", city: " Berlin ", count: 3 })).toStrictEqual({
      thingId: "7",
      email: "a@b.de",
      city: "Berlin",
      count: 3,
    });
  });

  it("reports issues on the model's field names", () => {
    const result = Thing.safeParse({ thing_id: "", owner: { email: "nope" }, n: "x" });
    expect(result.error?.issues.map((i) => [i.path.join("."), i.message])).toEqual([
      ["thingId", "Required"],
      ["email", 'Invalid email address "nope"'],
      ["count", 'Invalid number "x"'],
    ]);
    expect(Thing.safeParse("nope").error?.issues.map((i) => [i.path, i.message])).toEqual([
      [[], "Invalid input: expected object, received string"],
    ]);
  });
});
