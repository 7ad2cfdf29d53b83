/** The current body of `ingest.claim_steps`; every migration that changes it re-creates it from here. */
export const claimSteps = /* sql */ `
create or replace function ingest.claim_steps(p_job_id text, p_step_key text, p_read_assets text[], p_group text default null, p_group_limit int default null, p_global_limit int default null)
returns jsonb language plpgsql as $$
declare
  v_steps jsonb;
  v_runs text[];
begin
  -- A claim lost in a crash costs nothing (graphile-worker's job lock is the durable record, and the
  -- same job reclaims its steps when it runs again): it need not wait for the WAL flush.
  perform set_config('synchronous_commit', 'off', true);
  -- Serialises claims of one asset partition, so two jobs never materialise it at once.
  perform pg_advisory_xact_lock(hashtext('ingest:' || p_step_key));
  -- Busy only while that other job is really running: a job graphile-worker gave up on holds no lock.
  if exists (
    select 1 from ingest.run_steps s join graphile_worker.jobs j on j.id = s.job_id::bigint
    where s.step_key = p_step_key and s.status = 'running' and s.job_id <> p_job_id and j.locked_at is not null
  ) then
    return jsonb_build_object('steps', '[]'::jsonb, 'busy', true);
  end if;
  if not exists (
    select 1 from ingest.run_steps
    where step_key = p_step_key and (status = 'queued' or (status = 'running' and job_id = p_job_id))
  ) then
    return jsonb_build_object('steps', '[]'::jsonb, 'busy', false);
  end if;
  -- At most p_group_limit materialisations of the group at once, over every worker: the group's
  -- claims take turns at its lock, so each one counts the others' committed claims. A worker that
  -- died holds its slot until its jobs are released (ingest.release_dead_workers).
  if p_group_limit is not null then
    perform pg_advisory_xact_lock(hashtext('ingest-group'), hashtext(p_group));
    if (select count(distinct s.job_id) from ingest.run_steps s join graphile_worker.jobs j on j.id = s.job_id::bigint
        where s.status = 'running' and s.group_name = p_group and s.job_id <> p_job_id and j.locked_at is not null) >= p_group_limit then
      return jsonb_build_object('steps', '[]'::jsonb, 'busy', false, 'full', true);
    end if;
  end if;
  -- At most p_global_limit materialisations at once over every worker, whatever their group.
  if p_global_limit is not null then
    perform pg_advisory_xact_lock(hashtext('ingest-global'));
    if (select count(distinct s.job_id) from ingest.run_steps s join graphile_worker.jobs j on j.id = s.job_id::bigint
        where s.status = 'running' and s.job_id <> p_job_id and j.locked_at is not null) >= p_global_limit then
      return jsonb_build_object('steps', '[]'::jsonb, 'busy', false, 'full', true);
    end if;
  end if;
  with claimed as (
    update ingest.run_steps
    set status = 'running', job_id = p_job_id, attempts = attempts + 1, started_at = coalesce(started_at, now()), group_name = p_group
    where step_key = p_step_key and (status = 'queued' or (status = 'running' and job_id = p_job_id))
    returning *
  )
  select coalesce(jsonb_agg(to_jsonb(claimed)), '[]'::jsonb) into v_steps from claimed;
  if jsonb_array_length(v_steps) = 0 then
    return jsonb_build_object('steps', v_steps, 'busy', false);
  end if;
  -- Only a run's first step updates the run row (a plain read first: it never waits on a row lock).
  select array_agg(distinct s->>'run_id') into v_runs from jsonb_array_elements(v_steps) s;
  if exists (select 1 from ingest.runs where id = any(v_runs) and status = 'queued') then
    update ingest.runs set status = 'running', started_at = now() where id = any(v_runs) and status = 'queued';
  end if;
  -- The latest materialisations of the asset and what it reads: staleness and upstream versions.
  return jsonb_build_object('steps', v_steps, 'busy', false, 'latest', (
    select coalesce(jsonb_agg(to_jsonb(m)), '[]'::jsonb) from (
      select distinct on (asset_key, partition_key) id, run_id, asset_key, partition_key, code_version, data_version,
        dependencies, upstream_versions, finished_at
      from ingest.materializations
      where asset_key = any(p_read_assets) and status = 'succeeded'
      order by asset_key, partition_key, id desc) m));
end $$;
`;
