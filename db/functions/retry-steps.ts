/** The current body of `ingest.retry_steps`; every migration that changes it re-creates it from here. */
export const retrySteps = /* sql */ `
-- As in 0001, except that the steps of canceled runs end there instead of trying again.
create or replace function ingest.retry_steps(p_job_id text, p_step_key text, p_asset_key text, p_partition_key text, m jsonb,
  p_delay_ms int, p_max_attempts int, p_traceparent text) returns void
language plpgsql as $$
begin
  perform ingest.record_materialization(p_step_key, p_partition_key, p_asset_key, m);
  update ingest.run_steps s set status = 'queued', error = m->>'error', job_id = null
  from ingest.runs r
  where r.id = s.run_id and r.status in ('queued', 'running')
    and s.step_key = p_step_key and s.job_id = p_job_id and s.status = 'running';
  if found then
    -- The running job still holds the key: graphile-worker then adds a new job rather than touching it.
    perform ingest.enqueue_step(p_asset_key, p_partition_key, p_max_attempts, p_traceparent, p_delay_ms);
  end if;
  perform ingest.finish_steps(p_job_id, p_step_key, p_asset_key, p_partition_key, 'canceled', m->>'error', null);
end $$;
`;
