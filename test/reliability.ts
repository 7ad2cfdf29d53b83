import { appendFileSync } from "node:fs";
import { result } from "../bench/report.ts";

/**
 * Records one figure of the reliability bench (`npm run bench -- reliability`), which runs the fault,
 * fuzz, security and scale-out tests with `INGEST_RELIABILITY_OUT` naming a file: one JSON line a figure.
 * Outside the bench it does nothing, so a test calls it unconditionally after asserting what it measured.
 *
 * @example
 * ```ts
 * recordFigure("worker SIGKILLed mid graph load: recovery", recoveredAfterMs, "ms", "<= 60000", "…");
 * ```
 */
export function recordFigure(metric: string, value: number, unit: string, target: string, notes?: string): void {
  const out = process.env.INGEST_RELIABILITY_OUT;
  if (out) appendFileSync(out, JSON.stringify(result(metric, value, null, unit, target, notes)) + "\n");
}
