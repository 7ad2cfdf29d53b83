import { get } from "./api.ts";
import { href, shortId, time } from "./format.ts";
import { useLiveData } from "./live.ts";
import type { Incident, Tick, WorkerState } from "./types.ts";

interface Instigator {
  name: string;
  kind: string;
  description?: string;
  trigger: string;
  select: string;
}

function Ticks({ ticks }: { ticks: Tick[] }) {
  return (
    <table class="ticks">
      <tbody>
        {ticks.map((t) => (
          <tr key={t.id} class={t.status === "failed" ? "error" : ""}>
            <td>{time(t.tickTime)}</td>
            <td>
              <span class={`chip tick-${t.status}`}>{t.status}</span>
            </td>
            <td>{t.evaluations > 1 ? `×${t.evaluations} until ${time(t.lastTickTime)}` : ""}</td>
            <td>{t.reason ?? ""}</td>
            <td>{t.runIds.map((id) => <a key={id} href={href("run", id)} class="tag">run {shortId(id)}</a>)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Schedules and sensors with their ticks, the workers and their liveness, and the alerts' incidents. */
export function AutomationPage() {
  const [instigators] = useLiveData(() => get<Instigator[]>("/automation"), []);
  const [ticks] = useLiveData(() => get<Tick[]>("/ticks", { limit: 300 }), ["ticks"]);
  const [workers] = useLiveData(() => get<WorkerState[]>("/workers", { limit: 50 }), ["workers"]);
  const [alerts] = useLiveData(
    () => get<{ channels: { description: string }[]; channelProblem?: string; incidents: Incident[] }>("/alerts"),
    ["incidents"],
  );
  const byInstigator = Map.groupBy(ticks ?? [], (t) => t.instigator);
  return (
    <div class="page">
      <h1>Automation</h1>
      <section>
        <h2>Schedules and sensors</h2>
        <p class="muted">
          Evaluated by <code>ingest daemon</code>; every evaluation is a tick.
        </p>
        {instigators?.length === 0 && <p class="muted">this project declares none</p>}
        {instigators?.map((i) => (
          <details key={i.name} class="instigator" open={(byInstigator.get(i.name)?.length ?? 0) > 0}>
            <summary>
              <b>{i.name}</b> <span class="tag">{i.kind}</span> {i.trigger} → <code>{i.select}</code>
              {byInstigator.get(i.name)?.[0] && (
                <>· last: {byInstigator.get(i.name)![0]!.status} {time(byInstigator.get(i.name)![0]!.lastTickTime)}</>
              )}
            </summary>
            {i.description && <p>{i.description}</p>}
            <Ticks ticks={(byInstigator.get(i.name) ?? []).slice(0, 20)} />
          </details>
        ))}
        {(byInstigator.get("ingest/alerts")?.length ?? 0) > 0 && (
          <details>
            <summary>the daemon's alert checks that failed</summary>
            <Ticks ticks={byInstigator.get("ingest/alerts")!} />
          </details>
        )}
      </section>
      <section>
        <h2>Workers</h2>
        {workers?.length === 0 && (
          <p class="muted">
            no worker has run: start <code>ingest worker</code>
          </p>
        )}
        {workers && workers.length > 0 && (
          <table class="workers">
            <thead>
              <tr>
                <th>state</th>
                <th>worker</th>
                <th>host:pid</th>
                <th>concurrency</th>
                <th>started</th>
                <th>last heartbeat</th>
                <th>stopped</th>
              </tr>
            </thead>
            <tbody>
              {workers.map((w) => (
                <tr key={w.id} class={w.state === "dead" ? "error" : ""}>
                  <td>
                    <span class={`chip worker-${w.state}`}>{w.state}</span>
                  </td>
                  <td>
                    <code>{w.id}</code>
                  </td>
                  <td>{w.host ?? "?"}:{w.pid ?? "?"}</td>
                  <td class="num">{w.concurrency ?? ""}</td>
                  <td>{time(w.startedAt)}</td>
                  <td>{time(w.lastSeen)}</td>
                  <td>{time(w.stoppedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section>
        <h2>Alerts</h2>
        <p class="muted">
          channels: {alerts?.channelProblem ?? (alerts?.channels.length
            ? alerts.channels.map((c) =>
              c.description
            ).join("; ")
            : "none configured: incidents are recorded, not sent")}
        </p>
        {alerts?.incidents.length === 0 && <p class="muted">no incidents</p>}
        {alerts?.incidents.map((i) => (
          <div key={i.id} class={`incident ${i.status}`}>
            <span class={`chip incident-${i.status}`}>{i.status}</span> #{i.id} <span class="tag">{i.kind}</span>{" "}
            {i.summary}
            {i.occurrences > 1 && ` (${i.occurrences} times)`} · {time(i.openedAt)}
            {i.resolvedAt && ` – ${time(i.resolvedAt)}`}
            {i.resolution && <div class="muted small">→ {i.resolution}</div>}
            {i.deliveries.map((d) => (
              <div key={d.id} class="small muted">
                {d.event} {d.channel}: {d.status} ({d.attempts}{" "}
                attempt{d.attempts === 1 ? "" : "s"}){d.lastError ? `, ${d.lastError}` : ""}
              </div>
            ))}
          </div>
        ))}
      </section>
    </div>
  );
}
