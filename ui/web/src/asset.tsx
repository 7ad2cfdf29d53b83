import { useMemo, useState } from "preact/hooks";
import { get } from "./api.ts";
import { duration, href, shortId, time, version } from "./format.ts";
import { LineageTree } from "./lineage.tsx";
import { useLiveData } from "./live.ts";
import { Materialise, type Requested, RunRequested } from "./materialise.tsx";
import { stateLine, stateNames, viewsOf } from "./states.ts";
import type { AssetStatus, AssetSummary, DeadLetter, DownstreamNode, LineageNode, Materialization } from "./types.ts";

interface AssetDetail {
  asset: AssetSummary;
  statuses: AssetStatus[];
  materializations: Materialization[];
  lineage: { upstream: LineageNode | null; downstream: DownstreamNode[] };
  deadLetters: DeadLetter[];
  deadLetterSummary: { assetKey: string; reason: string; count: number }[];
  pending: { consumer: string; sourceKey: string; reason: string; since: string }[];
}

const countNames = ["extracted", "written", "unchanged", "removed", "deadLettered", "pending"];

function Downstream({ nodes }: { nodes: DownstreamNode[] }) {
  if (nodes.length === 0) return null;
  return (
    <ul class="tree">
      {nodes.map((n) => (
        <li key={n.materializationId}>
          <a href={href("asset", n.assetKey)}>{n.assetKey}</a>
          {n.partitionKey && ` [${n.partitionKey}]`} data {version(n.dataVersion)} ·{" "}
          <a href={href("run", n.runId)}>run {shortId(n.runId)}</a> · {time(n.finishedAt)}
          <Downstream nodes={n.downstream} />
        </li>
      ))}
    </ul>
  );
}

/** One asset: its state and why, its materialisations, checks, freshness, dead letters, pending records and lineage. */
export function AssetPage({ assetKey }: { assetKey: string }) {
  const [detail, error] = useLiveData(
    () => get<AssetDetail>("/asset", { key: assetKey }),
    ["runs", "run_steps", "materializations", "dead_letters"],
    [assetKey],
  );
  const [requested, setRequested] = useState<Requested>();
  const view = useMemo(
    () => detail && viewsOf(detail.statuses, new Set(detail.asset.partitions ? [assetKey] : [])).get(assetKey),
    [detail],
  );
  if (error) return <p class="error">{error}</p>;
  if (!detail || !view) return <p class="muted">loading {assetKey}…</p>;
  const { asset } = detail;
  const latest = detail.statuses[0];
  return (
    <div class="page asset-page">
      <h1>
        {assetKey} <span class={`chip state-${view.state}`} data-state={view.state}>{stateNames[view.state]}</span>
      </h1>
      <p class="muted">
        {asset.kind} · {asset.writes || "—"} · code v{asset.codeVersion} · group {asset.group}
        {asset.partitions && ` · partitions ${asset.partitions}`}
      </p>
      {asset.description && <p>{asset.description}</p>}
      <p>
        upstream:{" "}
        {asset.deps.length ? asset.deps.map((d) => <a key={d} href={href("asset", d)} class="tag">{d}</a>) : "none"}
      </p>
      <p>
        downstream: {asset.dependents.length
          ? asset.dependents.map((d) => <a key={d} href={href("asset", d)} class="tag">{d}</a>)
          : "none"}
      </p>
      <p>
        <Materialise
          label={asset.partitions ? "Materialise stale partitions" : "Materialise"}
          selection={assetKey}
          stale={asset.partitions !== undefined}
          onRequested={setRequested}
        />{" "}
        <a href={href("runs", "", { asset: assetKey })}>its runs</a>
      </p>
      {requested && <RunRequested requested={requested} onClose={() => setRequested(undefined)} />}

      <section>
        <h2>State</h2>
        {view.partitions && <p>{stateLine(view)}</p>}
        {view.reasons.length > 0 ? <ul class="why">{view.reasons.map((r) => <li key={r}>{r}</li>)}</ul> : (
          <p>
            {view.state === "fresh"
              ? "fresh: nothing it reads has changed since its last materialisation"
              : stateNames[view.state]}
          </p>
        )}
        {view.failure && <pre class="error">{view.failure.error}</pre>}
        {latest?.freshness && (
          <p class={latest.freshness.state === "missed" ? "error" : ""}>freshness {latest.freshness.reason}</p>
        )}
        {latest && latest.checks.length > 0 && (
          <table>
            <thead>
              <tr>
                <th>check</th>
                <th>severity</th>
                <th>passed</th>
                <th>metadata</th>
              </tr>
            </thead>
            <tbody>
              {latest.checks.map((c) => (
                <tr key={c.name} class={c.passed ? "" : "error"}>
                  <td>{c.name}</td>
                  <td>{c.severity}</td>
                  <td>{c.passed ? "yes" : "no"}</td>
                  <td>
                    <code>{JSON.stringify(c.metadata ?? {})}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {asset.partitions && (
          <details>
            <summary>{detail.statuses.length} partitions</summary>
            <table>
              <tbody>
                {detail.statuses.map((s) => (
                  <tr key={s.partitionKey}>
                    <td>{s.partitionKey}</td>
                    <td>{s.state}</td>
                    <td>{s.lastMaterialization ? version(s.lastMaterialization.dataVersion) : ""}</td>
                    <td>{s.reasons.join("; ")}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        )}
      </section>

      <section>
        <h2>Materialisations</h2>
        {detail.materializations.length === 0
          ? <p class="muted">never materialised</p>
          : (
            <table class="materializations">
              <thead>
                <tr>
                  <th>finished</th>
                  <th>run</th>
                  {asset.partitions && <th>partition</th>}
                  <th>status</th>
                  <th>try</th>
                  <th>time</th>
                  <th>data</th>
                  <th>code</th>
                  {countNames.map((c) => <th key={c}>{c}</th>)}
                  <th>consumed</th>
                </tr>
              </thead>
              <tbody>
                {detail.materializations.map((m) => (
                  <tr key={m.id} class={m.status === "failed" ? "error" : ""}>
                    <td>{time(m.finishedAt)}</td>
                    <td>
                      <a href={href("run", m.runId)}>{shortId(m.runId)}</a>
                    </td>
                    {asset.partitions && <td>{m.partitionKey}</td>}
                    <td>{m.status}</td>
                    <td>{m.attempt}</td>
                    <td>{duration(m.durationMs)}</td>
                    <td>{version(m.dataVersion)}</td>
                    <td>v{m.codeVersion}</td>
                    {countNames.map((c) => <td key={c} class="num">{m.counts[c] ?? ""}</td>)}
                    <td>
                      {m.consumed.map((c) =>
                        `${c.assetKey}${c.partitionKey ? `[${c.partitionKey}]` : ""}@${version(c.dataVersion)}`
                      ).join(", ")}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
      </section>

      <section>
        <h2>Lineage</h2>
        <div class="columns">
          <div>
            <h3>Upstream: what its latest materialisation read</h3>
            {detail.lineage.upstream
              ? <LineageTree node={detail.lineage.upstream} />
              : <p class="muted">no successful materialisation</p>}
          </div>
          <div>
            <h3>Downstream: what read it</h3>
            {detail.lineage.downstream.length
              ? <Downstream nodes={detail.lineage.downstream} />
              : <p class="muted">nothing has read it yet</p>}
          </div>
        </div>
      </section>

      <section>
        <h2>Dead letters</h2>
        {detail.deadLetterSummary.length === 0 ? <p class="muted">none open</p> : (
          <p>
            {detail.deadLetterSummary.map((d) => (
              <a key={d.reason} class="tag" href={href("dead-letters", "", { asset: assetKey, reason: d.reason })}>
                {d.reason}: {d.count}
              </a>
            ))}
          </p>
        )}
        {detail.deadLetters.slice(0, 5).map((d) => (
          <p key={d.id} class="muted">
            #{d.id} {d.sourceKey ?? ""} — {d.issues.map((i) => `${i.path}: ${i.message}`).join("; ")}
          </p>
        ))}
      </section>

      {detail.pending.length > 0 && (
        <section>
          <h2>Pending records</h2>
          <table>
            <tbody>
              {detail.pending.map((p) => (
                <tr key={p.sourceKey}>
                  <td>{p.sourceKey}</td>
                  <td>{p.reason}</td>
                  <td>since {time(p.since)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </div>
  );
}
