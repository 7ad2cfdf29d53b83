import { get } from "./api.ts";
import { duration, href, shortId, time } from "./format.ts";
import { useLiveData } from "./live.ts";
import type { Run } from "./types.ts";

const statuses = ["", "queued", "running", "canceling", "succeeded", "failed", "canceled"];

/** Recent runs, filtered by status, asset, tag or instigator: `ingest runs --json`. */
export function RunsPage({ query }: { query: URLSearchParams }) {
  const filter = {
    status: query.get("status") ?? "",
    asset: query.get("asset") ?? "",
    tag: query.get("tag") ?? "",
    instigator: query.get("instigator") ?? "",
  };
  const [runs, error] = useLiveData(() => get<Run[]>("/runs", { ...filter, limit: 100 }), ["runs"], [query.toString()]);
  const set = (name: keyof typeof filter, value: string) => {
    location.hash = href("runs", "", { ...filter, [name]: value });
  };
  return (
    <div class="page">
      <h1>Runs</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          status{" "}
          <select
            value={filter.status}
            onChange={(e) => set("status", (e.target as HTMLSelectElement).value)}
            aria-label="status"
          >
            {statuses.map((s) => <option key={s} value={s}>{s || "any"}</option>)}
          </select>
        </label>
        {(["asset", "tag", "instigator"] as const).map((name) => (
          <label key={name}>
            {name}{" "}
            <input
              value={filter[name]}
              placeholder={name === "tag" ? "name or name=value" : name === "asset" ? "ec/orders" : "nightly_sources"}
              onChange={(e) => set(name, (e.target as HTMLInputElement).value)}
              aria-label={name}
            />
          </label>
        ))}
      </form>
      {error && <p class="error">{error}</p>}
      {runs && runs.length === 0 && (
        <p class="muted">no runs{Object.values(filter).some(Boolean) ? " match" : " yet"}</p>
      )}
      {runs && runs.length > 0 && (
        <table class="runs">
          <thead>
            <tr>
              <th>run</th>
              <th>status</th>
              <th>requested</th>
              <th>took</th>
              <th>selection</th>
              <th>tags</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((r) => (
              <tr key={r.id} data-run={r.id}>
                <td>
                  <a href={href("run", r.id)}>{shortId(r.id)}</a>
                </td>
                <td>
                  <span class={`chip run-${r.status}`}>{r.status}</span>
                </td>
                <td>{time(r.createdAt)}</td>
                <td>
                  {r.finishedAt && r.startedAt ? duration(Date.parse(r.finishedAt) - Date.parse(r.startedAt)) : ""}
                </td>
                <td>
                  {r.selection}
                  {r.priority !== 0 && <span class="muted">(priority {r.priority})</span>}
                  {r.error && <div class="error small">{r.error.split("\n")[0]}</div>}
                </td>
                <td class="small">{Object.entries(r.tags).map(([k, v]) => `${k}=${v}`).join(" ")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
