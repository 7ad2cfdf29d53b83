import type { RefObject } from "preact";
import { useEffect, useRef } from "preact/hooks";
import type { AssetView } from "./states.ts";
import type { Layout } from "./types.ts";

const colours: Record<string, string> = {
  fresh: "#16a34a",
  stale: "#f59e0b",
  never: "#94a3b8",
  failed: "#dc2626",
  running: "#2563eb",
  queued: "#60a5fa",
};

/** The whole graph on a canvas, with the part on screen framed: a click there goes there. */
export function Minimap(
  { layout, views, view, listeners, svg, onJump }: {
    layout: Layout;
    views: Map<string, AssetView>;
    view: RefObject<{ x: number; y: number; k: number }>;
    listeners: Set<() => void>;
    svg: RefObject<SVGSVGElement | null>;
    onJump: (x: number, y: number) => void;
  },
) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const width = 220;
  const scale = width / layout.width;
  const height = Math.max(40, Math.min(180, Math.round(layout.height * scale)));
  const sy = height / layout.height;

  useEffect(() => {
    const draw = () => {
      const ctx = canvas.current?.getContext("2d");
      if (!ctx || !svg.current || !view.current) return;
      ctx.clearRect(0, 0, width, height);
      ctx.fillStyle = "#f1f5f9";
      for (const g of layout.groups) ctx.fillRect(g.x * scale, g.y * sy, g.width * scale, g.height * sy);
      const w = Math.max(1, layout.nodeWidth * scale);
      const h = Math.max(1, layout.nodeHeight * sy);
      for (const a of layout.assets) {
        ctx.fillStyle = colours[views.get(a.key)?.state ?? "never"]!;
        ctx.fillRect(a.x * scale, a.y * sy, w, h);
      }
      const box = svg.current.getBoundingClientRect();
      const { x, y, k } = view.current;
      ctx.strokeStyle = "#0f172a";
      ctx.lineWidth = 1.5;
      ctx.strokeRect((-x / k) * scale, (-y / k) * sy, (box.width / k) * scale, (box.height / k) * sy);
    };
    draw();
    listeners.add(draw);
    return () => void listeners.delete(draw);
  }, [layout, views]);

  return (
    <canvas
      ref={canvas}
      class="minimap"
      width={width}
      height={height}
      title="the whole graph: click to go there"
      onClick={(e) => {
        const r = (e.currentTarget as HTMLCanvasElement).getBoundingClientRect();
        onJump((e.clientX - r.left) / scale, (e.clientY - r.top) / sy);
      }}
    />
  );
}
