import { useState } from "preact/hooks";
import { get, post } from "./api.ts";
import { href, shortId } from "./format.ts";
import { useLiveData } from "./live.ts";
import type { DeadLetter } from "./types.ts";

interface Replayed {
  runId: string;
  replayed: number;
  stillFailing: number;
  skipped: number;
}

/** Records that could not be loaded, by asset and reason, with their payload and issues; replay after a fix. */
export function DeadLettersPage({ query }: { query: URLSearchParams }) {
  const asset = query.get("asset") ?? "";
  const reason = query.get("reason") ?? "";
  const status = query.get("status") ?? "open";
  const [summary] = useLiveData(
    () => get<{ assetKey: string; reason: string; count: number }[]>("/dead-letters/summary"),
    ["dead_letters"],
  );
  const [letters, error] = useLiveData(
    () => get<DeadLetter[]>("/dead-letters", { asset, reason, status, limit: 200 }),
    ["dead_letters"],
    [query.toString()],
  );
  const [replayed, setReplayed] = useState<Replayed | string>();
  const [busy, setBusy] = useState(false);
  return (
    <div class="page">
      <h1>Dead letters</h1>
      <p class="muted">
        Records that failed their model. Fix the model (or the source), then replay: those that pass now are staged, and
        {" "}
        <code>materialize --stale</code> (or “Materialise stale” on the graph) loads them.
      </p>
      <table class="summary">
        <thead>
          <tr>
            <th>asset</th>
            <th>reason</th>
            <th>open</th>
          </tr>
        </thead>
        <tbody>
          {(summary ?? []).map((s) => (
            <tr key={`${s.assetKey}:${s.reason}`} class={s.assetKey === asset && s.reason === reason ? "current" : ""}>
              <td>
                <a href={href("dead-letters", "", { asset: s.assetKey })}>{s.assetKey}</a>
              </td>
              <td>
                <a href={href("dead-letters", "", { asset: s.assetKey, reason: s.reason })}>{s.reason}</a>
              </td>
              <td class="num">{s.count}</td>
            </tr>
          ))}
          {summary?.length === 0 && (
            <tr>
              <td colSpan={3} class="muted">no open dead letters</td>
            </tr>
          )}
        </tbody>
      </table>
      <div class="filters">
        <span>
          {asset || reason ? `showing ${asset || "every asset"}${reason ? `, ${reason}` : ""}` : "showing every asset"}
          {" "}
          ·{" "}
          <a href={href("dead-letters", "", { asset, reason, status: status === "open" ? "all" : undefined })}>
            {status === "open" ? "include replayed and superseded" : "only open ones"}
          </a>
          {(asset || reason) && (
            <>
              · <a href={href("dead-letters")}>all assets</a>
            </>
          )}
        </span>
        <button
          type="button"
          class="primary"
          disabled={busy || !letters?.some((l) => l.status === "open")}
          onClick={async () => {
            setBusy(true);
            try {
              setReplayed(await post<Replayed>("/dead-letters/replay", { asset, reason }));
            } catch (e) {
              setReplayed((e as Error).message);
            } finally {
              setBusy(false);
            }
          }}
        >
          Replay {asset || reason ? "these" : "all open"}
        </button>
      </div>
      {replayed && (
        <p class="notice" role="status">
          {typeof replayed === "string" ? replayed : (
            <>
              replay <a href={href("run", replayed.runId)}>run {shortId(replayed.runId)}</a>: {replayed.replayed}{" "}
              replayed and staged, {replayed.stillFailing} still failing, {replayed.skipped} not replayable
            </>
          )}
        </p>
      )}
      {error && <p class="error">{error}</p>}
      {letters?.map((d) => (
        <div class="letter" key={d.id} data-letter={d.id}>
          <div>
            <b>#{d.id}</b> <a href={href("asset", d.assetKey)}>{d.assetKey}</a> {d.source}{" "}
            {d.sourceKey && <code>{d.sourceKey}</code>} <span class="tag">{d.reason}</span>{" "}
            {d.status !== "open" && <span class="tag">{d.status}</span>} ·{" "}
            <a href={href("run", d.runId)}>run {shortId(d.runId)}</a>
          </div>
          <ul class="issues">
            {d.issues.map((i, n) => (
              <li key={n}>
                <code>{i.path}</code>: {i.message}
              </li>
            ))}
          </ul>
          <details>
            <summary>payload</summary>
            <pre>{JSON.stringify(d.payload, null, 2)}</pre>
          </details>
        </div>
      ))}
    </div>
  );
}
