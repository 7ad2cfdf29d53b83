/**
 * A JSON encoding with sorted keys, so equal values hash equally whatever their key order. NUL
 * characters, which no Postgres text or jsonb value can hold, become U+FFFD (visibly replaced, not lost).
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => {
    if (typeof v === "string") return v.replaceAll("\u0000", "\uFFFD");
    return v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v;
  });
}
