import { fileLines, type Line } from "../file-input.ts";

/** One CSV record's text, possibly spanning lines (a quoted field with line breaks), before parsing. */
export interface CsvRecordText {
  /** The 1-based line the record starts on. */
  line: number;
  /** The record exactly as in the file, without its final line break. */
  text: string;
  /** A quote opened on `line` was never closed: `text` is that line alone. */
  unclosedQuote?: true;
  /** The line is longer than `maxRecordSize`: its length; `text` is only its start (see `fileLines`). */
  tooLong?: number;
}

/**
 * Splits a CSV file into record texts as it streams, so that each record can be parsed on its own:
 * a malformed record then costs only itself. (csv-parse's own `skip_records_with_error` is not enough:
 * after a bad closing quote it stays inside the quoted field and swallows the records that follow.)
 *
 * Records end at a line break outside a quoted field. Blank lines between records are skipped. A quote
 * that is still open at the end of the file, or after `maxRecordSize` characters, marks only its own
 * line as bad: the lines after it are read again as records of their own. A line longer than
 * `maxRecordSize` comes alone, with `tooLong`: it is never held whole.
 */
export async function* csvRecordTexts(
  path: string,
  delimiter: string,
  maxRecordSize: number,
  quoted = true,
): AsyncGenerator<CsvRecordText> {
  const source = fileLines(path, maxRecordSize);
  let replay: Line[] = [];
  const nextLine = async (): Promise<Line | undefined> => {
    const replayed = replay.shift();
    if (replayed) return replayed;
    const next = await source.next();
    return next.done ? undefined : next.value;
  };
  try {
    for (let first = await nextLine(); first; first = await nextLine()) {
      if (first.tooLong !== undefined) {
        yield { line: first.number, text: first.text, tooLong: first.tooLong };
        continue;
      }
      if (first.text.trim() === "") continue;
      const lines = [first];
      let size = first.text.length;
      let open = quoted && quoteOpenAfter(first.text, false, delimiter);
      while (open && size <= maxRecordSize) {
        const more = await nextLine();
        if (!more) break;
        lines.push(more);
        // a line too long to read ends the record here, as maxRecordSize does: the quote counts as unclosed
        if (more.tooLong !== undefined) break;
        size += more.text.length + 1;
        open = quoteOpenAfter(more.text, true, delimiter);
      }
      if (open) {
        replay = [...lines.slice(1), ...replay];
        yield { line: first.number, text: withoutCr(first.text), unclosedQuote: true };
      } else {
        yield { line: first.number, text: withoutCr(lines.map((l) => l.text).join("\n")) };
      }
    }
  } finally {
    await source.return(undefined);
  }
}

/** A CRLF file's records end in `\r`; line breaks inside quoted fields keep theirs. */
const withoutCr = (text: string) => (text.endsWith("\r") ? text.slice(0, -1) : text);

const QUOTE = 34;
const isBlank = (code: number) => code === 32 || code === 9 || code === 13;

/**
 * Whether a quoted field is still open at the end of `line`, given whether one was open at its start.
 * Follows csv-parse with `trim` on: a quote opens a field only at its start (after blanks); `""` inside
 * a quoted field is a literal quote; a quote anywhere else is malformed and left for csv-parse to report.
 */
export function quoteOpenAfter(line: string, openAtStart: boolean, delimiter: string): boolean {
  if (!line.includes('"')) return openAtStart;
  const delim = delimiter.charCodeAt(0);
  let state: "start" | "plain" | "quoted" | "closed" = openAtStart ? "quoted" : "start";
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (state === "quoted") {
      if (c === QUOTE) state = "closed";
    } else if (c === delim) {
      state = "start";
    } else if (state === "start") {
      state = c === QUOTE ? "quoted" : isBlank(c) ? "start" : "plain";
    } else if (state === "closed") {
      state = c === QUOTE ? "quoted" : isBlank(c) ? "closed" : "plain";
    }
  }
  return state === "quoted";
}
