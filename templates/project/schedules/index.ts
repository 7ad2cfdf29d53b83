import { defineSchedule } from "ingest-graph";

/** Every night at 02:00 (in the zone below), the sources are read again; only what changed goes further. */
export const nightly = defineSchedule({
  name: "nightly",
  description: "re-read the sources and load what changed",
  cron: "0 2 * * *",
  timezone: "Europe/Berlin",
  select: "*",
  catchUp: { last: 1 },
});

/** Cron schedules, run by `ingest daemon`. */
export const schedules = [nightly];
