import { CronExpressionParser } from "cron-parser";
import type { AssetGraph } from "../asset-graph.ts";
import type { TimeWindowPartitions } from "../partitions.ts";

/**
 * What happens to ticks the daemon did not evaluate in time (it was down, or busy): `skip` runs a
 * tick only when it is at most `toleranceMs` late; `{ last: n }` runs the latest `n` due ticks.
 * Older ticks are recorded as skipped, with the reason.
 */
export type CatchUp = "skip" | { last: number };

/**
 * What {@link defineSchedule} takes. Checked with the rest of the project by `defineDefinitions`: a bad
 * name, cron expression, time zone, catch-up or selection is a `DefinitionError` naming the schedule.
 */
export interface ScheduleSpec {
  /** Unique among schedules and sensors: letters, digits and `_`. */
  name: string;
  /** What it is for, for people reading the definitions. */
  description?: string;
  /** A cron expression (five fields, or six with seconds first), as cron-parser reads it. */
  cron: string;
  /** The IANA time zone the cron expression is read in (default UTC): `0 2 * * *` in Europe/Berlin is 02:00 local, summer and winter. */
  timezone?: string;
  /** The assets each tick materialises, in the selection syntax (`group:ec`, `graph/Person+`, `*`). */
  select: string;
  /** Materialise only the stale ones, and what turns out stale downstream of them. */
  staleOnly?: boolean;
  /**
   * Partitions for the selection's partitioned assets: `"tick"` is the last time window complete at
   * the tick (the nightly tick at 02:00 materialises yesterday), or a function of the tick.
   */
  partition?: "tick" | ((tick: Date) => string | string[]);
  /** What happens to ticks missed while the daemon was down or busy (default `"skip"`); see {@link CatchUp}. */
  catchUp?: CatchUp;
  /** With `catchUp: "skip"`: how late (on the daemon's clock) a tick may run (default 60 s). */
  toleranceMs?: number;
  /** Tags of the runs it requests. */
  tags?: Record<string, string>;
}

/** A declared schedule, defaults filled in: what `defineSchedule` returns and `defineDefinitions` takes in `schedules`. */
export interface ScheduleDefinition extends ScheduleSpec {
  /** Always `schedule`. */
  kind: "schedule";
  /** As given, or `UTC`. */
  timezone: string;
  /** As given, or `"skip"`. */
  catchUp: CatchUp;
  /** As given, or 60 000. */
  toleranceMs: number;
}

/**
 * Declares a cron schedule: at each tick the daemon (`ingest daemon`) requests one run of the selection,
 * exactly once however many daemons run. It only fills in defaults; `defineDefinitions` checks it.
 *
 * @example
 * ```ts
 * export const nightly = defineSchedule({
 *   name: "nightly",
 *   description: "re-read the products and load what changed",
 *   cron: "0 2 * * *",
 *   timezone: "Europe/Berlin",
 *   select: "*",
 *   catchUp: { last: 1 },
 * });
 * ```
 *
 * @example Yesterday's partition of the daily assets, every night at 01:00 UTC
 * ```ts
 * export const daily = defineSchedule({ name: "daily_orders", cron: "0 1 * * *", select: "ec/daily_orders+", partition: "tick" });
 * ```
 */
export function defineSchedule(spec: ScheduleSpec): ScheduleDefinition {
  return {
    ...spec,
    kind: "schedule",
    timezone: spec.timezone ?? "UTC",
    catchUp: spec.catchUp ?? "skip",
    toleranceMs: spec.toleranceMs ?? 60_000,
  };
}

const cronOf = (schedule: ScheduleDefinition, from: Date) =>
  CronExpressionParser.parse(schedule.cron, { tz: schedule.timezone, currentDate: from });

/** The first scheduled instant strictly after `after`. */
export function nextTick(schedule: ScheduleDefinition, after: Date): Date {
  return cronOf(schedule, after).next().toDate();
}

export interface DueTicks {
  /** The ticks to run, oldest first. */
  run: Date[];
  /** The due ticks not run, by the catch-up policy: how many (past 10,000, those walked) and which. */
  skipped?: { count: number; first: Date; last: Date; reason: string };
}

const countCap = 10_000;

/** Which scheduled instants in (`after`, `now`] run, and which are skipped by the catch-up policy. */
export function dueTicks(schedule: ScheduleDefinition, after: Date, now: Date): DueTicks {
  const keep = schedule.catchUp === "skip" ? 1 : schedule.catchUp.last;
  // The latest `keep` due ticks, oldest first; the ones pushed out are skipped.
  const latest: Date[] = [];
  let count = 0;
  let first: Date | undefined;
  let last: Date | undefined;
  const skip = (tick: Date) => {
    first ??= tick;
    last = tick;
    count++;
  };
  let forward = cronOf(schedule, after);
  let walked = 0;
  let jumped = false;
  for (let tick = forward.next().toDate(); tick <= now; tick = forward.next().toDate()) {
    latest.push(tick);
    if (latest.length > keep) skip(latest.shift()!);
    if (++walked === countCap) {
      // A daemon down for a year does not walk every minute of it: start again just before the
      // latest ticks. prev() finds them, but disagrees with next() by an hour around daylight saving
      // changes, so it only picks where to start and next() decides, as everywhere else.
      const back = cronOf(schedule, new Date(now.getTime() + 1));
      let anchor = now;
      for (let i = 0; i < keep + 2; i++) anchor = back.prev().toDate();
      if (anchor > tick) [forward, jumped] = [cronOf(schedule, anchor), true];
    }
  }
  if (latest.length === 0) return { run: [] };
  const onTime = schedule.catchUp !== "skip" || now.getTime() - latest[0]!.getTime() <= schedule.toleranceMs;
  if (!onTime) skip(latest.shift()!);
  if (count === 0) return { run: latest };
  const counted = `${jumped ? `${countCap.toLocaleString("en")}+` : count} tick${count === 1 ? "" : "s"}`;
  const reason = schedule.catchUp === "skip"
    ? `missed: ${counted} more than ${schedule.toleranceMs} ms late (catch-up: skip)`
    : `missed: ${counted} before the latest ${keep} (catch-up: last ${keep})`;
  return { run: latest, skipped: { count, first: first!, last: last!, reason } };
}

/** The time partitioning shared by the selection's partitioned assets, for `partition: "tick"`; problems when there is none. */
export function tickPartitioning(graph: AssetGraph, keys: Iterable<string>): TimeWindowPartitions | string {
  const partitionings = new Map<string, { definition: TimeWindowPartitions | undefined; assets: string[] }>();
  for (const key of keys) {
    const definition = graph.byKey.get(key)!.partitions;
    if (!definition) continue;
    const entry = partitionings.get(definition.id) ??
      partitionings.set(definition.id, {
        definition: definition.kind === "time" ? (definition as TimeWindowPartitions) : undefined,
        assets: [],
      }).get(definition.id)!;
    entry.assets.push(key);
  }
  if (partitionings.size === 0) return 'partition: "tick" needs a partitioned asset in the selection';
  if (partitionings.size > 1) {
    return `partition: "tick" needs one partitioning, but the selection has ${
      [...partitionings].map(([id, e]) => `${id} (${e.assets.join(", ")})`).join(" and ")
    }`;
  }
  const [id, entry] = [...partitionings][0]!;
  return entry.definition ??
    `partition: "tick" needs time partitions, but ${entry.assets.join(", ")} ha${
      entry.assets.length === 1 ? "s" : "ve"
    } ${id}`;
}

/** The partitions a tick materialises, or undefined for the whole selection; throws when the tick names none. */
export function partitionsOfTick(
  schedule: ScheduleDefinition,
  graph: AssetGraph,
  keys: Iterable<string>,
  tick: Date,
): string[] | undefined {
  if (schedule.partition === undefined) return undefined;
  if (typeof schedule.partition === "function") {
    const named = schedule.partition(tick);
    return Array.isArray(named) ? named : [named];
  }
  const partitioning = tickPartitioning(graph, keys);
  if (typeof partitioning === "string") throw new Error(partitioning);
  const key = partitioning.lastCompleteKey(tick);
  if (key === undefined) {
    throw new NoPartitionYet(`no partition of ${partitioning.id} is complete at ${tick.toISOString()}`);
  }
  return [key];
}

/** The tick comes before the first partition ends: the tick is skipped, not failed. */
export class NoPartitionYet extends Error {
  override name = "NoPartitionYet";
}
