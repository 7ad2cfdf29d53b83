import { badReasonOf, isDuplicated } from "../defects.ts";
import { chance, intBetween, pick, type Random, recordStream, streamTag } from "../random.ts";
import { DAY, EPOCH, HOUR, isoSeconds, MINUTE, postgresText, unparseableDate } from "../time.ts";
import type { Order, Shipment } from "../shop/orders.ts";

const TRACKING = streamTag("shipping.tracking");

/** The provider's feed covers the parcels shipped in the last 90 days before the epoch, when it was taken. */
export const FEED_START = EPOCH - 90 * DAY;
/** Where the shop ships from: every parcel's first scans. */
const WAREHOUSE = { city: "Leipzig", country: "DE" } as const;

export type TrackingStatus =
  | "INFO_RECEIVED"
  | "PICKED_UP"
  | "IN_TRANSIT"
  | "DELIVERY_FAILED"
  | "OUT_FOR_DELIVERY"
  | "DELIVERED";

const descriptions: Record<TrackingStatus, readonly string[]> = {
  INFO_RECEIVED: ["Shipment information received", "Label created, parcel not yet handed over"],
  PICKED_UP: ["Picked up from the sender", "Parcel handed over to {carrier}"],
  IN_TRANSIT: ["Arrived at the sorting centre", "Departed the hub & on its way", "Processed at the parcel centre"],
  DELIVERY_FAILED: ["Recipient not at home: notice left", "Delivery attempted <no access to building>"],
  OUT_FOR_DELIVERY: ["Out for delivery", "With the courier for delivery today"],
  DELIVERED: ["Delivered", "Delivered to a neighbour & signed for", "Left at the front door (as agreed)"],
};

/** One scan of a parcel, as the feed writes it: a bad one has an unreadable timestamp or no status. */
export interface TrackingEvent {
  /** `EV-000000001`: the event's position in the feed, the index its defects are drawn by. */
  id: string;
  status: TrackingStatus | undefined;
  /** ISO 8601 in UTC, or as psql prints Berlin time, or (bad) something no parser reads. */
  timestamp: string;
  city: string;
  country: string;
  description: string;
  /** Emitted a second time, right after itself (the provider's at-least-once delivery). */
  duplicated: boolean;
}

/** The parcel as the feed describes it, with its scans up to the epoch in time order. */
export interface TrackedShipment {
  shipmentId: string;
  carrier: string;
  trackingNumber: string;
  events: TrackingEvent[];
}

const eventId = (index: number) => `EV-${String(index + 1).padStart(9, "0")}`;

/**
 * The scans of order `o`'s shipment, numbered from `firstEvent`, or undefined when it is not in the feed
 * (not shipped, or shipped before {@link FEED_START}). A pure function of the world and the order.
 */
export function trackedShipment(seed: number, o: Order, firstEvent: number): TrackedShipment | undefined {
  const s = o.shipment;
  if (!s || s.shippedAt < FEED_START) return undefined;
  const random = recordStream(seed, TRACKING, s.index);
  const destination = { city: pick(random, o.country.cities), country: o.country.code };
  const scans = scansOf(random, s, destination).filter(([, at]) => at <= EPOCH);
  const events = scans.map(([status, at, place], n): TrackingEvent => {
    const index = firstEvent + n;
    const bad = badReasonOf("tracking_events", index);
    const description = pick(random, descriptions[status]).replace("{carrier}", s.carrier);
    const timestamp = bad === "unparseable_date"
      ? unparseableDate(random)
      : chance(random, 0.15)
      ? postgresText(at)
      : isoSeconds(at);
    return {
      id: eventId(index),
      status: bad === "missing_required_field" ? undefined : status,
      timestamp,
      city: place.city,
      country: place.country,
      description,
      duplicated: isDuplicated("tracking_events", index),
    };
  });
  return { shipmentId: s.id, carrier: s.carrier, trackingNumber: s.trackingNumber, events };
}

type Place = { city: string; country: string };

function scansOf(random: Random, s: Shipment, destination: Place): [TrackingStatus, number, Place][] {
  const scans: [TrackingStatus, number, Place][] = [
    ["INFO_RECEIVED", s.shippedAt - intBetween(random, 1, 6) * HOUR, WAREHOUSE],
    ["PICKED_UP", s.shippedAt, WAREHOUSE],
  ];
  const arrival = s.deliveredAt ?? s.shippedAt + 4 * DAY;
  scans.push(["IN_TRANSIT", s.shippedAt + Math.floor((arrival - s.shippedAt) * (0.3 + random() * 0.3)), destination]);
  if (s.deliveredAt === undefined) return scans;
  const outAt = s.deliveredAt - intBetween(random, 2, 5) * HOUR;
  if (chance(random, 0.08) && outAt - DAY > scans[2]![1]) {
    scans.push(["DELIVERY_FAILED", outAt - DAY + intBetween(random, 60, 240) * MINUTE, destination]);
  }
  scans.push(["OUT_FOR_DELIVERY", outAt, destination], ["DELIVERED", s.deliveredAt, destination]);
  return scans;
}
