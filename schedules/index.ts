/** Cron schedules of this project (none yet). */
export const schedules = [];
