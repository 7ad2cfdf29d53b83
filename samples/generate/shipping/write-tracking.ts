import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { badReasonOf, type Entity } from "../defects.ts";
import { ORDERS_START } from "../links.ts";
import { type OnProgress, progressOf } from "../progress.ts";
import { type EntityReport, Tally } from "../report.ts";
import { order } from "../shop/orders.ts";
import { LineFile } from "../sinks/line-file.ts";
import { DAY, EPOCH, isoSeconds } from "../time.ts";
import type { World } from "../world.ts";
import { FEED_START, type TrackedShipment, trackedShipment, type TrackingEvent } from "./tracking.ts";

const SHIPMENTS_PER_FILE = 500;
/** The feed's XML namespace (the default namespace of its documents). */
export const NAMESPACE = "urn:parcelhub:tracking:2";

export interface ShippingOutput {
  reports: Partial<Record<Entity, EntityReport>>;
  files: Record<string, number>;
}

/** Text for an XML text node or attribute value. */
const escape = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

function eventXml(e: TrackingEvent): string {
  return [
    `    <event id="${e.id}">`,
    ...(e.status === undefined ? [] : [`      <status>${e.status}</status>`]),
    `      <timestamp>${escape(e.timestamp)}</timestamp>`,
    `      <location><city>${escape(e.city)}</city><country>${e.country}</country></location>`,
    `      <description><![CDATA[${e.description}]]></description>`,
    `    </event>`,
  ].join("\n");
}

/** A `<shipment>` element of the feed, its scans in it (a duplicated scan twice), indented as in the files. */
export function shipmentXml(s: TrackedShipment): string {
  const events = s.events.flatMap((e) => (e.duplicated ? [eventXml(e), eventXml(e)] : [eventXml(e)]));
  return [
    `  <shipment carrier="${escape(s.carrier)}" trackingNumber="${s.trackingNumber}">`,
    `    <reference>${s.shipmentId}</reference>`,
    ...events,
    `  </shipment>`,
  ].join("\n");
}

/** The lines a feed file starts with; it ends with `</feed>`. */
export const feedStart = () => [
  '<?xml version="1.0" encoding="UTF-8"?>',
  `<feed xmlns="${NAMESPACE}" provider="ParcelHub" exportedAt="${isoSeconds(EPOCH)}">`,
];

/**
 * The shipping provider's tracking feed: `shipping/tracking/feed-0001.xml.gz` …, gzip'd XML of 500 shipments
 * each, the scans of every parcel shipped in the 90 days before the epoch, in order of shipment.
 */
export async function writeTracking(
  world: World,
  outDir: string,
  onProgress?: OnProgress,
): Promise<ShippingOutput> {
  await mkdir(join(outDir, "shipping", "tracking"), { recursive: true });
  const tally = new Tally("tracking_events", "shipping/tracking/*.xml.gz");
  const progress = progressOf("tracking_events", onProgress);
  const files: Record<string, number> = {};
  const { orders } = world.sizes;
  // orders are spread evenly over time, oldest first; a parcel leaves at most 2.5 days after its order
  const first = Math.max(0, Math.floor(((FEED_START - 3 * DAY - ORDERS_START) / (EPOCH - ORDERS_START)) * orders) - 1);
  let file: LineFile | undefined;
  let fileName = "";
  let inFile = 0;
  let eventsInFile = 0;
  let events = 0;
  const close = async () => {
    if (!file) return;
    await file.write("</feed>");
    await file.close();
    files[fileName] = eventsInFile;
  };
  for (let i = first; i < orders; i++) {
    const shipment = trackedShipment(world.seed, order(world, i), events);
    if (!shipment) continue;
    if (!file || inFile === SHIPMENTS_PER_FILE) {
      await close();
      fileName = `shipping/tracking/feed-${String(Object.keys(files).length + 1).padStart(4, "0")}.xml.gz`;
      file = new LineFile(join(outDir, fileName));
      inFile = 0;
      eventsInFile = 0;
      for (const line of feedStart()) await file.write(line);
    }
    await file.write(shipmentXml(shipment));
    inFile += 1;
    for (const event of shipment.events) {
      tally.record(badReasonOf("tracking_events", events));
      eventsInFile += 1;
      if (event.duplicated) {
        tally.duplicate();
        eventsInFile += 1;
      }
      events += 1;
      progress.tick(events);
    }
  }
  await close();
  progress.done(events);
  return { reports: { tracking_events: tally.report() }, files };
}
