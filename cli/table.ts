/**
 * Human output as aligned columns: each column as wide as its widest cell, numbers right-aligned.
 * The last column is never padded, so a long reason or error runs on without trailing spaces.
 */
export function table(rows: (string | number)[][], options: { indent?: string; header?: boolean } = {}): string {
  const cells = rows.map((row) => row.map((cell) => String(cell)));
  const widths: number[] = [];
  for (const row of cells) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  // A column of numbers (blank where there is none) is right-aligned, its heading too.
  const body = options.header ? rows.slice(1) : rows;
  const numeric = widths.map((_, i) =>
    body.some((row) => typeof row[i] === "number") &&
    body.every((row) => row[i] === undefined || row[i] === "" || typeof row[i] === "number")
  );
  return cells
    .map((row) =>
      (options.indent ?? "") +
      row.map((cell, i) =>
        i === row.length - 1 && !numeric[i] ? cell : numeric[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)
      ).join("  ").trimEnd()
    )
    .join("\n");
}

/** A time as people read it in a table: `2026-12-04 01:30:07Z`. */
export const shortTime = (value: Date | string | null | undefined): string =>
  value ? new Date(value).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z") : "–";

/** A duration in seconds, or minutes past 100 s. */
export function duration(ms: number): string {
  return ms < 100_000 ? `${(ms / 1000).toFixed(1)}s` : `${(ms / 60_000).toFixed(1)}min`;
}
