import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { get } from "./api.ts";
import { href, time, version } from "./format.ts";
import { useLiveData } from "./live.ts";
import { Materialise, type Requested, RunRequested } from "./materialise.tsx";
import { Minimap } from "./minimap.tsx";
import { type AssetView, type GraphState, stateLine, stateNames, viewsOf } from "./states.ts";
import type { AssetStatus, AssetSummary, Layout } from "./types.ts";

interface View {
  x: number;
  y: number;
  k: number;
}
interface Rect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}
interface Edge extends Rect {
  from: string;
  to: string;
}

/** Below this zoom, assets are drawn as plain boxes, without text. */
const detailZoom = 0.45;

declare global {
  /** When the graph first showed every visible asset in its state (performance.now()): the bench reads it. */
  var __graphRenderedAt: number | undefined;
}

function edgesOf(layout: Layout, assets: AssetSummary[]): Edge[] {
  const at = new Map(layout.assets.map((a) => [a.key, a]));
  const { nodeWidth: w, nodeHeight: h } = layout;
  const edges: Edge[] = [];
  for (const asset of assets) {
    const to = at.get(asset.key);
    if (!to) continue;
    for (const dep of asset.deps) {
      const from = at.get(dep);
      if (!from) continue;
      const x0 = from.x + w;
      const y0 = from.y + h / 2;
      const x1 = to.x;
      const y1 = to.y + h / 2;
      edges.push({ from: dep, to: asset.key, x0, y0, x1, y1 });
    }
  }
  return edges;
}

const intersects = (a: Rect, b: Rect) => a.x0 <= b.x1 && a.x1 >= b.x0 && a.y0 <= b.y1 && a.y1 >= b.y0;
const edgeBox = (e: Edge): Rect => ({
  x0: Math.min(e.x0, e.x1),
  x1: Math.max(e.x0, e.x1),
  y0: Math.min(e.y0, e.y1),
  y1: Math.max(e.y0, e.y1),
});
const path = (e: Edge) => {
  const dx = Math.max(30, Math.abs(e.x1 - e.x0) / 2);
  return `M${e.x0} ${e.y0}C${e.x0 + dx} ${e.y0},${e.x1 - dx} ${e.y1},${e.x1} ${e.y1}`;
};

function tooltip(key: string, view: AssetView | undefined): string {
  if (!view) return key;
  return [key, stateNames[view.state], ...view.reasons].join("\n");
}

/** The asset graph: every asset in its group, left to right, coloured by state, drawn only where visible. */
export function GraphPage({ query }: { query: URLSearchParams }) {
  const [layout, setLayout] = useState<Layout>();
  const [assets, setAssets] = useState<AssetSummary[]>();
  const [loadError, setLoadError] = useState<string>();
  // A large graph's states are a large answer: at most one a second while runs go on.
  const [statuses] = useLiveData(
    () => get<AssetStatus[]>("/status"),
    ["runs", "run_steps", "materializations"],
    [],
    (assets?.length ?? 0) > 1000 ? 1000 : 250,
  );
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [filter, setFilter] = useState(query.get("select") ?? "");
  const [matched, setMatched] = useState<Set<string> | undefined>();
  const [filterError, setFilterError] = useState<string>();
  const [requested, setRequested] = useState<Requested>();
  const svg = useRef<SVGSVGElement>(null);
  const world = useRef<SVGGElement>(null);
  const view = useRef<View>({ x: 0, y: 0, k: 1 });
  const [win, setWin] = useState<Rect & { k: number }>();
  const viewListeners = useRef(new Set<() => void>());

  useEffect(() => {
    Promise.all([get<Layout>("/layout"), get<AssetSummary[]>("/assets")]).then(([l, a]) => {
      setLayout(l);
      setAssets(a);
    }, (e: Error) => setLoadError(e.message));
  }, []);

  const partitioned = useMemo(() => new Set((assets ?? []).filter((a) => a.partitions).map((a) => a.key)), [assets]);
  const views = useMemo(() => viewsOf(statuses ?? [], partitioned), [statuses, partitioned]);
  const edges = useMemo(() => (layout && assets ? edgesOf(layout, assets) : []), [layout, assets]);
  const edgeBoxes = useMemo(() => edges.map(edgeBox), [edges]);
  const counts = useMemo(() => {
    const c: Partial<Record<GraphState, number>> = {};
    for (const v of views.values()) c[v.state] = (c[v.state] ?? 0) + 1;
    return c;
  }, [views]);

  /** The part of the world on screen, and a margin of half a screen around it that is drawn too. */
  const visible = (margin: number): Rect => {
    const box = svg.current!.getBoundingClientRect();
    const { x, y, k } = view.current;
    const mx = (box.width / k) * margin;
    const my = (box.height / k) * margin;
    return { x0: -x / k - mx, y0: -y / k - my, x1: (box.width - x) / k + mx, y1: (box.height - y) / k + my };
  };

  const apply = () => {
    const { x, y, k } = view.current;
    world.current?.setAttribute("transform", `translate(${x},${y}) scale(${k})`);
    const now = visible(0);
    const detailChanged = win && (win.k < detailZoom) !== (k < detailZoom);
    const zoomChanged = win && (k / win.k > 1.6 || win.k / k > 1.6);
    if (
      !win || detailChanged || zoomChanged ||
      !(now.x0 >= win.x0 && now.y0 >= win.y0 && now.x1 <= win.x1 && now.y1 <= win.y1)
    ) {
      setWin({ ...visible(0.5), k });
    }
    for (const listener of viewListeners.current) listener();
  };

  const fit = (whole: boolean) => {
    if (!layout || !svg.current) return;
    const box = svg.current.getBoundingClientRect();
    const fitK = Math.min(box.width / layout.width, box.height / layout.height);
    const widthK = box.width / layout.width;
    if (whole || fitK >= 0.5) {
      const k = Math.min(1, fitK);
      view.current = { k, x: (box.width - layout.width * k) / 2, y: (box.height - layout.height * k) / 2 };
    } else if (widthK >= 0.5) {
      // As wide as the screen, read from the top; the minimap shows what is below.
      const k = Math.min(1, widthK);
      view.current = { k, x: (box.width - layout.width * k) / 2, y: 0 };
    } else {
      // Too big to read whole: start at the sources, on the left, at a size that reads; the minimap shows the rest.
      const k = 0.7;
      const first = layout.groups.reduce((a, b) => (b.x < a.x ? b : a));
      view.current = { k, x: 16 - first.x * k, y: 16 - first.y * k };
    }
    apply();
  };

  useEffect(() => fit(false), [layout]);
  useEffect(() => {
    // A larger window shows more of the world: draw what comes into view.
    const onResize = () => layout && svg.current && apply();
    addEventListener("resize", onResize);
    return () => removeEventListener("resize", onResize);
  });

  useEffect(() => {
    if (!layout || !statuses || !win || globalThis.__graphRenderedAt !== undefined) return;
    requestAnimationFrame(() => {
      globalThis.__graphRenderedAt = performance.now();
      document.body.dataset.graphRendered = "true";
    });
  }, [layout, statuses, win]);

  useEffect(() => {
    if (!filter.trim()) {
      setMatched(undefined);
      setFilterError(undefined);
      return;
    }
    const timer = setTimeout(() => {
      get<{ keys: string[] }>("/select", { q: filter }).then((r) => {
        setMatched(new Set(r.keys));
        setSelected(new Set(r.keys));
        setFilterError(undefined);
      }, (e: Error) => setFilterError(e.message));
    }, 250);
    return () => clearTimeout(timer);
  }, [filter]);

  // Panning by dragging, zooming by the wheel around the pointer; a click without a drag selects.
  const drag = useRef<{ x: number; y: number; moved: boolean } | undefined>(undefined);
  const onPointerDown = (e: PointerEvent) => {
    drag.current = { x: e.clientX, y: e.clientY, moved: false };
    (e.currentTarget as Element).setPointerCapture(e.pointerId);
  };
  const onPointerMove = (e: PointerEvent) => {
    const d = drag.current;
    if (!d) return;
    const dx = e.clientX - d.x;
    const dy = e.clientY - d.y;
    if (!d.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
    d.moved = true;
    d.x = e.clientX;
    d.y = e.clientY;
    view.current = { ...view.current, x: view.current.x + dx, y: view.current.y + dy };
    apply();
  };
  const onPointerUp = (e: PointerEvent) => {
    const d = drag.current;
    drag.current = undefined;
    if (!d || d.moved) return;
    const target = document.elementsFromPoint(e.clientX, e.clientY).find((el) =>
      el instanceof SVGElement && el.closest("[data-key]")
    );
    const key = target?.closest("[data-key]")?.getAttribute("data-key");
    if (!key) return setSelected(new Set());
    if (e.shiftKey || e.ctrlKey || e.metaKey) {
      const next = new Set(selected);
      if (next.has(key)) next.delete(key);
      else next.add(key);
      setSelected(next);
    } else setSelected(new Set([key]));
  };
  const onWheel = (e: WheelEvent) => {
    e.preventDefault();
    const box = svg.current!.getBoundingClientRect();
    const { x, y, k } = view.current;
    const next = Math.min(2, Math.max(0.02, k * Math.exp(-e.deltaY / 400)));
    const px = e.clientX - box.left;
    const py = e.clientY - box.top;
    view.current = { k: next, x: px - ((px - x) / k) * next, y: py - ((py - y) / k) * next };
    apply();
  };
  const onDoubleClick = (e: MouseEvent) => {
    const key = (e.target as Element).closest("[data-key]")?.getAttribute("data-key");
    if (key) location.hash = href("asset", key);
  };

  if (loadError) return <p class="error">{loadError}</p>;
  if (!layout || !assets) return <p class="muted">loading the graph…</p>;

  const { nodeWidth: w, nodeHeight: h } = layout;
  const detailed = (win?.k ?? 1) >= detailZoom;
  const shown = win ? layout.assets.filter((a) => intersects(win, { x0: a.x, y0: a.y, x1: a.x + w, y1: a.y + h })) : [];
  const shownEdges = win ? edges.filter((_, i) => intersects(win, edgeBoxes[i]!)) : [];
  const one = selected.size === 1 ? [...selected][0]! : undefined;
  const selection =
    matched && filter.trim() && matched.size === selected.size && [...selected].every((k) => matched.has(k))
      ? filter.trim()
      : [...selected].join(" ");

  return (
    <div class="graph-page">
      <div class="toolbar">
        <input
          class="filter"
          placeholder="filter by selection: group:ec, +graph/Product, ec/orders+ and not …"
          value={filter}
          onInput={(e) => setFilter((e.target as HTMLInputElement).value)}
          aria-label="selection"
        />
        <Materialise
          label={`Materialise selected (${selected.size})`}
          selection={selection}
          disabled={selected.size === 0}
          onRequested={setRequested}
        />
        <Materialise label="Materialise stale" selection="*" stale onRequested={setRequested} />
        <button type="button" onClick={() => fit(true)}>Fit</button>
        <span class="legend">
          {(["fresh", "stale", "never", "failed", "running", "queued"] as const).map((s) => (
            <span class={`chip state-${s}`} key={s}>{stateNames[s]} {counts[s] ?? 0}</span>
          ))}
        </span>
      </div>
      {filterError && <p class="error filter-error">{filterError}</p>}
      {requested && <RunRequested requested={requested} onClose={() => setRequested(undefined)} />}
      <div class="graph-area">
        <svg
          ref={svg}
          class={`graph ${detailed ? "detailed" : "coarse"}`}
          onPointerDown={onPointerDown}
          onPointerMove={onPointerMove}
          onPointerUp={onPointerUp}
          onWheel={onWheel}
          onDblClick={onDoubleClick}
          data-shown={shown.length}
        >
          <defs>
            <marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="6" markerHeight="6" orient="auto">
              <path d="M0 0L8 4L0 8z" fill="#94a3b8" />
            </marker>
          </defs>
          <g ref={world}>
            {layout.groups.map((g) => (
              <g key={g.name} class="group">
                <rect x={g.x} y={g.y} width={g.width} height={g.height} rx="10" />
                {detailed && <text x={g.x + 12} y={g.y + 18}>{g.name}</text>}
              </g>
            ))}
            <g class="edges">
              {shownEdges.map((e) => (
                <path
                  key={`${e.from}>${e.to}`}
                  d={path(e)}
                  class={selected.has(e.from) || selected.has(e.to) ? "hot" : ""}
                  marker-end={detailed ? "url(#arrow)" : undefined}
                />
              ))}
            </g>
            {shown.map((a) => {
              const v = views.get(a.key);
              const state = v?.state ?? "never";
              const dim = matched && !matched.has(a.key) ? " dim" : "";
              const sel = selected.has(a.key) ? " selected" : "";
              if (!detailed) {
                return (
                  <rect
                    key={a.key}
                    data-key={a.key}
                    data-state={state}
                    class={`asset state-${state}${dim}${sel}`}
                    x={a.x}
                    y={a.y}
                    width={w}
                    height={h}
                    rx="6"
                  >
                    <title>{tooltip(a.key, v)}</title>
                  </rect>
                );
              }
              const name = a.key.length > 30 ? `…${a.key.slice(-29)}` : a.key;
              const line = stateLine(v);
              return (
                <g
                  key={a.key}
                  data-key={a.key}
                  data-state={state}
                  class={`asset state-${state}${dim}${sel}`}
                  transform={`translate(${a.x},${a.y})`}
                >
                  <rect width={w} height={h} rx="6" />
                  <text x="10" y="19" class="key">{name}</text>
                  <text x="10" y="36" class="sub">{line.length > 36 ? `${line.slice(0, 35)}…` : line}</text>
                  <title>{tooltip(a.key, v)}</title>
                </g>
              );
            })}
          </g>
        </svg>
        <Minimap
          layout={layout}
          views={views}
          view={view}
          listeners={viewListeners.current}
          svg={svg}
          onJump={(x, y) => {
            const box = svg.current!.getBoundingClientRect();
            view.current = {
              ...view.current,
              x: box.width / 2 - x * view.current.k,
              y: box.height / 2 - y * view.current.k,
            };
            apply();
          }}
        />
        {one && (
          <AssetPanel
            assetKey={one}
            view={views.get(one)}
            summary={assets.find((a) => a.key === one)}
            onRequested={setRequested}
          />
        )}
      </div>
    </div>
  );
}

function AssetPanel(
  { assetKey, view, summary, onRequested }: {
    assetKey: string;
    view: AssetView | undefined;
    summary: AssetSummary | undefined;
    onRequested: (r: Requested) => void;
  },
) {
  const state = view?.state ?? "never";
  return (
    <aside class="panel" data-panel={assetKey}>
      <h2>
        <a href={href("asset", assetKey)}>{assetKey}</a>
      </h2>
      <p>
        <span class={`chip state-${state}`}>{stateNames[state]}</span> {summary?.kind} {summary?.writes}
      </p>
      {view?.partitions && <p>{stateLine(view)}</p>}
      {view && view.reasons.length > 0 && (
        <div class="why">
          <h3>Why stale</h3>
          <ul>{view.reasons.map((r) => <li key={r}>{r}</li>)}</ul>
        </div>
      )}
      {view?.failure && (
        <p class="error">
          failed at {time(view.failure.finishedAt)} in{" "}
          <a href={href("run", view.failure.runId)}>run {view.failure.runId.slice(0, 8)}</a>:{" "}
          {view.failure.error.split("\n")[0]}
        </p>
      )}
      {view?.latest && (
        <p>
          data {version(view.latest.dataVersion)} at {time(view.latest.finishedAt)},{" "}
          <a href={href("run", view.latest.runId)}>run {view.latest.runId.slice(0, 8)}</a>
        </p>
      )}
      {view?.freshness && (
        <p class={view.freshness.state === "missed" ? "error" : ""}>freshness {view.freshness.reason}</p>
      )}
      {view && view.failedChecks.length > 0 && <p class="error">checks failed: {view.failedChecks.join(", ")}</p>}
      <p class="muted">
        {summary?.deps.length ?? 0} upstream · {summary?.dependents.length ?? 0}{" "}
        downstream · code v{summary?.codeVersion}
      </p>
      <Materialise
        label="Materialise"
        selection={assetKey}
        stale={summary?.partitions !== undefined}
        onRequested={onRequested}
      />{" "}
      <a href={href("asset", assetKey)}>Open asset page →</a>
    </aside>
  );
}
