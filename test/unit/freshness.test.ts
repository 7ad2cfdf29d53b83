import { describe, expect, it } from "vitest";
import { defineAsset, DefinitionError } from "../../engine/asset.ts";
import { buildAssetGraph } from "../../engine/asset-graph.ts";
import { compressedClock } from "../../engine/automation/clock.ts";
import { freshnessOf, type FreshnessPolicy } from "../../engine/freshness.ts";
import { dailyPartitions, hourlyPartitions, staticPartitions } from "../../engine/partitions.ts";

const at = (text: string) => new Date(text);
const once = (time: string) => new Map([["", at(time)]]);
const never = new Map<string, Date>();
const judge = (policy: FreshnessPolicy, materialized: Map<string, Date>, now: string) =>
  freshnessOf(policy, undefined, materialized, at(now));

describe("freshness with a maximum lag", () => {
  const ninety = { maxLagMinutes: 90 };

  it("is met while the latest materialisation is at most that old, and says until when", () => {
    const f = judge(ninety, once("2026-01-10T10:00:00Z"), "2026-01-10T11:30:00Z");
    expect(f).toMatchObject({ state: "met", deadline: at("2026-01-10T11:30:00Z"), target: "at most 90 min old" });
    expect(f.reason).toBe(
      "met until 2026-01-10 11:30:00Z: last materialised 2026-01-10 10:00:00Z (at most 90 min old)",
    );
  });

  it("is missed after that, since the deadline and by how much", () => {
    const f = judge(ninety, once("2026-01-10T10:00:00Z"), "2026-01-10T12:05:00Z");
    expect(f).toMatchObject({ state: "missed", missedSince: at("2026-01-10T11:30:00Z"), overdueMs: 35 * 60_000 });
    expect(f.reason).toBe(
      "missed since 2026-01-10 11:30:00Z, by 35 min: last materialised 2026-01-10 10:00:00Z (at most 90 min old)",
    );
  });

  it("is missed when never materialised, with nothing to say since when", () => {
    expect(judge(ninety, never, "2026-01-10T12:00:00Z")).toEqual({
      state: "missed",
      target: "at most 90 min old",
      reason: "missed: never materialised",
    });
  });
});

describe("freshness by cron ticks", () => {
  const six = { cron: "0 6 * * *", timezone: "Europe/Berlin" };

  it("is met at a tick when materialised since the tick before, until the second tick after it materialised", () => {
    // 06:00 in Berlin is 05:00Z in winter. Materialised Monday 07:00: Tuesday's tick wants it since Monday 06:00.
    const f = judge(six, once("2026-01-12T06:00:00Z"), "2026-01-13T09:00:00Z");
    expect(f).toMatchObject({ state: "met", deadline: at("2026-01-14T05:00:00Z") });
    expect(f.target).toBe("by each tick of 0 6 * * * in Europe/Berlin");
  });

  it("is missed from the tick whose tick before came after the latest materialisation", () => {
    const f = judge(six, once("2026-01-12T06:00:00Z"), "2026-01-14T08:00:00Z");
    expect(f).toMatchObject({ state: "missed", missedSince: at("2026-01-14T05:00:00Z"), overdueMs: 3 * 3_600_000 });
  });

  it("counts a materialisation exactly at a tick as since that tick", () => {
    expect(judge(six, once("2026-01-12T05:00:00Z"), "2026-01-14T04:59:59Z").state).toBe("met");
    expect(judge(six, once("2026-01-12T05:00:00Z"), "2026-01-14T05:00:00Z")).toMatchObject({
      state: "missed",
      missedSince: at("2026-01-14T05:00:00Z"),
    });
  });

  it("reads the cron in its time zone, in summer and in winter", () => {
    expect(judge(six, once("2026-07-06T05:00:00Z"), "2026-07-07T12:00:00Z")).toMatchObject({
      state: "met",
      deadline: at("2026-07-08T04:00:00Z"),
    });
    expect(judge({ cron: "0 6 * * *" }, once("2026-07-06T07:00:00Z"), "2026-07-07T12:00:00Z")).toMatchObject({
      state: "met",
      deadline: at("2026-07-08T06:00:00Z"),
      target: "by each tick of 0 6 * * * in UTC",
    });
  });

  it("across the spring change: a tick in the skipped hour comes when the clocks jump", () => {
    // 02:30 does not exist on 29 March 2026 in Berlin: that day's tick is at 03:30 CEST (01:30Z).
    const f = judge(
      { cron: "30 2 * * *", timezone: "Europe/Berlin" },
      once("2026-03-28T02:00:00Z"),
      "2026-03-29T12:00:00Z",
    );
    expect(f).toMatchObject({ state: "met", deadline: at("2026-03-30T00:30:00Z") });
    const late = judge(
      { cron: "30 2 * * *", timezone: "Europe/Berlin" },
      once("2026-03-28T01:00:00Z"),
      "2026-03-29T12:00:00Z",
    );
    expect(late).toMatchObject({ state: "missed", missedSince: at("2026-03-29T01:30:00Z") });
  });

  it("across the autumn change: a tick in the repeated hour counts once", () => {
    // 02:30 happens twice on 25 October 2026 in Berlin; the tick is the first (00:30Z), the next day's at 01:30Z.
    const cron = { cron: "30 2 * * *", timezone: "Europe/Berlin" };
    expect(judge(cron, once("2026-10-24T01:00:00Z"), "2026-10-25T12:00:00Z")).toMatchObject({
      state: "met",
      deadline: at("2026-10-26T01:30:00Z"),
    });
    expect(judge(cron, once("2026-10-24T00:00:00Z"), "2026-10-25T01:00:00Z")).toMatchObject({
      state: "missed",
      missedSince: at("2026-10-25T00:30:00Z"),
    });
  });

  it("is missed since no tick when never materialised", () => {
    expect(judge(six, never, "2026-01-14T08:00:00Z")).toMatchObject({
      state: "missed",
      reason: "missed: never materialised",
    });
  });
});

describe("freshness of partitioned assets", () => {
  const days = dailyPartitions({ start: "2026-01-01", timezone: "Europe/Berlin" });

  it("with a lag: the latest partition must be there within the lag after its window ends", () => {
    const lag = { maxLagMinutes: 120 };
    // 2026-01-10 in Berlin ends at 2026-01-10T23:00Z.
    const missing = freshnessOf(
      lag,
      days,
      new Map([["2026-01-09", at("2026-01-10T00:30:00Z")]]),
      at("2026-01-11T00:30:00Z"),
    );
    expect(missing).toMatchObject({ state: "met", partitionKey: "2026-01-10", deadline: at("2026-01-11T01:00:00Z") });
    const late = freshnessOf(
      lag,
      days,
      new Map([["2026-01-09", at("2026-01-10T00:30:00Z")]]),
      at("2026-01-11T02:00:00Z"),
    );
    expect(late).toMatchObject({
      state: "missed",
      partitionKey: "2026-01-10",
      missedSince: at("2026-01-11T01:00:00Z"),
      overdueMs: 3_600_000,
    });
    const there = freshnessOf(
      lag,
      days,
      new Map([["2026-01-10", at("2026-01-11T00:10:00Z")]]),
      at("2026-01-11T20:00:00Z"),
    );
    // The next day ends at 2026-01-11T23:00Z: due two hours after.
    expect(there).toMatchObject({ state: "met", partitionKey: "2026-01-10", deadline: at("2026-01-12T01:00:00Z") });
  });

  it("with a lag, partitions that have ended for good stay met once the last is there", () => {
    const december = dailyPartitions({ start: "2025-12-01", end: "2026-01-01", timezone: "Europe/Berlin" });
    const f = freshnessOf(
      { maxLagMinutes: 60 },
      december,
      new Map([["2025-12-31", at("2026-01-01T01:00:00Z")]]),
      at("2026-06-01T00:00:00Z"),
    );
    expect(f).toMatchObject({ state: "met", partitionKey: "2025-12-31" });
    expect(f.deadline).toBeUndefined();
  });

  it("with a cron: at each tick the partition latest at the tick must be there, missed since the first tick after it ended", () => {
    const cron = { cron: "0 6 * * *", timezone: "Europe/Berlin" };
    const f = freshnessOf(
      cron,
      days,
      new Map([["2026-01-09", at("2026-01-10T01:00:00Z")]]),
      at("2026-01-11T07:00:00Z"),
    );
    expect(f).toMatchObject({ state: "missed", partitionKey: "2026-01-10", missedSince: at("2026-01-11T05:00:00Z") });
    // Before the tick, the tick before asked for 2026-01-09, which is there; the next tick asks for 2026-01-10.
    const early = freshnessOf(
      cron,
      days,
      new Map([["2026-01-09", at("2026-01-10T01:00:00Z")]]),
      at("2026-01-11T04:00:00Z"),
    );
    expect(early).toMatchObject({ state: "met", partitionKey: "2026-01-09", deadline: at("2026-01-11T05:00:00Z") });
  });

  it("hourly partitions across the autumn change: the repeated hour is its own partition", () => {
    const hours = hourlyPartitions({ start: "2026-10-24", timezone: "Europe/Berlin" });
    // 02:00 CEST is 00:00Z–01:00Z, its repeat 02:00 CET 01:00Z–02:00Z.
    const first = freshnessOf({ maxLagMinutes: 30 }, hours, new Map(), at("2026-10-25T01:40:00Z"));
    expect(first).toMatchObject({
      state: "missed",
      partitionKey: "2026-10-25-02:00",
      missedSince: at("2026-10-25T01:30:00Z"),
    });
    const repeat = freshnessOf({ maxLagMinutes: 30 }, hours, new Map(), at("2026-10-25T02:40:00Z"));
    expect(repeat).toMatchObject({ partitionKey: "2026-10-25-02:00+01:00", missedSince: at("2026-10-25T02:30:00Z") });
  });

  it("static partitions: the least recently materialised partition decides, and a missing one misses", () => {
    const regions = staticPartitions(["eu", "us"]);
    const both = new Map([["eu", at("2026-01-10T10:00:00Z")], ["us", at("2026-01-10T11:00:00Z")]]);
    expect(freshnessOf({ maxLagMinutes: 90 }, regions, both, at("2026-01-10T12:00:00Z"))).toMatchObject({
      state: "missed",
      partitionKey: "eu",
      missedSince: at("2026-01-10T11:30:00Z"),
    });
    expect(
      freshnessOf(
        { maxLagMinutes: 90 },
        regions,
        new Map([["us", at("2026-01-10T11:00:00Z")]]),
        at("2026-01-10T12:00:00Z"),
      ),
    )
      .toMatchObject({ state: "missed", partitionKey: "eu", reason: "missed: partition eu never materialised" });
  });
});

describe("freshness on a compressed clock", () => {
  it("reads materialisation times as the clock read them then", () => {
    const origin = Date.parse("2026-05-01T00:00:00Z");
    const clock = compressedClock({ start: at("2030-01-01T00:00:00Z"), rate: 60, origin });
    // One real second after the origin, the clock reads one minute after its start.
    expect(clock.at!(new Date(origin + 1_000))).toEqual(at("2030-01-01T00:01:00Z"));
  });
});

describe("freshness targets are checked when the definitions load", () => {
  const asset = (freshness: unknown) =>
    defineAsset({
      key: "shop/orders",
      codeVersion: "1",
      freshness: freshness as FreshnessPolicy,
      materialize: async () => ({}),
    });
  const problem = (freshness: unknown) => {
    try {
      buildAssetGraph({ assets: [asset(freshness)], resources: {} });
      return undefined;
    } catch (error) {
      expect(error).toBeInstanceOf(DefinitionError);
      return (error as Error).message;
    }
  };

  it("accepts a positive lag and a cron in a known zone", () => {
    expect(problem({ maxLagMinutes: 0.5 })).toBeUndefined();
    expect(problem({ cron: "0 6 * * 1-5", timezone: "America/New_York" })).toBeUndefined();
  });

  it("names the asset and what is wrong", () => {
    expect(problem({ maxLagMinutes: 0 })).toBe(
      "asset 'shop/orders': freshness.maxLagMinutes must be a positive number of minutes, got 0",
    );
    expect(problem({ maxLagMinutes: -5 })).toMatch(/^asset 'shop\/orders': freshness.maxLagMinutes must be a positive/);
    expect(problem({ maxLagMinutes: Number.NaN })).toMatch(/got NaN/);
    expect(problem({ cron: "0 61 * * *", timezone: "Europe/Berlin" })).toMatch(
      /^asset 'shop\/orders': freshness: cron expression '0 61 \* \* \*' is invalid/,
    );
    expect(problem({ cron: "0 6 * * *", timezone: "Europe/Berlyn" })).toBe(
      "asset 'shop/orders': freshness: unknown time zone 'Europe/Berlyn': expected an IANA zone name such as 'Europe/Berlin'",
    );
    expect(problem({ maxLagMinutes: 5, cron: "0 6 * * *" })).toBe(
      "asset 'shop/orders': freshness needs exactly one of maxLagMinutes and cron",
    );
  });
});
