/**
 * The step state machine as SQL functions: each transition is one round trip, atomic, and sees the
 * other workers' committed transitions after taking the run locks (each statement in a plpgsql
 * function takes a fresh snapshot). Same approach as graphile-worker's own `get_job`/`complete_job`.
 */
export const stepFunctions = /* sql */ `
-- The one place the job of a step is shaped. Its key is the asset partition, not the run: a second
-- request for a step that is already queued joins that job, and one materialisation serves every
-- run waiting for it. A running job's key is released by graphile-worker, so a request made while
-- it runs gets a new job.
create function ingest.enqueue_step(p_asset_key text, p_partition_key text, p_max_attempts int, p_traceparent text, p_delay_ms int default 0)
returns void language sql as $$
  select graphile_worker.add_job('ingest.materialize',
    json_build_object('assetKey', p_asset_key, 'partitionKey', p_partition_key, 'traceparent', p_traceparent),
    run_at => now() + make_interval(secs => p_delay_ms / 1000.0),
    max_attempts => p_max_attempts,
    job_key => 'ingest:' || case when p_partition_key = '' then p_asset_key else p_asset_key || ':' || p_partition_key end,
    job_key_mode => 'preserve_run_at');
$$;

create function ingest.claim_steps(p_job_id text, p_step_key text, p_read_assets text[]) returns jsonb
language plpgsql as $$
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
  with claimed as (
    update ingest.run_steps
    set status = 'running', job_id = p_job_id, attempts = attempts + 1, started_at = coalesce(started_at, now())
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

create function ingest.record_materialization(p_step_key text, p_partition_key text, p_asset_key text, m jsonb) returns bigint
language plpgsql as $$
declare
  v_id bigint;
begin
  insert into ingest.materializations (run_id, asset_key, partition_key, status, code_version, data_version, dependencies,
    upstream_versions, counts, metadata, error, attempt, trace_id, started_at, finished_at, duration_ms)
  values (m->>'runId', p_asset_key, p_partition_key, case when m->>'error' is null then 'succeeded' else 'failed' end,
    m->>'codeVersion', m->>'dataVersion', array(select jsonb_array_elements_text(m->'dependencies')),
    m->'upstreamVersions', m->'counts', m->'metadata', m->>'error', (m->>'attempt')::int, m->>'traceId',
    (m->>'startedAt')::timestamptz, (m->>'finishedAt')::timestamptz,
    round(extract(epoch from ((m->>'finishedAt')::timestamptz - (m->>'startedAt')::timestamptz)) * 1000)::int)
  returning id into v_id;
  if m->>'error' is null and jsonb_array_length(m->'upstreamEdges') > 0 then
    insert into ingest.lineage_edges (materialization_id, upstream_asset, upstream_partition, upstream_materialization_id, upstream_data_version)
    select v_id, e->>'asset', e->>'partition', (e->>'materializationId')::bigint, e->>'dataVersion'
    from jsonb_array_elements(m->'upstreamEdges') e;
  end if;
  if jsonb_array_length(coalesce(m->'checks', '[]'::jsonb)) > 0 then
    insert into ingest.asset_checks (materialization_id, asset_key, partition_key, check_name, passed, severity, description, metadata)
    select v_id, p_asset_key, p_partition_key, c->>'name', (c->>'passed')::boolean, c->>'severity', c->>'description', coalesce(c->'metadata', '{}'::jsonb)
    from jsonb_array_elements(m->'checks') c;
  end if;
  return v_id;
end $$;

create function ingest.finish_steps(p_job_id text, p_step_key text, p_asset_key text, p_partition_key text, p_status text, p_error text, m jsonb)
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
        materialization_id = case when p_status = 'failed' then null else v_materialization end
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
  else
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

  -- The runs' open-step counts go down last: the run rows stay locked only until commit.
  update ingest.runs r
  set open_steps = r.open_steps - 1 - coalesce((v_skipped->>r.id)::int, 0)
  where r.id = any(v_runs);
  update ingest.runs r
  set status = case when exists (select 1 from ingest.run_steps s where s.run_id = r.id and s.status = 'failed') then 'failed' else 'succeeded' end,
      error = (select string_agg(s.step_key || ': ' || split_part(s.error, E'\n', 1), E'\n' order by s.step_key)
               from ingest.run_steps s where s.run_id = r.id and s.status = 'failed'),
      finished_at = now()
  where r.id = any(v_runs) and r.open_steps = 0 and r.status in ('queued', 'running');
end $$;

create function ingest.retry_steps(p_job_id text, p_step_key text, p_asset_key text, p_partition_key text, m jsonb,
  p_delay_ms int, p_max_attempts int, p_traceparent text) returns void
language plpgsql as $$
begin
  perform ingest.record_materialization(p_step_key, p_partition_key, p_asset_key, m);
  update ingest.run_steps set status = 'queued', error = m->>'error', job_id = null
  where step_key = p_step_key and job_id = p_job_id and status = 'running';
  -- The running job still holds the key: graphile-worker then adds a new job rather than touching it.
  perform ingest.enqueue_step(p_asset_key, p_partition_key, p_max_attempts, p_traceparent, p_delay_ms);
end $$;
`;
