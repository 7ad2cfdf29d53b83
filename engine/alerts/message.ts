import type { IncidentKind, IncidentRow } from "../../db/schema.ts";

/**
 * What a webhook receives as its JSON body (and what an e-mail says in words) for one event of an
 * incident: it opened, or it was resolved.
 *
 * @example
 * ```ts
 * const alert = JSON.parse(body) as AlertMessage;
 * if (alert.event === "opened" && alert.kind === "run-failed") page(alert.summary, alert.links.commands);
 * ```
 */
export interface AlertMessage {
  /** `opened`, or `resolved` when the condition cleared. */
  event: "opened" | "resolved";
  /** This delivery's id, also in `X-Ingest-Delivery`: the same on every retry, so a receiver can drop a repeat. */
  deliveryId: number;
  /** The incident's id, as `ingest alerts` shows it. */
  incidentId: number;
  /** What it is about: `run-failed`, `dead-letters`, `freshness` or `worker-dead`. */
  kind: IncidentKind;
  /** The asset (or, for `worker-dead`, the worker's id) it is about. */
  subject: string;
  /** The incident's state now: `open` or `resolved`. */
  status: "open" | "resolved";
  /** What happened, in words: `ec/orders failed in run 3f2a1b2c`. */
  summary: string;
  /**
   * The particulars as data: for `run-failed` the run, partitions, error and attempts; for `freshness` the
   * target and by how much it was missed; for `dead-letters` the counts; for `worker-dead` the worker.
   */
  details: Record<string, unknown>;
  /** How many times it happened while open (failed runs of the asset). */
  occurrences: number;
  /** When it was opened (ISO 8601). */
  openedAt: string;
  /** When it was resolved (ISO 8601), or null. */
  resolvedAt: string | null;
  /** How it cleared, in words, or null. */
  resolution: string | null;
  /** The project (alerts' `project`, else its package.json's name). */
  project: string;
  /** The host of the daemon that sent it. */
  host: string;
  /** Where to look: the run's id, when there is a run, and the commands that show more. */
  links: {
    /** The run the incident is about (the latest, for a run that failed again). */
    runId?: string;
    /** `ingest runs show <runId>`, `ingest status <asset>`, `ingest alerts`, …. */
    commands: string[];
  };
}

const what: Record<IncidentKind, string> = {
  "run-failed": "run failed",
  "dead-letters": "dead letters over the threshold",
  freshness: "freshness target missed",
  "worker-dead": "worker dead",
};

/** The message for one event of an incident. */
export function alertMessage(
  incident: IncidentRow,
  event: "opened" | "resolved",
  deliveryId: number,
  where: { project: string; host: string },
): AlertMessage {
  const runId = typeof incident.details.runId === "string" ? incident.details.runId : undefined;
  const commands = [
    ...(runId ? [`ingest runs show ${runId}`] : []),
    ...(incident.kind === "worker-dead" ? ["ingest workers"] : [`ingest status ${incident.subject}`]),
    ...(incident.kind === "dead-letters" ? [`ingest dead-letters --asset ${incident.subject}`] : []),
    "ingest alerts",
  ];
  return {
    event,
    deliveryId,
    incidentId: Number(incident.id),
    kind: incident.kind,
    subject: incident.subject,
    status: incident.status,
    summary: incident.summary,
    details: incident.details,
    occurrences: incident.occurrences,
    openedAt: new Date(incident.opened_at).toISOString(),
    resolvedAt: incident.resolved_at ? new Date(incident.resolved_at).toISOString() : null,
    resolution: incident.resolution,
    project: where.project,
    host: where.host,
    links: { ...(runId && { runId }), commands },
  };
}

/** An e-mail subject that says what and where: `[ingest my-shop] ec/orders failed in run 3f2a1b2c`. */
export function emailSubject(message: AlertMessage): string {
  const line = `${message.event === "resolved" ? "resolved: " : ""}${message.summary}`;
  const subject = `[ingest ${message.project}] ${line}`.replace(/\s+/g, " ");
  return subject.length > 200 ? `${subject.slice(0, 199)}…` : subject;
}

/** The e-mail's plain text: the summary, when and where, the details, and what to run to see more. */
export function emailText(message: AlertMessage): string {
  const time = (iso: string) => iso.replace("T", " ").replace(/\.\d+Z$/, "Z");
  const lines = [
    message.event === "resolved" ? `Resolved: ${message.summary}` : message.summary,
    "",
    ...(message.resolution ? [`How it cleared: ${message.resolution}`, ""] : []),
    `What:      ${what[message.kind]}`,
    `About:     ${message.subject}`,
    `Project:   ${message.project} (daemon on ${message.host})`,
    `Opened:    ${time(message.openedAt)}`,
    ...(message.resolvedAt ? [`Resolved:  ${time(message.resolvedAt)}`] : []),
    ...(message.occurrences > 1 ? [`Occurred:  ${message.occurrences} times while open`] : []),
    ...(message.links.runId ? [`Run:       ${message.links.runId}`] : []),
    "",
    "Details:",
    ...Object.entries(message.details).map(([key, value]) => `  ${key}: ${detail(value)}`),
    "",
    "To see more:",
    ...message.links.commands.map((c) => `  ${c}`),
    "",
    `Incident #${message.incidentId}, delivery #${message.deliveryId}, from ingest-graph.`,
  ];
  return `${lines.join("\n")}\n`;
}

/** A detail as a line (a string's own lines indented), long JSON cut at 500 characters. */
function detail(value: unknown): string {
  if (typeof value === "string") return value.replace(/\n/g, "\n    ");
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 500 ? `${json.slice(0, 499)}…` : json;
}
