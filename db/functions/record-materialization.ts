/** The current body of `ingest.record_materialization`; every migration that changes it re-creates it from here. */
export const recordMaterialization = /* sql */ `
create or replace function ingest.record_materialization(p_step_key text, p_partition_key text, p_asset_key text, m jsonb) returns bigint
language plpgsql as $$
declare
  v_id bigint;
begin
  -- One statement: the materialisation, its lineage edges and its check results.
  with recorded as (
    insert into ingest.materializations (run_id, asset_key, partition_key, status, code_version, data_version, dependencies,
      upstream_versions, counts, metadata, error, attempt, trace_id, started_at, finished_at, duration_ms)
    values (m->>'runId', p_asset_key, p_partition_key, case when m->>'error' is null then 'succeeded' else 'failed' end,
      m->>'codeVersion', m->>'dataVersion', array(select jsonb_array_elements_text(m->'dependencies')),
      m->'upstreamVersions', m->'counts', m->'metadata', m->>'error', (m->>'attempt')::int, m->>'traceId',
      (m->>'startedAt')::timestamptz, (m->>'finishedAt')::timestamptz,
      round(extract(epoch from ((m->>'finishedAt')::timestamptz - (m->>'startedAt')::timestamptz)) * 1000)::int)
    returning id
  ), edges as (
    insert into ingest.lineage_edges (materialization_id, upstream_asset, upstream_partition, upstream_materialization_id, upstream_data_version)
    select (select id from recorded), e->>'asset', e->>'partition', (e->>'materializationId')::bigint, e->>'dataVersion'
    from jsonb_array_elements(case when m->>'error' is null then m->'upstreamEdges' else '[]'::jsonb end) e
  ), checks as (
    insert into ingest.asset_checks (materialization_id, asset_key, partition_key, check_name, passed, severity, description, metadata)
    select (select id from recorded), p_asset_key, p_partition_key, c->>'name', (c->>'passed')::boolean, c->>'severity', c->>'description', coalesce(c->'metadata', '{}'::jsonb)
    from jsonb_array_elements(coalesce(m->'checks', '[]'::jsonb)) c
  )
  select id into v_id from recorded;
  return v_id;
end $$;
`;
