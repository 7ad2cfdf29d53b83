/** The current body of `ingest.finish_steps`; every migration that changes it re-creates it from here. */
export const finishSteps = /* sql */ `
-- As in 0001, and: a step may end 'canceled' (its run was canceled while it ran), and a canceling
-- run ends 'canceled' once its last step is done, whatever that step's outcome.
create or replace function ingest.finish_steps(p_job_id text, p_step_key text, p_asset_key text, p_partition_key text, p_status text, p_error text, m jsonb)
returns void language plpgsql as $$
declare
  v_runs text[];
  v_materialization bigint;
  v_skipped jsonb := '{}';
  v_queued int;
begin
  -- graphile-worker completes the job right after, with a synchronous commit that flushes this one
  -- too; if Postgres dies before that, both are lost together and the job runs again (at least once,
  -- and materialisations are idempotent).
  perform set_config('synchronous_commit', 'off', true);
  if m is not null then
    v_materialization := ingest.record_materialization(p_step_key, p_partition_key, p_asset_key, m);
  end if;
  with finished as (
    update ingest.run_steps
    set status = p_status, error = p_error, finished_at = now(),
        materialization_id = case when p_status in ('failed', 'canceled') then null else v_materialization end
    where step_key = p_step_key and job_id = p_job_id and status = 'running'
    returning run_id
  )
  select array_agg(run_id order by run_id) into v_runs from finished;
  if v_runs is null then
    return;
  end if;

  -- Each step counts the upstream steps it still waits for. The decrement takes the row lock of the
  -- waiting step only, so two upstreams finishing at once are serialised there and exactly one of
  -- them sees the count reach zero and queues the step; no run-wide lock is needed.
  if p_status = 'failed' then
    with recursive blocked(run_id, step_key) as (
      select r, p_step_key from unnest(v_runs) r
      union
      select s.run_id, s.step_key from ingest.run_steps s join blocked b on s.run_id = b.run_id and s.upstream @> array[b.step_key]
    ), skipped as (
      update ingest.run_steps s
      set status = 'skipped', error = 'upstream step ' || p_step_key || ' failed', finished_at = now()
      from blocked b
      where s.run_id = b.run_id and s.step_key = b.step_key and s.status = 'planned'
      returning s.run_id
    )
    select coalesce(jsonb_object_agg(run_id, n), '{}') into v_skipped
    from (select run_id, count(*) as n from skipped group by run_id) per_run;
  elsif p_status in ('succeeded', 'fresh') then
    with ready as (
      update ingest.run_steps s
      set remaining = remaining - 1, status = case when s.remaining = 1 then 'queued' else s.status end
      where s.upstream @> array[p_step_key] and s.run_id = any(v_runs) and s.status = 'planned'
      returning s.run_id, s.step_key, s.asset_key, s.partition_key, s.max_attempts, s.status
    )
    select count(*) into v_queued
    from (select distinct on (step_key) * from ready where status = 'queued' order by step_key, run_id) r
    join ingest.runs on runs.id = r.run_id,
    lateral ingest.enqueue_step(r.asset_key, r.partition_key, r.max_attempts, runs.traceparent) job;
  end if;
  -- ('canceled': what is downstream of the step was canceled with its run.)

  -- The runs' open-step counts go down last, in one statement (the run rows stay locked only until
  -- commit); the run that reaches zero closes in the same one: CASE reads the failed steps only then.
  update ingest.runs r
  set open_steps = r.open_steps - 1 - coalesce((v_skipped->>r.id)::int, 0),
      status = case
        when r.open_steps - 1 - coalesce((v_skipped->>r.id)::int, 0) > 0
          or r.status not in ('queued', 'running', 'canceling') then r.status
        when r.status = 'canceling' then 'canceled'
        when exists (select 1 from ingest.run_steps s where s.run_id = r.id and s.status = 'failed') then 'failed'
        else 'succeeded' end,
      error = case
        when r.open_steps - 1 - coalesce((v_skipped->>r.id)::int, 0) > 0
          or r.status not in ('queued', 'running', 'canceling') or r.status = 'canceling' then r.error
        else (select string_agg(s.step_key || ': ' || split_part(s.error, E'\n', 1), E'\n' order by s.step_key)
              from ingest.run_steps s where s.run_id = r.id and s.status = 'failed') end,
      finished_at = case
        when r.open_steps - 1 - coalesce((v_skipped->>r.id)::int, 0) > 0
          or r.status not in ('queued', 'running', 'canceling') then r.finished_at
        else now() end
  where r.id = any(v_runs);
end $$;
`;
