import { CronExpressionParser } from "cron-parser";
import { IANAZone } from "luxon";
import type { PartitionsDefinition, TimeWindowPartitions } from "./partitions.ts";

/**
 * How fresh an asset must be, checked by `ingest status` and alerted on by `ingest daemon`:
 *
 * - `{ maxLagMinutes: 90 }`: its latest successful materialisation is at most 90 minutes old.
 * - `{ cron: "0 6 * * *", timezone: "Europe/Berlin" }`: by each tick of the cron (read in the time zone,
 *   UTC by default, as schedules read theirs), it has materialised since the tick before.
 *
 * A time-partitioned asset is judged by its latest partition (the newest window that has ended): with
 * `maxLagMinutes` it must be materialised at most that long after its window ended; with `cron`, by each
 * tick the partition that was latest at the tick must be materialised. A statically partitioned asset is
 * judged by its least recently materialised partition. A lag that is not a positive number, a bad cron
 * expression or an unknown time zone is a `DefinitionError` naming the asset.
 *
 * @example
 * ```ts
 * const hourly: FreshnessPolicy = { maxLagMinutes: 90 };
 * const byMorning: FreshnessPolicy = { cron: "0 6 * * *", timezone: "Europe/Berlin" };
 * ```
 */
export type FreshnessPolicy = MaxLagFreshness | CronFreshness;

/** A freshness target as a maximum age: see {@link FreshnessPolicy}. */
export interface MaxLagFreshness {
  /** How old, in minutes, the latest successful materialisation may be: a positive number (fractions allowed). */
  maxLagMinutes: number;
}

/** A freshness target as deadlines: see {@link FreshnessPolicy}. */
export interface CronFreshness {
  /**
   * A cron expression (five fields, or six with seconds first): by each tick, the asset has materialised
   * since the tick before.
   */
  cron: string;
  /** The IANA time zone the cron expression is read in (default UTC). */
  timezone?: string;
}

/**
 * Whether an asset meets its freshness target now, as `ingest status` shows it (`freshness` in its
 * `--json`) and the daemon alerts on. Times are on the clock it was judged by (the daemon's, which
 * tests and soak runs may compress).
 */
export interface Freshness {
  /** `met`, or `missed` (past the deadline without a materialisation that counts). */
  state: "met" | "missed";
  /** The target in words: `at most 90 min old`, `by each tick of 0 6 * * * in Europe/Berlin`. */
  target: string;
  /** For a partitioned asset, the partition judged (the latest, or the least recently materialised static one). */
  partitionKey?: string;
  /** When what was judged last materialised successfully; absent when it never did. */
  materializedAt?: Date;
  /** Missed: since when (the deadline that passed); absent when it never materialised and nothing says since when. */
  missedSince?: Date;
  /** Missed: by how much, in milliseconds (now − `missedSince`). */
  overdueMs?: number;
  /** Met: by when it must materialise again (absent when nothing more is due, as for partitions that have ended). */
  deadline?: Date;
  /**
   * The verdict in words: `missed since 2026-12-04 03:00:00Z, by 35 min: last materialised 2026-12-04
   * 01:25:00Z (at most 90 min old)`.
   */
  reason: string;
}

/** What is wrong with a freshness target (empty when nothing is), each problem a sentence that names the field. */
export function freshnessProblems(policy: FreshnessPolicy): string[] {
  if (typeof policy !== "object" || policy === null) {
    return ["freshness must be { maxLagMinutes } or { cron, timezone }"];
  }
  const lag = "maxLagMinutes" in policy;
  const cron = "cron" in policy;
  if (lag === cron) return ["freshness needs exactly one of maxLagMinutes and cron"];
  if (lag) {
    const minutes = policy.maxLagMinutes;
    return typeof minutes === "number" && Number.isFinite(minutes) && minutes > 0
      ? []
      : [`freshness.maxLagMinutes must be a positive number of minutes, got ${String(minutes)}`];
  }
  const timezone = policy.timezone ?? "UTC";
  if (!IANAZone.isValidZone(timezone)) {
    return [`freshness: unknown time zone '${timezone}': expected an IANA zone name such as 'Europe/Berlin'`];
  }
  try {
    CronExpressionParser.parse(policy.cron, { tz: timezone, strict: false });
    return [];
  } catch (error) {
    return [`freshness: cron expression '${policy.cron}' is invalid: ${(error as Error).message}`];
  }
}

/** The target in words, as {@link Freshness.target} gives it. */
export function describeTarget(policy: FreshnessPolicy): string {
  return "maxLagMinutes" in policy
    ? `at most ${duration(policy.maxLagMinutes * MINUTE)} old`
    : `by each tick of ${policy.cron} in ${policy.timezone ?? "UTC"}`;
}

/**
 * Judges an asset against its target at `now`. `materialized` holds, per partition (`""` for an
 * unpartitioned asset), when its latest successful materialisation finished, on the same clock as `now`.
 */
export function freshnessOf(
  policy: FreshnessPolicy,
  partitions: PartitionsDefinition | undefined,
  materialized: ReadonlyMap<string, Date>,
  now: Date,
): Freshness {
  const target = describeTarget(policy);
  if (partitions?.kind === "time") {
    return latestPartition(policy, partitions as TimeWindowPartitions, materialized, now);
  }
  let partitionKey: string | undefined;
  let at: Date | undefined;
  if (partitions) {
    // Every partition counts: the one materialised longest ago (or never) decides.
    for (const key of partitions.keys(now)) {
      const time = materialized.get(key);
      if (time === undefined) {
        [partitionKey, at] = [key, undefined];
        break;
      }
      if (partitionKey === undefined || time < at!) [partitionKey, at] = [key, time];
    }
  } else {
    at = materialized.get("");
  }
  const which = partitionKey === undefined ? "" : `partition ${partitionKey} `;
  const judged = { target, ...(partitionKey !== undefined && { partitionKey }), ...(at && { materializedAt: at }) };
  if (at === undefined) return { ...judged, state: "missed", reason: `missed: ${which}never materialised` };
  const last = `${which}last materialised ${time(at)}`;
  if ("maxLagMinutes" in policy) {
    const deadline = new Date(at.getTime() + policy.maxLagMinutes * MINUTE);
    return deadline >= now
      ? { ...judged, state: "met", deadline, reason: `met until ${time(deadline)}: ${last} (${target})` }
      : missed(judged, deadline, now, `${last} (${target})`);
  }
  // By tick t, it must have materialised since the tick before t: the first deadline it misses is the
  // second tick after it materialised.
  const ticks = cronOf(policy);
  const deadline = ticks.after(ticks.after(at));
  return deadline > now
    ? { ...judged, state: "met", deadline, reason: `met until ${time(deadline)}: ${last} (${target})` }
    : missed(judged, deadline, now, `${last}, not since the tick before ${time(deadline)} (${target})`);
}

/** A time-partitioned asset: the latest window that has ended is what must be there. */
function latestPartition(
  policy: FreshnessPolicy,
  partitions: TimeWindowPartitions,
  materialized: ReadonlyMap<string, Date>,
  now: Date,
): Freshness {
  const target = describeTarget(policy);
  if ("maxLagMinutes" in policy) {
    const lag = policy.maxLagMinutes * MINUTE;
    const key = partitions.lastCompleteKey(now);
    if (key === undefined) return { target, state: "met", reason: `met: no partition has ended yet (${target})` };
    const at = materialized.get(key);
    const ended = partitions.window(key).end;
    const judged = { target, partitionKey: key, ...(at && { materializedAt: at }) };
    if (at) {
      const next = nextWindowEnd(partitions, ended);
      const deadline = next && new Date(next.getTime() + lag);
      return {
        ...judged,
        state: "met",
        ...(deadline && { deadline }),
        reason: `met${deadline ? ` until ${time(deadline)}` : ""}: latest partition ${key} materialised ${
          time(at)
        } (${target} after its window ends)`,
      };
    }
    const deadline = new Date(ended.getTime() + lag);
    const why = `latest partition ${key} (ended ${time(ended)}) not materialised (${target} after its window ends)`;
    return deadline >= now
      ? { ...judged, state: "met", deadline, reason: `met until ${time(deadline)}: ${why}` }
      : missed(judged, deadline, now, why);
  }
  // At each tick, the partition that was the latest at that tick must be there.
  const ticks = cronOf(policy);
  const tick = ticks.atOrBefore(now);
  const key = partitions.lastCompleteKey(tick);
  if (key === undefined) {
    return { target, state: "met", reason: `met: no partition had ended by the tick at ${time(tick)} (${target})` };
  }
  const at = materialized.get(key);
  const judged = { target, partitionKey: key, ...(at && { materializedAt: at }) };
  if (at) {
    const deadline = nextDemand(ticks, partitions, materialized, tick);
    return {
      ...judged,
      state: "met",
      ...(deadline && { deadline }),
      reason: `met${deadline ? ` until ${time(deadline)}` : ""}: partition ${key} materialised ${time(at)} (${target})`,
    };
  }
  // Due since the first tick after its window ended.
  const since = ticks.after(new Date(partitions.window(key).end.getTime() - 1));
  return missed(judged, since, now, `partition ${key} not materialised (${target})`);
}

function missed(judged: Omit<Freshness, "state" | "reason">, since: Date, now: Date, why: string): Freshness {
  const overdueMs = now.getTime() - since.getTime();
  return {
    ...judged,
    state: "missed",
    missedSince: since,
    overdueMs,
    reason: `missed since ${time(since)}, by ${duration(overdueMs)}: ${why}`,
  };
}

/** The end of the window after the one that ends at `end`; undefined past the partitions' end. */
function nextWindowEnd(partitions: TimeWindowPartitions, end: Date): Date | undefined {
  try {
    return partitions.window(partitions.keyContaining(end)).end;
  } catch {
    return undefined;
  }
}

/** The first tick after `tick` whose latest partition is one not yet materialised (looked for over 1,000 ticks). */
function nextDemand(
  ticks: CronTicks,
  partitions: TimeWindowPartitions,
  materialized: ReadonlyMap<string, Date>,
  tick: Date,
): Date | undefined {
  let at = tick;
  for (let i = 0; i < 1_000; i++) {
    at = ticks.after(at);
    const key = partitions.lastCompleteKey(at);
    if (key !== undefined && !materialized.has(key)) return at;
  }
  return undefined;
}

interface CronTicks {
  /** The first tick strictly after `time`. */
  after(time: Date): Date;
  /** The latest tick at or before `time`. */
  atOrBefore(time: Date): Date;
}

function cronOf(policy: CronFreshness): CronTicks {
  const parse = (from: Date) =>
    CronExpressionParser.parse(policy.cron, { tz: policy.timezone ?? "UTC", currentDate: from });
  return {
    after: (time) => parse(time).next().toDate(),
    atOrBefore(time) {
      // prev() can disagree with next() by an hour around daylight saving changes (as dueTicks notes):
      // it only finds where to start, a few ticks back, and next() decides, as schedules do.
      const back = parse(new Date(time.getTime() + 1));
      let anchor = time;
      for (let i = 0; i < 3; i++) anchor = back.prev().toDate();
      const forward = parse(new Date(anchor.getTime() - 2 * HOUR));
      let latest = forward.next().toDate();
      for (let tick = forward.next().toDate(); tick <= time; tick = forward.next().toDate()) latest = tick;
      return latest;
    },
  };
}

const MINUTE = 60_000;
const HOUR = 3_600_000;

/** A time as `ingest status` shows it: `2026-12-04 01:30:07Z`. */
const time = (value: Date) => value.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");

/** A duration as people say it: `40 s`, `35 min`, `5.5 h`, `3.2 d`. */
export function duration(ms: number): string {
  if (ms < 90_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 120 * MINUTE) return `${Math.round(ms / MINUTE)} min`;
  if (ms < 48 * HOUR) return `${(ms / HOUR).toFixed(1)} h`;
  return `${(ms / (24 * HOUR)).toFixed(1)} d`;
}
