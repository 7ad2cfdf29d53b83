/** The current body of `ingest.release_worker_jobs`; every migration that changes it re-creates it from here. */
export const releaseWorkerJobs = /* sql */ `
-- Unlocks the jobs the given workers hold (graphile-worker's force_unlock_workers, what
-- WorkerUtils.forceUnlockWorkers runs), so any worker runs them again now, and records it. Each job
-- gets one more graphile-worker attempt: our steps count attempts themselves (a crash spends one, a
-- job returned by a stopping worker does not), and steps whose last attempt a crash took end failed.
create or replace function ingest.release_worker_jobs(p_worker_ids text[], p_reason text, p_crashed boolean) returns jsonb
language plpgsql as $$
declare
  v_held jsonb;
  r record;
begin
  select coalesce(jsonb_agg(jsonb_build_object('worker', locked_by, 'job', id) order by id), '[]') into v_held
  from graphile_worker.jobs where locked_by = any(p_worker_ids);
  perform graphile_worker.force_unlock_workers(p_worker_ids);
  if jsonb_array_length(v_held) = 0 then
    return v_held;
  end if;
  perform count(*) from graphile_worker.jobs j,
    lateral graphile_worker.reschedule_jobs(array[j.id],
      attempts => case when p_crashed then null else greatest(j.attempts - 1, 0) end,
      max_attempts => greatest(j.max_attempts, j.attempts + 1)) rescheduled
  where j.id in (select (h->>'job')::bigint from jsonb_array_elements(v_held) h);
  update ingest.workers w
  set released_at = now(), release_reason = p_reason,
      released_jobs = w.released_jobs || array(select (h->>'job')::bigint from jsonb_array_elements(v_held) h where h->>'worker' = w.id)
  where w.id = any(p_worker_ids);

  for r in
    select s.job_id, s.step_key, s.asset_key, s.partition_key, max(s.attempts) as attempts, max(s.max_attempts) as max_attempts
    from ingest.run_steps s
    where s.status = 'running' and s.job_id in (select h->>'job' from jsonb_array_elements(v_held) h)
    group by s.job_id, s.step_key, s.asset_key, s.partition_key
  loop
    if not p_crashed then
      update ingest.run_steps set attempts = attempts - 1, error = null
      where job_id = r.job_id and step_key = r.step_key and status = 'running';
    elsif r.attempts >= r.max_attempts then
      perform ingest.finish_steps(r.job_id, r.step_key, r.asset_key, r.partition_key, 'failed',
        format('attempt %s of %s: %s', r.attempts, r.max_attempts, p_reason), null);
      perform graphile_worker.complete_jobs(array[r.job_id::bigint]);
    else
      update ingest.run_steps set error = format('attempt %s: %s; trying again', r.attempts, p_reason)
      where job_id = r.job_id and step_key = r.step_key and status = 'running';
    end if;
  end loop;
  return v_held;
end $$;
`;
