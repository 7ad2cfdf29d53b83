import { CronExpressionParser } from "cron-parser";
import { IANAZone } from "luxon";
import type { AssetGraph } from "../asset-graph.ts";
import { selectAssets } from "../selection.ts";
import type { InstigatorDefinition } from "./instigator.ts";
import { tickPartitioning } from "./schedule.ts";

const instigatorName = /^[A-Za-z0-9_]+$/;

/** What is wrong with a project's schedules and sensors, each problem naming the one it concerns. */
export function automationProblems(graph: AssetGraph, instigators: InstigatorDefinition[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const instigator of instigators) {
    const what = `${instigator.kind} '${instigator.name}'`;
    if (!instigatorName.test(instigator.name)) {
      problems.push(`${what}: the name is invalid: use letters, digits and '_'`);
    }
    if (seen.has(instigator.name)) {
      problems.push(`${what} is declared twice (names are shared by schedules and sensors)`);
    }
    seen.add(instigator.name);
    const select = (selection: string, field: string): Set<string> | undefined => {
      try {
        return selectAssets(graph, selection);
      } catch (error) {
        problems.push(`${what}: ${field} '${selection}': ${(error as Error).message}`);
        return undefined;
      }
    };
    const positive = (value: number | undefined, field: string) => {
      if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
        problems.push(`${what}: ${field} must be a positive number, got ${value}`);
      }
    };
    switch (instigator.kind) {
      case "schedule": {
        if (!IANAZone.isValidZone(instigator.timezone)) {
          problems.push(
            `${what}: unknown time zone '${instigator.timezone}': expected an IANA zone name such as 'Europe/Berlin'`,
          );
        } else {
          try {
            CronExpressionParser.parse(instigator.cron, { tz: instigator.timezone, strict: false });
          } catch (error) {
            problems.push(`${what}: cron expression '${instigator.cron}' is invalid: ${(error as Error).message}`);
          }
        }
        if (
          instigator.catchUp !== "skip" && !(Number.isInteger(instigator.catchUp.last) && instigator.catchUp.last >= 1)
        ) {
          problems.push(`${what}: catchUp must be "skip" or { last: n } with a whole n >= 1`);
        }
        if (!(instigator.toleranceMs >= 0)) problems.push(`${what}: toleranceMs must not be negative`);
        const keys = select(instigator.select, "select");
        if (keys && instigator.partition === "tick") {
          const partitioning = tickPartitioning(graph, keys);
          if (typeof partitioning === "string") problems.push(`${what}: ${partitioning}`);
        }
        break;
      }
      case "file-sensor":
        if (!instigator.folder) problems.push(`${what}: folder is empty`);
        if (instigator.files.length === 0) problems.push(`${what}: no files declared`);
        for (const rule of instigator.files) {
          if (!rule.glob) problems.push(`${what}: a file rule has an empty glob`);
          select(rule.select, `files '${rule.glob}' select`);
        }
        if ("marker" in instigator.complete && !instigator.complete.marker) {
          problems.push(`${what}: the completeness marker is empty`);
        }
        if ("quietMs" in instigator.complete && !(instigator.complete.quietMs >= 0)) {
          problems.push(`${what}: quietMs must not be negative`);
        }
        if (typeof instigator.processed === "object" && !instigator.processed.moveTo) {
          problems.push(`${what}: processed.moveTo is empty`);
        }
        positive(instigator.intervalMs, "intervalMs");
        break;
      case "asset-sensor":
        select(instigator.watch, "watch");
        select(instigator.select, "select");
        positive(instigator.intervalMs, "intervalMs");
        break;
      case "stream-sensor": {
        const streams = select(instigator.streams, "streams");
        for (const key of streams ?? []) {
          if (!graph.byKey.get(key)!.lag) problems.push(`${what}: '${key}' is not a stream asset`);
        }
        if (instigator.select !== undefined) select(instigator.select, "select");
        positive(instigator.intervalMs, "intervalMs");
        break;
      }
    }
  }
  return problems;
}
