/**
 * The shipping provider's tracking feed (`shipping/tracking/*.xml.gz`, see samples/SOURCES.md): each
 * `<shipment>` holds the parcel's scans, and each scan becomes one record with its shipment's fields.
 */
import { join } from "node:path";
import { z } from "zod";
import { defineNodeAsset, defineRelationshipAsset } from "../../connectors/neo4j/index.ts";
import { defineStagedAsset } from "../../connectors/staging/index.ts";
import { isBadRow } from "../../connectors/bad-rows.ts";
import { filesIn, observeFiles } from "../../connectors/file-input.ts";
import { readXml, type XmlElement } from "../../connectors/xml/index.ts";
import { sourcesDir } from "../../resources/settings.ts";
import { field, fromSource } from "../shared/clean.ts";
import { shipmentNodes } from "./orders.ts";

export const trackingStatuses = [
  "info_received",
  "picked_up",
  "in_transit",
  "delivery_failed",
  "out_for_delivery",
  "delivered",
] as const;

/**
 * A scan of a parcel: what happened (`status`), when and where. `shipmentId` is the shop's shipment the
 * provider was given as reference; `occurredAt` is read from UTC ISO or psql-style Berlin time.
 */
export const TrackingEvent = fromSource(
  z.object({
    eventId: field.id,
    shipmentId: field.id,
    carrier: field.optionalText,
    trackingNumber: field.text,
    status: field.oneOf(trackingStatuses),
    occurredAt: field.timestamp,
    city: field.optionalText,
    country: field.country,
    description: field.optionalText,
  }),
  {
    eventId: ["id"],
    shipmentId: ["reference"],
    occurredAt: ["timestamp"],
    city: ["location.city"],
    country: ["location.country"],
  },
);
export type TrackingEvent = z.infer<typeof TrackingEvent>;
export const trackingEventKey = (e: TrackingEvent): string => e.eventId;

/** The feed's files in the landing folder, oldest first (`feed-0001.xml.gz`, …; plain `.xml` too). */
const feedFiles = () => filesIn(join(sourcesDir, "shipping", "tracking"), /\.xml(\.gz)?$/);

/** A `<shipment>`'s scans, each with the shipment's reference, carrier and tracking number. */
function eventsOf(shipment: XmlElement): unknown[] {
  const { event, reference, carrier, trackingNumber } = shipment;
  const events = event === undefined ? [] : Array.isArray(event) ? event : [event];
  return events.map((e) => ({ ...(typeof e === "string" ? { "#text": e } : e), reference, carrier, trackingNumber }));
}

/** Tracking events from the shipping provider's XML feed; a scan the provider sent twice is staged once. */
export const stagedTrackingEvents = defineStagedAsset<TrackingEvent>({
  key: "ec/tracking_events",
  codeVersion: "1",
  table: "ec_tracking_events",
  source: "shipping/tracking/*.xml.gz",
  model: TrackingEvent,
  sourceKey: trackingEventKey,
  rawKey: (event) => event.id,
  observe: () => observeFiles(feedFiles()),
  async *extract() {
    for (const file of feedFiles()) {
      for await (const shipment of readXml(file, { record: "shipment" })) {
        if (isBadRow(shipment)) yield shipment;
        else yield* eventsOf(shipment);
      }
    }
  },
});

export const trackingEventNodes = defineNodeAsset<TrackingEvent>({
  key: "graph/TrackingEvent",
  codeVersion: "1",
  label: "TrackingEvent",
  keyProperty: "eventId",
  indexes: ["occurredAt", "status"],
  from: stagedTrackingEvents,
  properties: (e) => ({ ...e }),
});

/** `(:Shipment)-[:HAD_EVENT]->(:TrackingEvent)`. */
export const hadEvent = defineRelationshipAsset<TrackingEvent>({
  key: "graph/HAD_EVENT",
  codeVersion: "1",
  type: "HAD_EVENT",
  from: stagedTrackingEvents,
  start: { node: shipmentNodes, value: (e) => e.shipmentId },
  end: { node: trackingEventNodes, value: (e) => e.eventId },
  properties: (e) => ({ status: e.status, occurredAt: e.occurredAt }),
});
