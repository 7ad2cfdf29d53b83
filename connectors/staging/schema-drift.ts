/**
 * What a staged asset does with fields its source did not have before (dlt's schema contracts):
 * `discard` drops them (the model never sees them; the default), `evolve` keeps them on the staged record
 * as extra properties, `freeze` dead-letters each record that has one. Drift is reported whatever the contract.
 */
export type SchemaContract = "discard" | "evolve" | "freeze";

/** A raw field's kind of value, as drift is judged: JSON's kinds, and `date` for a Date a driver returns. */
export type FieldType = "string" | "number" | "boolean" | "object" | "array" | "date" | "bigint";

/**
 * The fields a source is known to have, with the kinds of value each has come with (nulls say nothing),
 * and which of them came after the first read (what `evolve` keeps on the staged records).
 */
export interface KnownFields {
  /** Each field, with its kinds of value. */
  fields: Record<string, FieldType[]>;
  /** Fields the first read did not have, staged as extra properties under `evolve`. */
  added: string[];
}

/** One field that drifted, with how many records of this read showed it and the key of one of them. */
export interface FieldDrift {
  /** The field, by its name in the source. */
  field: string;
  /** Records of this read with it (for `added`) or with the new kind of value (for `typeChanged`). */
  records: number;
  /** The source key of one such record (absent when it had none). */
  example?: string;
}

/** How a read's fields differed from what the source had before; what a materialisation records as `schemaDrift`. */
export interface SchemaDrift {
  /** Fields no earlier read had. */
  added: (FieldDrift & { types: FieldType[] })[];
  /** Known fields no record of this (whole) read had. */
  gone: string[];
  /** Known fields that came with a kind of value they never had before. */
  typeChanged: (FieldDrift & { was: FieldType[]; now: FieldType })[];
}

function typeOf(value: unknown): FieldType | undefined {
  if (value === null || value === undefined) return undefined;
  if (value instanceof Date) return "date";
  if (Array.isArray(value)) return "array";
  const type = typeof value;
  return type === "string" || type === "number" || type === "boolean" || type === "object" || type === "bigint"
    ? type
    : undefined;
}

/**
 * Follows the top-level fields of one read's raw records against the fields the source is known to have.
 * The first read (nothing known) only learns them.
 */
export class SchemaTracker {
  readonly #known: KnownFields | undefined;
  readonly #seen = new Map<string, Map<FieldType, { records: number; example?: string }>>();
  readonly #present = new Map<string, { records: number; example?: string }>();

  /** `known`: what earlier reads recorded (undefined: this is the first). */
  constructor(known: KnownFields | undefined) {
    this.#known = known;
  }

  /**
   * Notes one raw record's fields (`keyOf` gives its source key, asked only while a field has no example
   * yet, so not for every record); returns those the first read did not have: fields no earlier read had
   * (`unexpected`) and those that came after the first read (`added`, with them). None on a first read.
   */
  see(raw: unknown, keyOf: () => string | undefined): { unexpected: string[]; extra: string[] } {
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return { unexpected: [], extra: [] };
    const unexpected: string[] = [];
    const extra: string[] = [];
    for (const [field, value] of Object.entries(raw)) {
      const present = this.#present.get(field) ?? { records: 0 };
      present.records += 1;
      present.example ??= keyOf();
      this.#present.set(field, present);
      if (this.#known && !Object.hasOwn(this.#known.fields, field)) {
        unexpected.push(field);
        extra.push(field);
      } else if (this.#known?.added.includes(field)) extra.push(field);
      const type = typeOf(value);
      if (type === undefined) continue;
      const types = this.#seen.get(field) ?? new Map();
      const seen = types.get(type) ?? { records: 0 };
      seen.records += 1;
      seen.example ??= keyOf();
      types.set(type, seen);
      this.#seen.set(field, types);
    }
    return { unexpected, extra };
  }

  /**
   * The drift of this read against what was known: fields added, fields gone (only a `whole` read can
   * tell), and known fields with a new kind of value. Undefined on a first read, or when nothing drifted.
   */
  drift(whole: boolean): SchemaDrift | undefined {
    const known = this.#known?.fields;
    if (!known) return undefined;
    const drift: SchemaDrift = { added: [], gone: [], typeChanged: [] };
    for (const [field, present] of this.#present) {
      if (Object.hasOwn(known, field)) continue;
      drift.added.push({
        field,
        records: present.records,
        types: [...(this.#seen.get(field)?.keys() ?? [])].sort(),
        ...(present.example !== undefined && { example: present.example }),
      });
    }
    if (whole) drift.gone = Object.keys(known).filter((field) => !this.#present.has(field)).sort();
    for (const [field, types] of this.#seen) {
      const was = Object.hasOwn(known, field) ? known[field] : undefined;
      if (!was || was.length === 0) continue;
      for (const [type, seen] of types) {
        if (was.includes(type)) continue;
        drift.typeChanged.push({
          field,
          was,
          now: type,
          records: seen.records,
          ...(seen.example !== undefined && { example: seen.example }),
        });
      }
    }
    drift.added.sort((a, b) => a.field.localeCompare(b.field));
    drift.typeChanged.sort((a, b) => a.field.localeCompare(b.field) || a.now.localeCompare(b.now));
    return drift.added.length + drift.gone.length + drift.typeChanged.length > 0 ? drift : undefined;
  }

  /**
   * What is known after this read: everything known before (less what a `whole` read did not have), with
   * the kinds of value seen now, and the new fields unless the contract is `freeze` (their records were
   * dead-lettered, not staged).
   */
  nextKnown(contract: SchemaContract, whole: boolean): KnownFields {
    // A whole read without a field forgets it (reported gone once; should it come back, it is added again).
    const kept = Object.entries(this.#known?.fields ?? {}).filter(([field]) => !whole || this.#present.has(field));
    // a Map, not an object: a source's field may be named `constructor` or `__proto__`
    const fields = new Map(kept.map(([f, t]) => [f, [...t]]));
    const added = (this.#known?.added ?? []).filter((field) => fields.has(field));
    for (const field of this.#present.keys()) {
      const isNew = this.#known !== undefined && !Object.hasOwn(this.#known.fields, field);
      if (isNew && contract === "freeze") continue;
      if (isNew) added.push(field);
      fields.set(field, [...new Set([...(fields.get(field) ?? []), ...(this.#seen.get(field)?.keys() ?? [])])].sort());
    }
    return { fields: Object.fromEntries(fields), added: added.sort() };
  }
}

/** Drift in words, one line per kind: what `ingest status` and `runs show` print. */
export function describeDrift(drift: SchemaDrift): string[] {
  const example = (d: FieldDrift) => d.example === undefined ? "" : `, e.g. ${d.example}`;
  const lines: string[] = [];
  if (drift.added.length > 0) {
    lines.push(
      `schema drift: fields added: ${
        drift.added.map((d) => `${d.field} (${d.records} records${example(d)})`).join(", ")
      }`,
    );
  }
  if (drift.gone.length > 0) lines.push(`schema drift: fields gone: ${drift.gone.join(", ")}`);
  if (drift.typeChanged.length > 0) {
    lines.push(
      `schema drift: types changed: ${
        drift.typeChanged.map((d) => `${d.field} ${d.was.join("|")} → ${d.now} (${d.records} records${example(d)})`)
          .join(", ")
      }`,
    );
  }
  return lines;
}
