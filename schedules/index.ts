import { nightlySources, nightlyStale } from "./nightly.ts";

/** Cron schedules of this project, run by `ingest daemon`. */
export const schedules = [nightlySources, nightlyStale];
