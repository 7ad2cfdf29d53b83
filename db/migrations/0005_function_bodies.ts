/**
 * The SQL function bodies migration 0005 created, frozen as they shipped: 0005 runs exactly these
 * (test/unit/migrations.test.ts holds it to its recorded hash). The current bodies live in
 * db/functions/, read by the newest migration that re-creates them (0008).
 */

const enqueueStep = /* sql */ `
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

const claimSteps = /* sql */ `
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

const recordMaterialization = /* sql */ `
create or replace function ingest.record_materialization(p_step_key text, p_partition_key text, p_asset_key text, m jsonb) returns bigint
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
`;

const finishSteps = /* sql */ `
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

  -- The runs' open-step counts go down last: the run rows stay locked only until commit.
  update ingest.runs r
  set open_steps = r.open_steps - 1 - coalesce((v_skipped->>r.id)::int, 0)
  where r.id = any(v_runs);
  update ingest.runs r
  set status = case
        when r.status = 'canceling' then 'canceled'
        when exists (select 1 from ingest.run_steps s where s.run_id = r.id and s.status = 'failed') then 'failed'
        else 'succeeded' end,
      error = case when r.status = 'canceling' then r.error else
        (select string_agg(s.step_key || ': ' || split_part(s.error, E'\n', 1), E'\n' order by s.step_key)
         from ingest.run_steps s where s.run_id = r.id and s.status = 'failed') end,
      finished_at = now()
  where r.id = any(v_runs) and r.open_steps = 0 and r.status in ('queued', 'running', 'canceling');
end $$;
`;

const retrySteps = /* sql */ `
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

const cancelRun = /* sql */ `
-- Cancels a run: its steps that have not started never will (their jobs go, unless another run
-- waits for them too); a step running in a materialisation another live run also waits for is let
-- go of, and the others stay 'running' until their materialisation, told through its AbortSignal
-- (workers poll ingest.canceled_jobs), ends. The run is 'canceling' until then, then 'canceled'.
-- Locks run_steps rows before the run row, in the order finish_steps and claim_steps take them.
create or replace function ingest.cancel_run(p_run_id text) returns text
language plpgsql as $$
declare
  v_status text;
  v_detached int;
  v_canceled int;
  v_removed int;
begin
  select status into v_status from ingest.runs where id = p_run_id;
  if v_status is null or v_status not in ('queued', 'running') then
    return v_status;
  end if;
  with detached as (
    update ingest.run_steps s
    set status = 'canceled', error = 'run canceled', finished_at = now()
    where s.run_id = p_run_id and s.status = 'running' and exists (
      select 1 from ingest.run_steps o join ingest.runs r on r.id = o.run_id
      where o.job_id = s.job_id and o.step_key = s.step_key and o.run_id <> s.run_id and o.status = 'running'
        and r.status in ('queued', 'running'))
    returning 1
  )
  select count(*) into v_detached from detached;
  with canceled as (
    update ingest.run_steps s
    set status = 'canceled', error = 'run canceled', finished_at = now()
    from (select step_key, status from ingest.run_steps where run_id = p_run_id and status in ('planned', 'queued') for update) b
    where s.run_id = p_run_id and s.step_key = b.step_key and s.status in ('planned', 'queued')
    returning s.step_key, b.status as was
  ), removed as (
    select graphile_worker.remove_job('ingest:' || c.step_key)
    from canceled c
    where c.was = 'queued'
      and not exists (select 1 from ingest.run_steps o where o.step_key = c.step_key and o.status = 'queued' and o.run_id <> p_run_id)
      and exists (select 1 from graphile_worker.jobs j where j.key = 'ingest:' || c.step_key and j.locked_at is null)
  )
  select (select count(*) from canceled), (select count(*) from removed) into v_canceled, v_removed;
  update ingest.runs
  set open_steps = open_steps - v_detached - v_canceled,
      status = case when open_steps - v_detached - v_canceled = 0 then 'canceled' else 'canceling' end,
      error = 'canceled',
      finished_at = case when open_steps - v_detached - v_canceled = 0 then now() end
  where id = p_run_id and status in ('queued', 'running')
  returning status into v_status;
  return coalesce(v_status, (select status from ingest.runs where id = p_run_id));
end $$;
`;

const canceledJobs = /* sql */ `
-- Of these jobs, those whose every running step belongs to a canceled run: their materialisations
-- should stop.
create or replace function ingest.canceled_jobs(p_job_ids text[]) returns text[]
language sql stable as $$
  select coalesce(array_agg(job_id), '{}') from (
    select s.job_id from ingest.run_steps s join ingest.runs r on r.id = s.run_id
    where s.job_id = any(p_job_ids) and s.status = 'running'
    group by s.job_id
    having bool_and(r.status in ('canceling', 'canceled'))) c;
$$;
`;

const releaseWorkerJobs = /* sql */ `
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

const releaseDeadWorkers = /* sql */ `
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

/** What 0005 created, in order. */
export const functionBodies0005: readonly string[] = [
  enqueueStep,
  claimSteps,
  recordMaterialization,
  finishSteps,
  retrySteps,
  cancelRun,
  canceledJobs,
  releaseWorkerJobs,
  releaseDeadWorkers,
];

/** The signatures 0005 dropped. */
export const formerSignatures0005: readonly string[] = [
  "ingest.claim_steps(text, text, text[])",
  "ingest.claim_steps(text, text, text[], text, int)",
];
