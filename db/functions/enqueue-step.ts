/** The current body of `ingest.enqueue_step`; every migration that changes it re-creates it from here. */
export const enqueueStep = /* sql */ `
-- A step's job carries the most urgent priority of the runs waiting on it (graphile-worker's
-- priority: lower runs first), recomputed whenever the job is added or joined, so a shared step
-- never makes an urgent run wait behind the slow one that asked first.
create or replace function ingest.enqueue_step(p_asset_key text, p_partition_key text, p_max_attempts int, p_traceparent text, p_delay_ms int default 0)
returns void language sql as $$
  select graphile_worker.add_job('ingest.materialize',
    json_build_object('assetKey', p_asset_key, 'partitionKey', p_partition_key, 'traceparent', p_traceparent),
    run_at => now() + make_interval(secs => p_delay_ms / 1000.0),
    max_attempts => p_max_attempts,
    job_key => 'ingest:' || k.step_key,
    job_key_mode => 'preserve_run_at',
    priority => (select coalesce(min(r.priority), 0) from ingest.run_steps s join ingest.runs r on r.id = s.run_id
                 where s.step_key = k.step_key and s.status = 'queued'))
  from (select case when p_partition_key = '' then p_asset_key else p_asset_key || ':' || p_partition_key end as step_key) k;
$$;
`;
