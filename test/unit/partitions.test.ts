import { describe, expect, it } from "vitest";
import {
  dailyPartitions,
  hourlyPartitions,
  PartitionError,
  staticPartitions,
  type TimeWindowPartitions,
} from "../../engine/partitions.ts";

const at = (iso: string) => new Date(iso);
const hoursOf = (partitions: TimeWindowPartitions, key: string) => {
  const { start, end } = partitions.window(key);
  return (end.getTime() - start.getTime()) / 3_600_000;
};
const windowIso = (partitions: TimeWindowPartitions, key: string) => {
  const { start, end } = partitions.window(key);
  return [start.toISOString(), end.toISOString()];
};
const errorOf = (f: () => unknown): PartitionError => {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(PartitionError);
    return error as PartitionError;
  }
  throw new Error("expected a PartitionError");
};

describe("static partitions", () => {
  const regions = staticPartitions(["eu", "us", "apac", "latam"]);

  it("keeps the declared order and derives the id from the keys", () => {
    expect(regions.kind).toBe("static");
    expect(regions.id).toBe("static:eu,us,apac,latam");
    expect(regions.keys()).toEqual(["eu", "us", "apac", "latam"]);
    expect(regions.keysBetween("us", "apac")).toEqual(["us", "apac"]);
    expect(regions.keysBetween("eu", "latam")).toEqual(["eu", "us", "apac", "latam"]);
    expect(regions.keysBetween("apac", "apac")).toEqual(["apac"]);
    expect(staticPartitions(["eu", "us", "apac", "latam"]).id).toBe(regions.id);
    expect(staticPartitions(["us", "eu", "apac", "latam"]).id).not.toBe(regions.id);
  });

  it("hands out copies of its keys", () => {
    regions.keys().push("mutated");
    expect(regions.keys()).toEqual(["eu", "us", "apac", "latam"]);
  });

  it("checks keys and ranges", () => {
    expect(regions.has("apac")).toBe(true);
    expect(regions.has("APAC")).toBe(false);
    expect(() => regions.assertKey("us")).not.toThrow();
    expect(errorOf(() => regions.assertKey("mars")).message).toBe(
      "invalid partition key 'mars' for static:eu,us,apac,latam: not a declared key; expected one of: eu, us, apac, latam",
    );
    expect(errorOf(() => regions.keysBetween("eu", "mars")).message).toContain("invalid partition key 'mars'");
    expect(errorOf(() => regions.keysBetween("apac", "us")).message).toBe(
      "invalid partition range for static:eu,us,apac,latam: 'apac' comes after 'us' in the declared order",
    );
  });

  it("rejects empty, duplicate and malformed keys when defined, all at once", () => {
    expect(errorOf(() => staticPartitions([])).message).toBe("invalid static partitions: no keys given");
    expect(errorOf(() => staticPartitions(["a", "b", "a", "", "b c", "x/y", "ok.v-1_2"])).message).toBe(
      "invalid static partitions: key 'a' is declared twice; " +
        `key "" is invalid: expected letters, digits, '_', '.' or '-'; ` +
        `key "b c" is invalid: expected letters, digits, '_', '.' or '-'; ` +
        `key "x/y" is invalid: expected letters, digits, '_', '.' or '-'`,
    );
  });
});

describe("daily partitions", () => {
  const utc = dailyPartitions({ start: "2026-01-01" });
  const newYork = dailyPartitions({ start: "2026-01-01", timezone: "America/New_York" });
  const berlin = dailyPartitions({ start: "2026-01-01", timezone: "Europe/Berlin" });

  it("keys UTC days from start, leaving out the day still in progress", () => {
    expect(utc.kind).toBe("time");
    expect(utc.timezone).toBe("UTC");
    expect(utc.id).toBe("daily:2026-01-01:UTC");
    expect(utc.keys(at("2026-01-04T00:00:00Z"))).toEqual(["2026-01-01", "2026-01-02", "2026-01-03"]);
    expect(utc.keys(at("2026-01-03T23:59:59.999Z"))).toEqual(["2026-01-01", "2026-01-02"]);
    expect(utc.keys(at("2026-01-01T12:00:00Z"))).toEqual([]);
    expect(utc.keys(at("2025-06-01T00:00:00Z"))).toEqual([]);
    expect(utc.keys(at("2027-01-01T00:00:00Z"))).toHaveLength(365);
    expect(windowIso(utc, "2026-02-28")).toEqual(["2026-02-28T00:00:00.000Z", "2026-03-01T00:00:00.000Z"]);
  });

  it("ranges over months and leap days", () => {
    expect(utc.keysBetween("2026-02-27", "2026-03-02")).toEqual([
      "2026-02-27",
      "2026-02-28",
      "2026-03-01",
      "2026-03-02",
    ]);
    expect(dailyPartitions({ start: "2028-01-01" }).keysBetween("2028-02-28", "2028-03-01")).toEqual([
      "2028-02-28",
      "2028-02-29",
      "2028-03-01",
    ]);
    expect(utc.keysBetween("2026-12-31", "2027-01-01")).toEqual(["2026-12-31", "2027-01-01"]);
  });

  it("names the last complete day at exact boundaries", () => {
    expect(utc.lastCompleteKey(at("2026-01-01T23:59:59.999Z"))).toBeUndefined();
    expect(utc.lastCompleteKey(at("2026-01-02T00:00:00Z"))).toBe("2026-01-01");
    expect(utc.lastCompleteKey(at("2026-01-02T23:59:59.999Z"))).toBe("2026-01-01");
    expect(utc.lastCompleteKey(at("2026-01-03T00:00:00Z"))).toBe("2026-01-02");
    expect(utc.lastCompleteKey(at("2025-12-01T00:00:00Z"))).toBeUndefined();
    expect(utc.keyContaining(at("2026-01-02T00:00:00Z"))).toBe("2026-01-02");
    expect(utc.keyContaining(at("2026-01-01T23:59:59.999Z"))).toBe("2026-01-01");
  });

  it("runs New York days midnight to midnight, 23 and 25 hours long across DST", () => {
    expect(newYork.id).toBe("daily:2026-01-01:America/New_York");
    expect(windowIso(newYork, "2026-01-15")).toEqual(["2026-01-15T05:00:00.000Z", "2026-01-16T05:00:00.000Z"]);
    expect(windowIso(newYork, "2026-03-08")).toEqual(["2026-03-08T05:00:00.000Z", "2026-03-09T04:00:00.000Z"]);
    expect(hoursOf(newYork, "2026-03-08")).toBe(23);
    expect(windowIso(newYork, "2026-11-01")).toEqual(["2026-11-01T04:00:00.000Z", "2026-11-02T05:00:00.000Z"]);
    expect(hoursOf(newYork, "2026-11-01")).toBe(25);
    expect(hoursOf(newYork, "2026-07-04")).toBe(24);
  });

  it("ticks at New York midnight, not UTC midnight", () => {
    expect(newYork.lastCompleteKey(at("2026-03-09T03:59:59.999Z"))).toBe("2026-03-07");
    expect(newYork.lastCompleteKey(at("2026-03-09T04:00:00Z"))).toBe("2026-03-08");
    expect(newYork.lastCompleteKey(at("2026-01-02T04:59:59.999Z"))).toBeUndefined();
    expect(newYork.lastCompleteKey(at("2026-01-02T05:00:00Z"))).toBe("2026-01-01");
    expect(newYork.keys(at("2026-01-04T04:59:59.999Z"))).toEqual(["2026-01-01", "2026-01-02"]);
    expect(newYork.keys(at("2026-01-04T05:00:00Z"))).toEqual(["2026-01-01", "2026-01-02", "2026-01-03"]);
    expect(newYork.keyContaining(at("2026-11-02T04:59:59.999Z"))).toBe("2026-11-01");
    expect(newYork.keyContaining(at("2026-11-02T05:00:00Z"))).toBe("2026-11-02");
  });

  it("runs Berlin days across both 2026 DST changes", () => {
    expect(windowIso(berlin, "2026-03-29")).toEqual(["2026-03-28T23:00:00.000Z", "2026-03-29T22:00:00.000Z"]);
    expect(hoursOf(berlin, "2026-03-29")).toBe(23);
    expect(windowIso(berlin, "2026-10-25")).toEqual(["2026-10-24T22:00:00.000Z", "2026-10-25T23:00:00.000Z"]);
    expect(hoursOf(berlin, "2026-10-25")).toBe(25);
    expect(berlin.keyContaining(at("2026-03-28T22:59:59.999Z"))).toBe("2026-03-28");
    expect(berlin.keyContaining(at("2026-03-28T23:00:00Z"))).toBe("2026-03-29");
    expect(berlin.lastCompleteKey(at("2026-10-25T22:59:59.999Z"))).toBe("2026-10-24");
    expect(berlin.lastCompleteKey(at("2026-10-25T23:00:00Z"))).toBe("2026-10-25");
    expect(berlin.keys(at("2027-01-01T00:00:00Z"))).toHaveLength(365);
  });

  it("starts a day whose midnight is skipped at the first instant of that date", () => {
    // Chile moves its clocks from 00:00 to 01:00 on the first Sunday of September.
    const santiago = dailyPartitions({ start: "2026-09-01", timezone: "America/Santiago" });
    expect(windowIso(santiago, "2026-09-06")).toEqual(["2026-09-06T04:00:00.000Z", "2026-09-07T03:00:00.000Z"]);
    expect(windowIso(santiago, "2026-09-05")).toEqual(["2026-09-05T04:00:00.000Z", "2026-09-06T04:00:00.000Z"]);
  });

  it("stops before an exclusive end", () => {
    const january = dailyPartitions({ start: "2026-01-01", end: "2026-01-04" });
    expect(january.id).toBe("daily:2026-01-01:UTC:2026-01-04");
    expect(january.keys(at("2030-01-01T00:00:00Z"))).toEqual(["2026-01-01", "2026-01-02", "2026-01-03"]);
    expect(january.has("2026-01-03")).toBe(true);
    expect(january.has("2026-01-04")).toBe(false);
    expect(january.lastCompleteKey(at("2030-01-01T00:00:00Z"))).toBe("2026-01-03");
    expect(january.keyContaining(at("2026-01-03T23:59:59.999Z"))).toBe("2026-01-03");
    expect(errorOf(() => january.keyContaining(at("2026-01-04T00:00:00Z"))).message).toBe(
      "no partition of daily:2026-01-01:UTC:2026-01-04 contains 2026-01-04T00:00:00.000Z: partitions run 2026-01-01 to 2026-01-04 (exclusive)",
    );
    expect(errorOf(() => january.assertKey("2026-01-04")).message).toBe(
      `invalid partition key "2026-01-04" for daily:2026-01-01:UTC:2026-01-04: not before the end '2026-01-04' (partitions run 2026-01-01 to 2026-01-04 (exclusive))`,
    );
  });

  it("accepts future keys but nothing before start or malformed", () => {
    expect(utc.has("2030-12-31")).toBe(true);
    expect(utc.has("2025-12-31")).toBe(false);
    expect(utc.has("2026-1-01")).toBe(false);
    expect(utc.has("2026-02-29")).toBe(false);
    expect(utc.has("2026-01-01 ")).toBe(false);
  });

  it("names the bad key and the expected format", () => {
    const expected = "expected YYYY-MM-DD (a calendar date in UTC), e.g. '2026-01-31'";
    expect(errorOf(() => utc.assertKey("2026-1-01")).message).toBe(
      `invalid partition key "2026-1-01" for daily:2026-01-01:UTC: not of the form YYYY-MM-DD; ${expected}`,
    );
    expect(errorOf(() => utc.assertKey("2026-02-30")).message).toBe(
      `invalid partition key "2026-02-30" for daily:2026-01-01:UTC: 2026-02-30 is not a calendar date; ${expected}`,
    );
    expect(errorOf(() => utc.assertKey("2025-12-31")).message).toBe(
      `invalid partition key "2025-12-31" for daily:2026-01-01:UTC: before the first partition '2026-01-01' (partitions run 2026-01-01)`,
    );
    expect(errorOf(() => utc.window("2026-13-01")).message).toContain(`invalid partition key "2026-13-01"`);
    expect(errorOf(() => utc.keysBetween("2026-01-02", "2026-01-32")).message).toContain(
      `invalid partition key "2026-01-32"`,
    );
    expect(errorOf(() => utc.keysBetween("2026-01-03", "2026-01-01")).message).toBe(
      "invalid partition range for daily:2026-01-01:UTC: '2026-01-03' is after '2026-01-01'",
    );
    expect(errorOf(() => utc.keyContaining(at("2025-12-31T23:59:59.999Z"))).message).toBe(
      "no partition of daily:2026-01-01:UTC contains 2025-12-31T23:59:59.999Z: partitions run 2026-01-01",
    );
    expect(errorOf(() => utc.keys(new Date(Number.NaN))).message).toBe(
      "now for daily:2026-01-01:UTC must be a valid Date, got Invalid Date",
    );
  });

  it("validates the definition: zone, start and end", () => {
    expect(errorOf(() => dailyPartitions({ start: "2026-01-01", timezone: "Europe/Berln" })).message).toBe(
      `unknown time zone "Europe/Berln": expected an IANA zone name such as 'UTC', 'Europe/Berlin' or 'America/New_York'`,
    );
    expect(errorOf(() => dailyPartitions({ start: "2026-01-01", timezone: "CEST" })).message).toContain(
      `unknown time zone "CEST"`,
    );
    expect(errorOf(() => dailyPartitions({ start: "2026-02-30" })).message).toBe(
      `invalid daily partitions: start "2026-02-30" is invalid: 2026-02-30 is not a calendar date; expected YYYY-MM-DD (a calendar date in UTC), e.g. '2026-01-31'`,
    );
    expect(errorOf(() => dailyPartitions({ start: "2026-01-01T00:00" })).message).toContain(
      `start "2026-01-01T00:00" is invalid: not of the form YYYY-MM-DD`,
    );
    expect(errorOf(() => dailyPartitions({ start: "2026-01-01", end: "2026-01-01" })).message).toBe(
      "invalid daily partitions: end '2026-01-01' must be after start '2026-01-01'",
    );
  });
});

describe("hourly partitions", () => {
  const utc = hourlyPartitions({ start: "2026-01-01" });
  const berlin = hourlyPartitions({ start: "2026-01-01", timezone: "Europe/Berlin" });
  const berlinDay = (date: string) => berlin.keysBetween(`${date}-00:00`, `${date}-23:00`);

  it("keys UTC hours in Dagster's format, leaving out the hour in progress", () => {
    expect(utc.id).toBe("hourly:2026-01-01:UTC");
    expect(utc.keys(at("2026-01-01T03:00:00Z"))).toEqual(["2026-01-01-00:00", "2026-01-01-01:00", "2026-01-01-02:00"]);
    expect(utc.keys(at("2026-01-01T02:59:59.999Z"))).toEqual(["2026-01-01-00:00", "2026-01-01-01:00"]);
    expect(windowIso(utc, "2026-01-01-23:00")).toEqual(["2026-01-01T23:00:00.000Z", "2026-01-02T00:00:00.000Z"]);
    expect(utc.keysBetween("2026-01-01-22:00", "2026-01-02-01:00")).toEqual([
      "2026-01-01-22:00",
      "2026-01-01-23:00",
      "2026-01-02-00:00",
      "2026-01-02-01:00",
    ]);
    expect(utc.lastCompleteKey(at("2026-01-01T01:00:00Z"))).toBe("2026-01-01-00:00");
    expect(utc.lastCompleteKey(at("2026-01-01T00:59:59.999Z"))).toBeUndefined();
  });

  it("starts at an hour key when given one", () => {
    const fromSix = hourlyPartitions({ start: "2026-01-01-06:00", timezone: "Europe/Berlin" });
    expect(fromSix.id).toBe("hourly:2026-01-01-06:00:Europe/Berlin");
    expect(fromSix.keys(at("2026-01-01T07:00:00Z"))).toEqual(["2026-01-01-06:00", "2026-01-01-07:00"]);
    expect(fromSix.has("2026-01-01-05:00")).toBe(false);
  });

  it("has 23 keys on the Berlin spring-forward day: 02:00 does not exist", () => {
    const keys = berlinDay("2026-03-29");
    expect(keys).toHaveLength(23);
    expect(keys.slice(0, 4)).toEqual(["2026-03-29-00:00", "2026-03-29-01:00", "2026-03-29-03:00", "2026-03-29-04:00"]);
    expect(windowIso(berlin, "2026-03-29-01:00")).toEqual(["2026-03-29T00:00:00.000Z", "2026-03-29T01:00:00.000Z"]);
    expect(windowIso(berlin, "2026-03-29-03:00")).toEqual(["2026-03-29T01:00:00.000Z", "2026-03-29T02:00:00.000Z"]);
    expect(berlin.keyContaining(at("2026-03-29T00:59:59.999Z"))).toBe("2026-03-29-01:00");
    expect(berlin.keyContaining(at("2026-03-29T01:00:00Z"))).toBe("2026-03-29-03:00");
    expect(berlin.lastCompleteKey(at("2026-03-29T01:00:00Z"))).toBe("2026-03-29-01:00");
    expect(berlin.has("2026-03-29-02:00")).toBe(false);
    expect(errorOf(() => berlin.assertKey("2026-03-29-02:00")).message).toContain(
      `invalid partition key "2026-03-29-02:00" for hourly:2026-01-01:Europe/Berlin: 2026-03-29 02:00 does not exist in Europe/Berlin: clocks skip from 02:00 to 03:00; expected YYYY-MM-DD-HH:00`,
    );
  });

  it("has 25 keys on the Berlin fall-back day: the repeated 02:00 carries its offset", () => {
    const keys = berlinDay("2026-10-25");
    expect(keys).toHaveLength(25);
    expect(keys.slice(1, 5)).toEqual([
      "2026-10-25-01:00",
      "2026-10-25-02:00",
      "2026-10-25-02:00+01:00",
      "2026-10-25-03:00",
    ]);
    expect(new Set(keys).size).toBe(25);
    expect(windowIso(berlin, "2026-10-25-02:00")).toEqual(["2026-10-25T00:00:00.000Z", "2026-10-25T01:00:00.000Z"]);
    expect(windowIso(berlin, "2026-10-25-02:00+01:00")).toEqual([
      "2026-10-25T01:00:00.000Z",
      "2026-10-25T02:00:00.000Z",
    ]);
    expect(windowIso(berlin, "2026-10-25-03:00")).toEqual(["2026-10-25T02:00:00.000Z", "2026-10-25T03:00:00.000Z"]);
    expect(berlin.keyContaining(at("2026-10-25T00:59:59.999Z"))).toBe("2026-10-25-02:00");
    expect(berlin.keyContaining(at("2026-10-25T01:00:00Z"))).toBe("2026-10-25-02:00+01:00");
    expect(berlin.lastCompleteKey(at("2026-10-25T01:00:00Z"))).toBe("2026-10-25-02:00");
    expect(berlin.lastCompleteKey(at("2026-10-25T02:00:00Z"))).toBe("2026-10-25-02:00+01:00");
    expect(berlin.keys(at("2026-10-25T01:59:59.999Z")).at(-1)).toBe("2026-10-25-02:00");
    expect(berlin.keys(at("2026-10-25T02:00:00Z")).at(-1)).toBe("2026-10-25-02:00+01:00");
    expect(berlin.keysBetween("2026-10-25-02:00+01:00", "2026-10-25-03:00")).toEqual([
      "2026-10-25-02:00+01:00",
      "2026-10-25-03:00",
    ]);
  });

  it("rejects offsets on keys that do not need them", () => {
    expect(errorOf(() => berlin.assertKey("2026-10-25-02:00+02:00")).message).toContain(
      "the first 2026-10-25 02:00 in Europe/Berlin (+02:00) is written without an offset: '2026-10-25-02:00'; only its repeat is '2026-10-25-02:00+01:00'",
    );
    expect(errorOf(() => berlin.assertKey("2026-10-25-03:00+01:00")).message).toContain(
      "2026-10-25 03:00 occurs only once in Europe/Berlin, so its key has no offset: '2026-10-25-03:00'",
    );
    expect(errorOf(() => berlin.assertKey("2026-10-25-02:00+05:00")).message).toContain(
      "2026-10-25 02:00 in Europe/Berlin is at +02:00 and then at +01:00: '2026-10-25-02:00' or '2026-10-25-02:00+01:00'",
    );
  });

  it("writes negative offsets on the New York fall-back repeat", () => {
    const newYork = hourlyPartitions({ start: "2026-01-01", timezone: "America/New_York" });
    expect(newYork.keysBetween("2026-11-01-00:00", "2026-11-01-02:00")).toEqual([
      "2026-11-01-00:00",
      "2026-11-01-01:00",
      "2026-11-01-01:00-05:00",
      "2026-11-01-02:00",
    ]);
    expect(windowIso(newYork, "2026-11-01-01:00-05:00")).toEqual([
      "2026-11-01T06:00:00.000Z",
      "2026-11-01T07:00:00.000Z",
    ]);
    expect(newYork.has("2026-03-08-02:00")).toBe(false);
  });

  it("keys a whole Berlin year uniquely, with abutting one-hour windows that round-trip", () => {
    const keys = berlin.keys(at("2026-12-31T23:00:00Z"));
    expect(keys).toHaveLength(8760);
    expect(keys[0]).toBe("2026-01-01-00:00");
    expect(keys.at(-1)).toBe("2026-12-31-23:00");
    expect(new Set(keys).size).toBe(8760);
    expect(keys.filter((key) => key.length > 16)).toEqual(["2026-10-25-02:00+01:00"]);
    let previousEnd = berlin.window(keys[0]!).start.getTime();
    for (const key of keys) {
      const { start, end } = berlin.window(key);
      expect(start.getTime()).toBe(previousEnd);
      expect(end.getTime() - start.getTime()).toBe(3_600_000);
      expect(berlin.keyContaining(start)).toBe(key);
      previousEnd = end.getTime();
    }
  });

  it("lists three and a half years of hours, one repeated hour a year carrying its offset", () => {
    const amsterdam = hourlyPartitions({ start: "2023-01-01", timezone: "Europe/Amsterdam" });
    const keys = amsterdam.keys(at("2026-06-01T00:00:00Z"));
    expect(keys).toHaveLength(29_929);
    expect(keys.at(-1)).toBe("2026-06-01-01:00");
    expect(keys.filter((key) => key.length > 16)).toEqual([
      "2023-10-29-02:00+01:00",
      "2024-10-27-02:00+01:00",
      "2025-10-26-02:00+01:00",
    ]);
  });

  it("names malformed keys and what was expected", () => {
    const expected = "expected YYYY-MM-DD-HH:00 (a local hour in UTC), e.g. '2026-01-31-13:00'";
    expect(errorOf(() => utc.assertKey("2026-01-01")).message).toBe(
      `invalid partition key "2026-01-01" for hourly:2026-01-01:UTC: not of the form YYYY-MM-DD-HH:mm; ${expected}; the second occurrence of an hour repeated when clocks go back carries its UTC offset, e.g. '2026-10-25-02:00+01:00'`,
    );
    expect(errorOf(() => utc.assertKey("2026-01-01-01:30")).message).toContain(
      `invalid partition key "2026-01-01-01:30" for hourly:2026-01-01:UTC: hourly partitions start on the hour, so the minutes must be 00; ${expected}`,
    );
    expect(errorOf(() => utc.assertKey("2026-01-01-24:00")).message).toContain(
      `"2026-01-01-24:00" for hourly:2026-01-01:UTC: hour 24 is not an hour of the day`,
    );
    expect(errorOf(() => utc.assertKey("2026-02-29-00:00")).message).toContain(
      `"2026-02-29-00:00" for hourly:2026-01-01:UTC: 2026-02-29 is not a calendar date`,
    );
    expect(errorOf(() => utc.assertKey("2026-01-01T01:00")).message).toContain("not of the form YYYY-MM-DD-HH:mm");
    expect(errorOf(() => utc.keysBetween("2026-01-01-05:00", "2026-01-01-04:00")).message).toBe(
      "invalid partition range for hourly:2026-01-01:UTC: '2026-01-01-05:00' is after '2026-01-01-04:00'",
    );
    expect(errorOf(() => hourlyPartitions({ start: "2026-01-01", timezone: "Mars/Olympus" })).message).toContain(
      `unknown time zone "Mars/Olympus"`,
    );
    expect(errorOf(() => hourlyPartitions({ start: "2026-03-29-02:00", timezone: "Europe/Berlin" })).message).toContain(
      `invalid hourly partitions: start "2026-03-29-02:00" is invalid: 2026-03-29 02:00 does not exist in Europe/Berlin: clocks skip from 02:00 to 03:00; expected YYYY-MM-DD or YYYY-MM-DD-HH:00`,
    );
  });
});
