import type { InstigatorKind, MetadataStore } from "../../db/schema.ts";
import type { AssetGraph } from "../asset-graph.ts";
import type { Clock } from "./clock.ts";
import type { TickLog } from "./ticks.ts";

/** What every schedule and sensor evaluation works with. */
export interface EvaluationContext {
  db: MetadataStore;
  graph: AssetGraph;
  clock: Clock;
  /** `host:pid`, recorded with each tick. */
  daemon: string;
  ticks: TickLog;
  /** Creates the runs of requests just recorded. */
  submit(runIds: string[]): Promise<void>;
  /** Ends the daemon's sleep: something an evaluator started in the background may make it due sooner. */
  wake?(): void;
  /**
   * Observes the observable source assets among `keys` and records what they report (never throws), so
   * a stale-only evaluation sees a source that changed. Without it, the latest recorded observations count.
   */
  observe?(keys: readonly string[]): Promise<void>;
}

/** One schedule, sensor (or the alerts) as the daemon drives it. */
export interface Evaluator {
  readonly name: string;
  readonly kind: InstigatorKind;
  /** Real time (epoch ms) of its next evaluation. */
  nextAt(): number;
  /** Runs once when the daemon starts, before any evaluation (a sensor seen for the first time records where it starts). */
  start?(): Promise<void>;
  evaluate(): Promise<void>;
  /** Runs once when the daemon stops, after the last evaluation: finishes what it does in the background. */
  stop?(): Promise<void>;
}

/** The assets and their dependencies: what a stale-only plan of them reads from the version index. */
export function readsOf(graph: AssetGraph, keys: Iterable<string>): string[] {
  const reads = new Set<string>();
  for (const key of keys) {
    reads.add(key);
    for (const dep of graph.byKey.get(key)!.deps) reads.add(dep);
  }
  return [...reads];
}
