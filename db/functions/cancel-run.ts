/** The current body of `ingest.cancel_run`; every migration that changes it re-creates it from here. */
export const cancelRun = /* sql */ `
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
