/** The current body of `ingest.canceled_jobs`; every migration that changes it re-creates it from here. */
export const canceledJobs = /* sql */ `
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
