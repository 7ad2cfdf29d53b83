/**
 * The tag of a run that asked for a full refresh (`ingest materialize --full-refresh`): incremental
 * assets see it through `ctx.runs()` and reload everything they read. Its own module, so an asset kind
 * that reads it loads nothing of the run queue.
 */
export const fullRefreshTag = "ingest/full_refresh";
