import { defineSchedule } from "../engine/automation/schedule.ts";

/**
 * Every night at 02:00 in Berlin (summer and winter), the sources are read again: staging keeps
 * only what changed, so downstream assets see new data versions only where there is new data,
 * and the eager sensor (sensors/eager.ts) refreshes exactly those. A daemon that was down at 02:00
 * runs the night's refresh once when it comes back.
 */
export const nightlySources = defineSchedule({
  name: "nightly_sources",
  description: "re-read every source system",
  cron: "0 2 * * *",
  timezone: "Europe/Berlin",
  select: "group:ec or group:crm or group:chat",
  catchUp: { last: 1 },
});

/**
 * At 03:30, after the sources and what they triggered, everything still stale is materialised:
 * assets whose code version or dependencies changed, or that read an upstream that changed while
 * they failed.
 */
export const nightlyStale = defineSchedule({
  name: "nightly_stale",
  description: "materialise whatever is still stale",
  cron: "30 3 * * *",
  timezone: "Europe/Berlin",
  select: "*",
  staleOnly: true,
  catchUp: { last: 1 },
});
