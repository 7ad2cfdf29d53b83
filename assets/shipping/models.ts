/**
 * The shipping provider's tracking feed (`shipping/tracking/*.xml.gz`, see samples/SOURCES.md): each
 * `<shipment>` holds the parcel's scans, and each scan becomes one record with its shipment's fields.
 */
import { z } from "zod";
import { field, fromSource } from "../shared/clean.ts";

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
