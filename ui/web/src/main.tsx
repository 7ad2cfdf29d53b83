import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { get } from "./api.ts";
import { AssetPage } from "./asset.tsx";
import { AutomationPage } from "./automation.tsx";
import { DeadLettersPage } from "./dead-letters.tsx";
import { href, route } from "./format.ts";
import { GraphPage } from "./graph.tsx";
import { LineagePage } from "./lineage.tsx";
import { useFeedState } from "./live.ts";
import { RunPage } from "./run.tsx";
import { RunsPage } from "./runs.tsx";
import type { Settings } from "./types.ts";
import "./style.css";

const pages = [
  ["graph", "Asset graph"],
  ["runs", "Runs"],
  ["lineage", "Record lineage"],
  ["dead-letters", "Dead letters"],
  ["automation", "Automation"],
] as const;

function Page({ at }: { at: ReturnType<typeof route> }) {
  switch (at.page) {
    case "asset":
      return <AssetPage assetKey={at.rest} />;
    case "runs":
      return <RunsPage query={at.query} />;
    case "run":
      return <RunPage runId={at.rest} />;
    case "lineage":
      return <LineagePage query={at.query} />;
    case "dead-letters":
      return <DeadLettersPage query={at.query} />;
    case "automation":
      return <AutomationPage />;
    default:
      return <GraphPage query={at.query} />;
  }
}

function App() {
  const [at, setAt] = useState(route());
  const [settings, setSettings] = useState<Settings | undefined>();
  const feed = useFeedState();
  useEffect(() => {
    const onHash = () => setAt(route());
    addEventListener("hashchange", onHash);
    get<Settings>("/settings").then(setSettings, () => {});
    return () => removeEventListener("hashchange", onHash);
  }, []);
  useEffect(() => {
    document.title = `${settings?.project ?? "ingest"} · ${
      pages.find(([p]) => p === at.page)?.[1] ?? at.rest ?? "ingest ui"
    }`;
  }, [at, settings]);
  const current = at.page === "asset" ? "graph" : at.page === "run" ? "runs" : at.page || "graph";
  return (
    <div class="shell">
      <header>
        <a class="brand" href={href("graph")}>
          ingest <span>{settings?.project}</span>
        </a>
        <nav>
          {pages.map(([page, title]) => (
            <a href={href(page)} class={current === page ? "current" : ""} key={page}>{title}</a>
          ))}
        </nav>
        <span
          class={`feed ${feed}`}
          title={feed === "live"
            ? "changes arrive as they happen (server-sent events)"
            : "the change feed is down: polling every 3 s"}
        >
          {feed === "live" ? "● live" : feed === "polling" ? "◌ polling" : "…"}
        </span>
      </header>
      <main>
        <Page at={at} />
      </main>
      {settings && (
        <footer>
          Postgres {settings.addresses.postgres} · Neo4j {settings.addresses.neo4j} · Chroma {settings.addresses.chroma}
          {settings.addresses.jaeger ? ` · Jaeger ${settings.addresses.jaeger}` : " · no Jaeger"}
          {settings.worker ? " · this server runs a worker" : ""}
        </footer>
      )}
    </div>
  );
}

render(<App />, document.getElementById("app")!);
