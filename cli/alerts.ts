import type { Command } from "commander";
import type { AlertDelivery } from "../db/schema.ts";
import { alertChannels } from "../engine/alerts/channels.ts";
import { type Incident, listIncidents } from "../engine/alerts/incidents.ts";
import { globals, loadGraph, openMetadata, output } from "./context.ts";
import { shortTime, table } from "./table.ts";

/** `ingest alerts`: open and recent incidents, their deliveries, and the channels this project has. */
export async function alerts(options: { open?: boolean; limit: number }, command: Command): Promise<void> {
  const graph = await loadGraph(globals(command).definitions);
  const { channels, channelProblem } = alertChannels(graph.definitions.alerts);
  await using store = await openMetadata({ migrate: "if-behind" });
  const incidents = await listIncidents(store.db, { status: options.open ? "open" : "all", limit: options.limit });
  output(command, { channels, ...(channelProblem && { channelProblem }), incidents }, () => {
    const head = channelProblem
      ? `channels: none: ${channelProblem}`
      : channels.length > 0
      ? `channels: ${channels.map((c) => c.description).join("; ")}`
      : "channels: none configured (alerts in the definitions, or INGEST_ALERT_WEBHOOK_URL, INGEST_ALERT_SMTP_URL):" +
        " incidents are recorded, not sent";
    if (incidents.length === 0) return `${head}\nno incidents`;
    const rows: string[][] = [];
    const notes = new Map<number, string[]>();
    for (const incident of incidents) {
      rows.push(incidentRow(incident));
      notes.set(rows.length - 1, [
        ...(incident.resolution ? [`→ ${incident.resolution}`] : []),
        ...incident.deliveries.map(describeDelivery),
      ]);
    }
    const lines = table(rows).split("\n").flatMap((
      line,
      i,
    ) => [line, ...(notes.get(i) ?? []).map((n) => `      ${n}`)]);
    return [head, "", ...lines].join("\n");
  });
}

function incidentRow(incident: Incident): string[] {
  const when = incident.resolvedAt
    ? `${shortTime(incident.openedAt)} – ${shortTime(incident.resolvedAt)}`
    : `since ${shortTime(incident.openedAt)}`;
  const times = incident.occurrences > 1 ? ` (${incident.occurrences} times)` : "";
  return [incident.status, `#${incident.id}`, incident.kind, when, `${incident.summary}${times}`];
}

function describeDelivery(d: AlertDelivery): string {
  const attempts = `${d.attempts} attempt${d.attempts === 1 ? "" : "s"}`;
  const state = d.status === "delivered"
    ? `delivered ${shortTime(d.deliveredAt)} (${attempts}${
      d.attempts > 1 && d.lastError ? `; the last to fail: ${d.lastError}` : ""
    })`
    : d.status === "failed"
    ? `failed after ${attempts}: ${d.lastError}`
    : d.lastError
    ? `pending: ${attempts} failed, the last with ${d.lastError}; next at ${shortTime(d.nextAttemptAt)}`
    : "pending";
  return `${d.event.padEnd(8)} ${d.channel}  ${state}`;
}
