import { sql, type Transaction } from "kysely";
import { camelCased } from "../../db/camel-case.ts";
import type { AlertDelivery, IncidentKind, IncidentRow, MetadataDatabase, MetadataStore } from "../../db/schema.ts";

/** A condition's incident as it opens. */
export interface Opening {
  kind: IncidentKind;
  subject: string;
  summary: string;
  details: Record<string, unknown>;
}

/**
 * Opens an incident and queues its delivery to each channel, in one transaction; nothing when one of
 * the same kind and subject is already open (another daemon opened it first): the unique index on open
 * incidents is the compare-and-set. Returns the new incident's id.
 */
export async function openIncident(
  db: MetadataStore | Transaction<MetadataDatabase>,
  opening: Opening,
  channels: string[],
  daemon: string,
): Promise<number | undefined> {
  const open = async (tx: Transaction<MetadataDatabase>) => {
    const row = await tx.insertInto("ingest.incidents")
      .values({
        kind: opening.kind,
        subject: opening.subject,
        status: "open",
        summary: opening.summary,
        details: JSON.stringify(opening.details),
        daemon,
      })
      .onConflict((oc) => oc.columns(["kind", "subject"]).where("status", "=", "open").doNothing())
      .returning("id")
      .executeTakeFirst();
    if (!row) return undefined;
    await queueDeliveries(tx, Number(row.id), "opened", channels);
    return Number(row.id);
  };
  return db.isTransaction ? open(db as Transaction<MetadataDatabase>) : db.transaction().execute(open);
}

/** Resolves an open incident and queues the resolution's deliveries; false when it was no longer open. */
export async function resolveIncident(
  db: MetadataStore,
  id: number,
  resolution: string,
  channels: string[],
): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    const row = await tx.updateTable("ingest.incidents")
      .set({ status: "resolved", resolved_at: sql`now()`, updated_at: sql`now()`, resolution })
      .where("id", "=", id)
      .where("status", "=", "open")
      .returning("id")
      .executeTakeFirst();
    if (!row) return false;
    await queueDeliveries(tx, id, "resolved", channels);
    return true;
  });
}

async function queueDeliveries(
  tx: Transaction<MetadataDatabase>,
  incident: number,
  event: "opened" | "resolved",
  channels: string[],
): Promise<void> {
  if (channels.length === 0) return;
  await tx.insertInto("ingest.alert_deliveries")
    .values(channels.map((channel) => ({ incident_id: incident, event, channel, status: "pending" as const })))
    .onConflict((oc) => oc.constraint("alert_deliveries_once").doNothing())
    .execute();
}

/** Every open incident. */
export async function openIncidents(db: MetadataStore): Promise<IncidentRow[]> {
  return await db.selectFrom("ingest.incidents").selectAll().where("status", "=", "open").orderBy("id").execute();
}

/** An incident and what became of its deliveries, as `ingest alerts` shows it. */
export interface Incident {
  /** The incident's id. */
  id: number;
  /** What it is about: `run-failed`, `dead-letters`, `freshness` or `worker-dead`. */
  kind: IncidentKind;
  /** The asset (or worker id) it is about. */
  subject: string;
  /** `open` until the condition clears. */
  status: "open" | "resolved";
  /** What happened, in words. */
  summary: string;
  /** The particulars, as data. */
  details: Record<string, unknown>;
  /** How many times it happened while open. */
  occurrences: number;
  /** `host:pid` of the daemon that opened it. */
  daemon: string;
  /** When it was opened. */
  openedAt: Date;
  /** When it last changed. */
  updatedAt: Date;
  /** When it was resolved. */
  resolvedAt: Date | null;
  /** How it cleared, in words. */
  resolution: string | null;
  /** Its opening and resolution per channel: pending, delivered or failed, with attempts and the last error. */
  deliveries: AlertDelivery[];
}

/**
 * Open incidents, then the most recently opened resolved ones, up to `limit` in all (open ones are never
 * left out), each with its deliveries; what `ingest alerts` shows.
 *
 * @example
 * ```ts
 * for (const incident of await listIncidents(db, { status: "open" })) {
 *   console.log(incident.kind, incident.subject, incident.summary, incident.deliveries.map((d) => d.status));
 * }
 * ```
 */
export async function listIncidents(
  db: MetadataStore,
  filter: {
    /** Only open ones, only resolved ones, or both (default). */
    status?: "open" | "resolved" | "all";
    /** How many resolved ones at most, with all open ones (default 20). */
    limit?: number;
  } = {},
): Promise<Incident[]> {
  const status = filter.status ?? "all";
  const open = status === "resolved" ? [] : await openIncidents(db);
  const resolved = status === "open" ? [] : await db.selectFrom("ingest.incidents").selectAll()
    .where("status", "=", "resolved").orderBy("id", "desc").limit(filter.limit ?? 20).execute();
  const rows = [...open.reverse(), ...resolved];
  if (rows.length === 0) return [];
  const deliveries = await db.selectFrom("ingest.alert_deliveries").selectAll()
    .where("incident_id", "in", rows.map((r) => r.id)).orderBy("id").execute();
  return rows.map((row) => ({
    ...camelCased(row),
    id: Number(row.id),
    deliveries: deliveries.filter((d) => Number(d.incident_id) === Number(row.id))
      .map((d) => ({ ...camelCased(d), id: Number(d.id), incidentId: Number(d.incident_id) })),
  }));
}
