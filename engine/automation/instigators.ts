import type { Definitions } from "../definitions.ts";

/** A schedule or sensor of the definitions, as the UI's automation page lists it. */
export interface InstigatorSummary {
  name: string;
  kind: "schedule" | "file-sensor" | "asset-sensor" | "stream-sensor";
  description?: string;
  /** When it fires, in words: `0 2 * * * in Europe/Berlin`, `files *.csv in /data/landing`, `materialisations of group:ec`. */
  trigger: string;
  /** What it materialises (a file sensor: per rule). */
  select: string;
}

/** The project's schedules and sensors, in the order declared. */
export function summariseInstigators(definitions: Definitions): InstigatorSummary[] {
  const schedules = (definitions.schedules ?? []).map((s): InstigatorSummary => ({
    name: s.name,
    kind: "schedule",
    ...(s.description && { description: s.description }),
    trigger: `${s.cron} in ${s.timezone}${s.staleOnly ? ", stale only" : ""}`,
    select: s.select,
  }));
  const sensors = (definitions.sensors ?? []).map((s): InstigatorSummary =>
    s.kind === "file-sensor"
      ? {
        name: s.name,
        kind: s.kind,
        ...(s.description && { description: s.description }),
        trigger: `files ${s.files.map((f) => f.glob).join(", ")} in ${s.folder}`,
        select: s.files.map((f) => `${f.glob} → ${f.select}`).join("; "),
      }
      : s.kind === "stream-sensor"
      ? {
        name: s.name,
        kind: s.kind,
        ...(s.description && { description: s.description }),
        trigger: `messages waiting in ${s.streams}`,
        select: s.select ?? `${s.streams} and what is downstream`,
      }
      : {
        name: s.name,
        kind: s.kind,
        ...(s.description && { description: s.description }),
        trigger: `materialisations of ${s.watch}${s.staleOnly ? ", stale only" : ""}`,
        select: s.select,
      }
  );
  return [...schedules, ...sensors];
}
