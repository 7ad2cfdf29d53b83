import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packageRoot } from "../resources/settings.ts";
import type { BenchResult } from "./report.ts";

/**
 * The reliability figures: faults survived of faults injected, time to recover after each kill, fuzz cases
 * per connector with nothing lost, secrets found, each host's share of a backfill. They come from the tests
 * that inject the faults and check the outcome (every test file that calls `recordFigure`, and the secrets
 * scan the suite ends with), run here with INGEST_RELIABILITY_OUT naming where they write them. A failing
 * test fails the bench: a figure counts only when what it measures was also asserted.
 */
export function reliabilityBench(): Promise<BenchResult[]> {
  // The test files committed (a file being written is not measured) that record figures, or those that
  // RELIABILITY_TESTS names (space-separated), so that every run of the bench measures the same ones.
  const listed = spawnSync("git", ["ls-files", "test/integration/*.test.ts"], { cwd: packageRoot, encoding: "utf8" });
  const files = process.env.RELIABILITY_TESTS?.split(/\s+/).filter(Boolean) ??
    listed.stdout.split("\n").filter((f) => f && readFileSync(join(packageRoot, f), "utf8").includes("recordFigure("))
      .sort();
  const outDir = mkdtempSync(join(tmpdir(), "ingest-reliability-"));
  const out = join(outDir, "figures.jsonl");
  try {
    const run = spawnSync(join(packageRoot, "node_modules", ".bin", "vitest"), ["run", ...files], {
      cwd: packageRoot,
      stdio: "inherit",
      env: { ...process.env, INGEST_RELIABILITY_OUT: out },
    });
    if (run.status !== 0) throw new Error(`the reliability tests failed (exit ${run.status ?? run.signal})`);
    if (!existsSync(out)) throw new Error("the reliability tests recorded no figure");
    const figures = readFileSync(out, "utf8").trim().split("\n").map((line) => JSON.parse(line) as BenchResult);
    const names = figures.map((f) => f.metric);
    const twice = names.filter((name, i) => names.indexOf(name) !== i);
    if (twice.length > 0) throw new Error(`figures recorded twice in one run: ${[...new Set(twice)].join(", ")}`);
    // Sorted, so the runs' results line up metric by metric whatever order the tests ran in.
    return Promise.resolve(figures.sort((a, b) => a.metric.localeCompare(b.metric)));
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}
