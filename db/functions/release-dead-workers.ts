/** The current body of `ingest.release_dead_workers`; every migration that changes it re-creates it from here. */
export const releaseDeadWorkers = /* sql */ `
-- The liveness sweep, run by every worker every heartbeat (one at a time; the others skip a round):
-- releases the materialisation jobs of workers whose heartbeat is older than their timeout (or that
-- never heartbeat, once the job has been locked that long), and fails the steps left 'running' by
-- a job that is gone or failed for good.
create or replace function ingest.release_dead_workers(p_timeout_ms int) returns jsonb
language plpgsql as $$
declare
  v_dead text[];
  v_released jsonb := '[]';
  r record;
begin
  if not pg_try_advisory_xact_lock(hashtext('ingest-sweep'), 0) then
    return v_released;
  end if;
  select array_agg(distinct j.locked_by) into v_dead
  from graphile_worker.jobs j left join ingest.workers w on w.id = j.locked_by
  where j.task_identifier = 'ingest.materialize' and j.locked_by is not null
    and j.locked_at < now() - make_interval(secs => coalesce(w.timeout_ms, p_timeout_ms) / 1000.0)
    and (w.id is null or w.stopped_at is not null
         or coalesce(w.last_seen, '-infinity') < now() - make_interval(secs => w.timeout_ms / 1000.0));
  if v_dead is not null then
    insert into ingest.workers (id, heartbeat_ms, timeout_ms, last_seen)
    select d, 0, p_timeout_ms, null from unnest(v_dead) d
    on conflict (id) do nothing;
    v_released := ingest.release_worker_jobs(v_dead, 'the worker running it stopped heartbeating', true);
  end if;

  for r in
    select distinct s.job_id, s.step_key, s.asset_key, s.partition_key, j.last_error
    from ingest.run_steps s left join graphile_worker.jobs j on j.id = s.job_id::bigint
    where s.status = 'running' and (j.id is null or (j.locked_at is null and j.attempts >= j.max_attempts))
  loop
    perform ingest.finish_steps(r.job_id, r.step_key, r.asset_key, r.partition_key, 'failed',
      coalesce('its job failed for good: ' || r.last_error, 'its job is gone'), null);
  end loop;

  delete from ingest.workers where coalesce(last_seen, started_at) < now() - interval '7 days';
  return v_released;
end $$;
`;
