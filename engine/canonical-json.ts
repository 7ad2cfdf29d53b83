/**
 * A JSON encoding with sorted keys, so equal values hash equally whatever their key order. NUL
 * characters, which no Postgres text or jsonb value can hold, become U+FFFD (visibly replaced, not lost),
 * as do lone surrogates (half of a character cut in two, as `"\ud83d"` in a JSON source), which jsonb
 * refuses; in keys as in values.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => {
    if (typeof v === "string") return storable(v);
    if (!v || typeof v !== "object" || Array.isArray(v)) return v;
    const entries = Object.entries(v).map(([k, item]): [string, unknown] => [storable(k), item]);
    return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : 1)));
  });
}

/** `text` as Postgres can hold it: NUL and lone surrogates replaced by U+FFFD, as {@link canonicalJson} does. */
export const storable = (text: string): string => {
  const withoutNul = text.includes("\u0000") ? text.replaceAll("\u0000", "\uFFFD") : text;
  return withoutNul.isWellFormed() ? withoutNul : withoutNul.toWellFormed();
};
