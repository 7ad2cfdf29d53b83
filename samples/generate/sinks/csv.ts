/** One RFC 4180 field: quoted when it holds a comma, a quote or a line break; quotes doubled. */
export function csvField(value: string | number | null | undefined): string {
  const text = value === null || value === undefined ? "" : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One record, without its line terminator (RFC 4180 uses CRLF between records). */
export function csvRecord(values: readonly (string | number | null | undefined)[]): string {
  return values.map(csvField).join(",");
}
