/**
 * Sets a field of a record read from a source, whatever its name: a column, attribute or key named
 * `__proto__` is a field like any other, where an assignment would set the record's prototype instead and
 * lose the value without a word.
 */
export function setField(record: Record<string, unknown>, name: string, value: unknown): void {
  if (name === "__proto__") {
    Object.defineProperty(record, name, { value, enumerable: true, writable: true, configurable: true });
  } else record[name] = value;
}
