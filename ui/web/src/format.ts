/** `2026-12-04 02:03:11Z`, as the CLI writes times. */
export const time = (value: string | null | undefined): string =>
  value ? new Date(value).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z") : "";

/** `850 ms`, `12.3 s`, `4 min 5 s`. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** A data version as the CLI shows it: staging's `v1342` as is, a hash cut to 8. */
export const version = (v: string | null | undefined): string => (!v ? "" : /^v\d+$/.test(v) ? v : v.slice(0, 8));

export const shortId = (id: string): string => id.slice(0, 8);

/** The hash route of a page: `#/asset/graph/Product` → `["asset", "graph/Product"]`, with its query. */
export function route(): { page: string; rest: string; query: URLSearchParams } {
  const hash = location.hash.replace(/^#\/?/, "");
  const [path = "", search = ""] = hash.split("?");
  const slash = path.indexOf("/");
  return {
    page: slash < 0 ? path : path.slice(0, slash),
    rest: slash < 0 ? "" : decodeURIComponent(path.slice(slash + 1)),
    query: new URLSearchParams(search),
  };
}

export const href = (page: string, rest = "", query: Record<string, string | undefined> = {}): string => {
  const params = new URLSearchParams(Object.entries(query).filter(([, v]) => v) as [string, string][]).toString();
  return `#/${page}${rest ? `/${rest.split("/").map(encodeURIComponent).join("/")}` : ""}${params ? `?${params}` : ""}`;
};
