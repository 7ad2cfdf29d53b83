import type { MetadataStore } from "../db/schema.ts";

/** What one asset check found, as recorded with the materialisation it checked. */
export interface CheckResult {
  /** The check's `name`. */
  name: string;
  /** Whether the data passed. */
  passed: boolean;
  /** `error`: a failure fails the materialisation; `warn`: it is only recorded. */
  severity: "warn" | "error";
  /** The check's `description`, when it has one. */
  description?: string;
  /** What the check reported (the error, when the check itself threw). */
  metadata: Record<string, unknown>;
}

/** The check results recorded with each of these materialisations, by materialisation id. */
export async function checkResults(
  db: MetadataStore,
  materializationIds: number[],
): Promise<Map<number, CheckResult[]>> {
  const results = new Map<number, CheckResult[]>();
  if (materializationIds.length === 0) return results;
  const rows = await db
    .selectFrom("ingest.asset_checks")
    .select(["materialization_id", "check_name", "passed", "severity", "description", "metadata"])
    .where("materialization_id", "in", materializationIds)
    .orderBy("id")
    .execute();
  for (const row of rows) {
    const id = Number(row.materialization_id);
    const list = results.get(id) ?? results.set(id, []).get(id)!;
    list.push({
      name: row.check_name,
      passed: row.passed,
      severity: row.severity,
      ...(row.description !== null && { description: row.description }),
      metadata: row.metadata,
    });
  }
  return results;
}

/** A check result in a line: `✗ not empty (error): rows 0`. */
export function describeCheck(check: CheckResult): string {
  const detail = Object.entries(check.metadata).map(([key, value]) =>
    `${key} ${typeof value === "string" ? value.split("\n")[0] : JSON.stringify(value)}`
  ).join(", ");
  return `${check.passed ? "✓" : "✗"} ${check.name}${check.passed ? "" : ` (${check.severity})`}${
    detail ? `: ${detail}` : ""
  }`;
}
