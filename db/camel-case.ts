/**
 * The metadata store's columns are snake_case (SQL's convention); what the API, `--json` and the UI
 * hand out is camelCase (JavaScript's), one casing for every field. Only a row's own column names
 * change: the contents of its JSON columns (payloads, tags, counts) are the user's and stay as they are.
 */

/** `run_id` → `runId`, as a type. */
export type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}`
  ? `${Head}${Capitalize<CamelCase<Tail>>}`
  : S;

/** A row with its column names in camelCase. */
export type CamelCased<T> = { [K in keyof T as K extends string ? CamelCase<K> : K]: T[K] };

const camel = (name: string) => name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** A row with its column names in camelCase; nested values untouched. */
export function camelCased<T extends object>(row: T): CamelCased<T> {
  return Object.fromEntries(Object.entries(row).map(([key, value]) => [camel(key), value])) as CamelCased<T>;
}
