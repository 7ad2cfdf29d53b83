import { type SaxesAttributeNS, SaxesParser, type SaxesTagNS } from "saxes";
import {
  BadRow,
  type HandleBadRows,
  handleBadRows,
  type OnBadRow,
  SourceError,
  type YieldBadRows,
} from "../bad-rows.ts";
import { fileChunks, maxRecordChars } from "../file-input.ts";
import { setField } from "../record-fields.ts";

/**
 * An XML element as {@link readXml} yields it: its attributes and child elements by local name (without
 * a namespace prefix), a name that comes more than once as an array in document order. A child element
 * with neither attributes nor children is its text (`""` when empty); otherwise an object, whose own
 * text, if any besides whitespace, is `#text`.
 */
export interface XmlElement {
  /** An attribute or child element by its local name, or the element's own text as `#text`. */
  [name: string]: XmlValue;
}

/** A value of an {@link XmlElement}: text, an element, or the repeated elements or attributes of one name. */
export type XmlValue = string | XmlElement | (string | XmlElement)[];

/** Which elements {@link readXml} yields. */
export interface XmlOptions {
  /**
   * The name of the record elements: a local name (`shipment`, whatever its namespace prefix) or a
   * qualified one (`trk:shipment`). Each one is yielded when it closes; one nested in another is part of it.
   */
  record: string;
}

/**
 * Streams an XML document SAX-style (saxes, with namespaces), yielding each `record` element as an
 * {@link XmlElement} as soon as it closes: attributes and child elements by local name, repeated ones
 * as arrays, text with entities and character references decoded and CDATA sections as text. Only the
 * record being read is held, so memory is bounded by the largest record, not the document. The file is
 * read as UTF-8 (a declared other encoding throws a `SourceError`); a name ending in `.gz` is gunzipped
 * as it is read, and a truncated or corrupt gzip stream throws a `SourceError` naming the file.
 *
 * Malformed XML (a tag not closed, an undefined entity such as `&nbsp;`, a stray `<`, a document cut
 * short, a text longer than 16 Mi characters) cannot be read past reliably: the records before it are
 * yielded, then a {@link BadRow} with the line and column of the error, saying that reading stopped there,
 * and the reader ends. `onBadRow` as for
 * `readCsv`. Nothing is read until the first iteration.
 *
 * @example
 * ```ts
 * // <feed><shipment trackingNumber="JJD01"><event code="DELIVERED">…</event><event>…</event></shipment>…</feed>
 * for await (const shipment of readXml("shipping/tracking/feed-0001.xml.gz", { record: "shipment" })) {
 *   if (isBadRow(shipment)) console.error(shipment.__error);
 *   else console.log(shipment.trackingNumber, shipment.event);
 * }
 * ```
 */
export function readXml(path: string, options: XmlOptions & YieldBadRows): AsyncIterable<XmlElement | BadRow>;
/** With `onBadRow: "throw"` or a callback: only records are yielded (see the first signature). */
export function readXml(path: string, options: XmlOptions & HandleBadRows): AsyncIterable<XmlElement>;
export function readXml(
  path: string,
  options: XmlOptions & { onBadRow?: OnBadRow },
): AsyncIterable<XmlElement | BadRow> {
  return handleBadRows(parseFile(path, options.record), options.onBadRow);
}

/** An open element inside a record: what it holds so far. */
interface Frame {
  name: string;
  element: XmlElement;
  text: string;
  /** Whether it has attributes or child elements, so is an object rather than its text. */
  structured: boolean;
}

async function* parseFile(path: string, record: string): AsyncGenerator<XmlElement | BadRow> {
  const parser = new SaxesParser({ xmlns: true, position: true });
  const matches = (tag: SaxesTagNS) => tag.name === record || tag.local === record;
  const stack: Frame[] = [];
  let records: XmlElement[] = [];
  let lastChunk = "";
  let chunkStart = 0;
  /** Where the parser last reported anything: saxes holds a text until its end, however long. */
  let lastEvent = 0;
  const seen = () => void (lastEvent = parser.position);
  parser.on("xmldecl", ({ encoding }) => {
    if (encoding !== undefined && !/^(utf-?8|us-ascii)$/i.test(encoding)) {
      throw new SourceError(`${path}: declares the encoding ${encoding}; only UTF-8 is read`);
    }
  });
  parser.on("opentag", (tag) => {
    seen();
    if (stack.length === 0 && !matches(tag)) return;
    const element: XmlElement = {};
    for (const attribute of Object.values(tag.attributes) as SaxesAttributeNS[]) {
      if (attribute.prefix !== "xmlns" && attribute.name !== "xmlns") add(element, attribute.local, attribute.value);
    }
    stack.push({ name: tag.local, element, text: "", structured: Object.keys(element).length > 0 });
  });
  const text = (value: string) => {
    seen();
    const frame = stack.at(-1);
    if (frame) frame.text += value;
  };
  parser.on("text", text);
  parser.on("cdata", text);
  parser.on("closetag", () => {
    seen();
    const frame = stack.pop();
    if (!frame) return;
    const parent = stack.at(-1);
    if (!parent) {
      records.push(valueOf(frame, true) as XmlElement);
      return;
    }
    parent.structured = true;
    add(parent.element, frame.name, valueOf(frame, false));
  });
  try {
    for await (const chunk of fileChunks(path, "utf8")) {
      lastChunk = chunk;
      chunkStart = parser.position;
      parser.write(chunk);
      if (parser.position - lastEvent > maxRecordChars) {
        // the parser's own form of error, so that it is reported as one: where, then why
        throw new Error(
          `${parser.line}:${parser.column}: no markup within ${maxRecordChars} characters (a text that long)`,
        );
      }
      yield* records;
      records = [];
    }
    parser.close();
    yield* records;
  } catch (error) {
    if (error instanceof SourceError) throw error;
    const position = /^(\d+):(\d+): /.exec((error as Error).message);
    if (!position) throw error;
    // what the parser completed before the error in this chunk is sound
    yield* records;
    const [prefix, line, column] = position;
    const at = parser.position - chunkStart;
    yield new BadRow(
      path,
      Number(line),
      `malformed XML at line ${line}, column ${Number(column) + 1}: ${
        (error as Error).message.slice(prefix.length)
      }; reading stopped there`,
      lastChunk.slice(Math.max(at - 60, 0), at + 60),
    );
  }
}

function valueOf(frame: Frame, isRecord: boolean): string | XmlElement {
  if (!frame.structured && !isRecord) return frame.text;
  if (frame.text.trim() !== "") add(frame.element, "#text", frame.structured ? frame.text.trim() : frame.text);
  return frame.element;
}

function add(element: XmlElement, name: string, value: string | XmlElement): void {
  // own fields only: an element or attribute named `toString` or `__proto__` is not the object's own
  const existing = Object.hasOwn(element, name) ? element[name] : undefined;
  if (existing === undefined) setField(element, name, value);
  else if (Array.isArray(existing)) existing.push(value);
  else setField(element, name, [existing, value]);
}
