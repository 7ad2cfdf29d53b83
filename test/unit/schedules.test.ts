import { describe, expect, it } from "vitest";
import { defineAsset, DefinitionError } from "../../engine/asset.ts";
import { defineAssetSensor } from "../../engine/automation/asset-sensor.ts";
import { compressedClock } from "../../engine/automation/clock.ts";
import { defineFileSensor } from "../../engine/automation/file-sensor.ts";
import { defineSchedule, dueTicks, nextTick, partitionsOfTick } from "../../engine/automation/schedule.ts";
import { assetGraphOf } from "../../engine/definitions.ts";
import { dailyPartitions, staticPartitions } from "../../engine/partitions.ts";

const iso = (dates: Date[]) => dates.map((d) => d.toISOString());
const at = (text: string) => new Date(text);

describe("schedule ticks", () => {
  const nightly = defineSchedule({ name: "nightly", cron: "0 2 * * *", timezone: "Europe/Berlin", select: "*" });

  it("reads the cron expression in its time zone, across daylight saving changes", () => {
    expect(nextTick(nightly, at("2026-01-10T12:00:00Z")).toISOString()).toBe("2026-01-11T01:00:00.000Z");
    expect(nextTick(nightly, at("2026-07-10T12:00:00Z")).toISOString()).toBe("2026-07-11T00:00:00.000Z");
    // 02:00 does not exist on 29 March 2026 in Berlin: the tick comes when the clocks jump, at 03:00 CEST.
    expect(nextTick(nightly, at("2026-03-28T12:00:00Z")).toISOString()).toBe("2026-03-29T01:00:00.000Z");
    // 02:00 happens twice on 25 October 2026: one tick.
    const first = nextTick(nightly, at("2026-10-24T12:00:00Z"));
    expect(first.toISOString()).toBe("2026-10-25T00:00:00.000Z");
    expect(nextTick(nightly, first).toISOString()).toBe("2026-10-26T01:00:00.000Z");
  });

  it("runs a tick that is due on time and nothing before it", () => {
    expect(iso(dueTicks(nightly, at("2026-01-10T12:00:00Z"), at("2026-01-11T01:00:05Z")).run)).toEqual([
      "2026-01-11T01:00:00.000Z",
    ]);
    expect(dueTicks(nightly, at("2026-01-11T01:00:00Z"), at("2026-01-11T01:00:05Z"))).toEqual({ run: [] });
  });

  it("skip: runs no missed tick, and counts them", () => {
    const due = dueTicks(nightly, at("2026-01-01T12:00:00Z"), at("2026-01-11T09:00:00Z"));
    expect(due.run).toEqual([]);
    expect(due.skipped).toMatchObject({
      count: 10,
      first: at("2026-01-02T01:00:00Z"),
      last: at("2026-01-11T01:00:00Z"),
    });
    expect(due.skipped!.reason).toBe("missed: 10 ticks more than 60000 ms late (catch-up: skip)");
  });

  it("skip: a late tick within the tolerance still runs; the missed ones before it are skipped", () => {
    const due = dueTicks(nightly, at("2026-01-01T12:00:00Z"), at("2026-01-11T01:00:30Z"));
    expect(iso(due.run)).toEqual(["2026-01-11T01:00:00.000Z"]);
    expect(due.skipped).toMatchObject({
      count: 9,
      first: at("2026-01-02T01:00:00Z"),
      last: at("2026-01-10T01:00:00Z"),
    });
  });

  it("last n: runs the latest n due ticks, oldest first, and skips the rest", () => {
    const lastTwo = defineSchedule({ ...nightly, catchUp: { last: 2 } });
    const due = dueTicks(lastTwo, at("2026-01-01T12:00:00Z"), at("2026-01-11T09:00:00Z"));
    expect(iso(due.run)).toEqual(["2026-01-10T01:00:00.000Z", "2026-01-11T01:00:00.000Z"]);
    expect(due.skipped).toMatchObject({ count: 8, last: at("2026-01-09T01:00:00Z") });
    expect(due.skipped!.reason).toBe("missed: 8 ticks before the latest 2 (catch-up: last 2)");
  });

  it("does not walk a year of minutes to find what a long-stopped daemon missed", () => {
    const everyMinute = defineSchedule({ name: "m", cron: "* * * * *", select: "*", catchUp: { last: 3 } });
    const due = dueTicks(everyMinute, at("2025-01-01T00:00:00Z"), at("2026-01-01T00:00:30Z"));
    expect(iso(due.run)).toEqual(["2025-12-31T23:58:00.000Z", "2025-12-31T23:59:00.000Z", "2026-01-01T00:00:00.000Z"]);
    expect(due.skipped!.count).toBeGreaterThanOrEqual(10_000);
    expect(due.skipped!.last.toISOString()).toBe("2025-12-31T23:57:00.000Z");
    expect(due.skipped!.reason).toContain("10,000+ ticks");
  });

  it("sees the same ticks around daylight saving changes whether it catches up or not", () => {
    const lastFive = defineSchedule({ ...nightly, catchUp: { last: 5 } });
    // cron-parser's prev() skips 29 March (02:00 does not exist) and would count 25 October twice.
    expect(iso(dueTicks(lastFive, at("2026-03-27T12:00:00Z"), at("2026-03-31T12:00:00Z")).run)).toEqual([
      "2026-03-28T01:00:00.000Z",
      "2026-03-29T01:00:00.000Z",
      "2026-03-30T00:00:00.000Z",
      "2026-03-31T00:00:00.000Z",
    ]);
    const halfPast = defineSchedule({ ...lastFive, cron: "30 2 * * *" });
    expect(iso(dueTicks(halfPast, at("2026-10-23T12:00:00Z"), at("2026-10-27T12:00:00Z")).run)).toEqual([
      "2026-10-24T00:30:00.000Z",
      "2026-10-25T00:30:00.000Z",
      "2026-10-26T01:30:00.000Z",
      "2026-10-27T01:30:00.000Z",
    ]);
  });

  it("names the last complete time window as the tick's partition", () => {
    const days = dailyPartitions({ start: "2026-01-01", timezone: "Europe/Berlin" });
    const daily = defineAsset({ key: "ec/daily", codeVersion: "1", partitions: days, materialize: async () => ({}) });
    const summary = defineAsset({
      key: "ec/summary",
      deps: ["ec/daily"],
      codeVersion: "1",
      materialize: async () => ({}),
    });
    const schedule = defineSchedule({
      name: "daily",
      cron: "0 2 * * *",
      timezone: "Europe/Berlin",
      select: "*",
      partition: "tick",
    });
    const graph = assetGraphOf({ assets: [daily, summary], resources: {}, schedules: [schedule] });
    expect(partitionsOfTick(schedule, graph, graph.order, at("2026-02-01T01:00:00Z"))).toEqual(["2026-01-31"]);
    expect(() => partitionsOfTick(schedule, graph, graph.order, at("2026-01-01T01:00:00Z"))).toThrow(
      /no partition of daily:2026-01-01:Europe\/Berlin is complete/,
    );
  });
});

describe("checking schedules and sensors with the definitions", () => {
  const asset = defineAsset({ key: "ec/orders", codeVersion: "1", materialize: async () => ({}) });
  const regional = defineAsset({
    key: "ec/regional",
    codeVersion: "1",
    partitions: staticPartitions(["eu", "us"]),
    materialize: async () => ({}),
  });

  it("reports every problem, naming the schedule or sensor", () => {
    const problem = () =>
      assetGraphOf({
        assets: [asset, regional],
        resources: {},
        schedules: [
          defineSchedule({ name: "bad cron", cron: "61 * * * *", select: "ec/orders" }),
          defineSchedule({ name: "zone", cron: "0 2 * * *", timezone: "Mars/Olympus", select: "ec/orderz" }),
          defineSchedule({
            name: "partitioned",
            cron: "0 2 * * *",
            select: "ec/regional",
            partition: "tick",
            catchUp: { last: 0 },
          }),
        ],
        sensors: [
          defineFileSensor({ name: "files", folder: "x", files: [{ glob: "*.csv", select: "group:nope" }] }),
          defineAssetSensor({ name: "files", watch: "ec/orders", select: "ec/orders", intervalMs: 0 }),
        ],
      });
    expect(problem).toThrow(DefinitionError);
    const message = (() => {
      try {
        problem();
      } catch (error) {
        return (error as Error).message;
      }
    })()!;
    expect(message).toContain("schedule 'bad cron': the name is invalid");
    expect(message).toContain("schedule 'bad cron': cron expression '61 * * * *' is invalid");
    expect(message).toContain("schedule 'zone': unknown time zone 'Mars/Olympus'");
    expect(message).toContain("schedule 'zone': select 'ec/orderz': unknown asset 'ec/orderz'");
    expect(message).toContain("schedule 'partitioned': catchUp must be");
    expect(message).toContain(
      `schedule 'partitioned': partition: "tick" needs time partitions, but ec/regional has static:eu,us`,
    );
    expect(message).toContain("file-sensor 'files': files '*.csv' select 'group:nope'");
    expect(message).toContain("asset-sensor 'files' is declared twice");
    expect(message).toContain("asset-sensor 'files': intervalMs must be a positive number, got 0");
  });
});

describe("the compressed clock", () => {
  it("runs from its start at its rate, and says how long until a time in real milliseconds", () => {
    const origin = Date.now();
    const clock = compressedClock({ start: at("2026-01-01T00:00:00Z"), rate: 3600, origin });
    const now = clock.now().getTime();
    expect(now).toBeGreaterThanOrEqual(Date.parse("2026-01-01T00:00:00Z"));
    const inAnHour = clock.msUntil(new Date(now + 3_600_000));
    expect(inAnHour).toBeGreaterThan(0);
    expect(inAnHour).toBeLessThanOrEqual(1000);
    expect(clock.msUntil(at("2025-01-01T00:00:00Z"))).toBe(0);
  });
});
