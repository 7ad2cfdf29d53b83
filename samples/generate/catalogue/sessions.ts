import type { Document } from "mongodb";
import { type BadReason, badReasonOf } from "../defects.ts";
import { ids } from "../links.ts";
import { intBetween, pick, recordStream, streamTag, weighted } from "../random.ts";
import { DAY, EPOCH, MINUTE, unparseableDate } from "../time.ts";
import { leaves } from "../vocabulary/categories.ts";
import type { World } from "../world.ts";
import { objectIdOf } from "./ids.ts";

const SESSION = streamTag("catalogue.sessions");
const SESSION_ID = streamTag("catalogue.sessions._id");

const devices: readonly (readonly [{ type: string; os: string; browser: string }, number])[] = [
  [{ type: "mobile", os: "iOS", browser: "Safari" }, 30],
  [{ type: "mobile", os: "Android", browser: "Chrome" }, 28],
  [{ type: "desktop", os: "Windows", browser: "Edge" }, 14],
  [{ type: "desktop", os: "macOS", browser: "Safari" }, 12],
  [{ type: "desktop", os: "Linux", browser: "Firefox" }, 6],
  [{ type: "tablet", os: "iPadOS", browser: "Safari" }, 10],
];

/** The customer logged in during web-shop session `s`, for 65 % of sessions (`s % 20 < 13`); others are anonymous. */
export function customerOfSession(world: World, s: number): number | undefined {
  return s % 20 < 13 ? (s * 7 + 5) % world.sizes.customers : undefined;
}

/** Web-shop session `s`: the MongoDB document, and why it is bad (undefined: good). */
export function session(world: World, s: number): { document: Document; bad: BadReason | undefined } {
  const random = recordStream(world.seed, SESSION, s);
  const startedAt = EPOCH - intBetween(random, 60, 90 * DAY / MINUTE) * MINUTE;
  const pages: { path: string; at: Date; productId?: string }[] = [];
  let at = startedAt;
  for (let n = intBetween(random, 1, 8); n > 0; n--) {
    const kind = weighted(random, [["product", 55], ["category", 25], ["home", 10], ["cart", 10]] as const);
    const p = intBetween(random, 0, world.sizes.products - 1);
    const path = kind === "product"
      ? `/p/${ids.product(p)}`
      : kind === "category"
      ? `/c/${ids.category(pick(random, leaves).index)}`
      : kind === "cart"
      ? "/cart"
      : "/";
    pages.push({ path, at: new Date(at), ...(kind === "product" ? { productId: ids.product(p) } : {}) });
    at += intBetween(random, 5, 300) * 1000;
  }
  const customer = customerOfSession(world, s);
  const bad = badReasonOf("sessions", s);
  return {
    document: {
      _id: objectIdOf(world.seed, SESSION_ID, s, startedAt),
      sessionId: `WS-${String(s + 1).padStart(7, "0")}`,
      customerId: customer === undefined ? null : ids.customer(customer),
      startedAt: bad === "unparseable_date" ? unparseableDate(random) : new Date(startedAt),
      endedAt: new Date(at),
      device: weighted(random, devices),
      pages: bad === "wrong_type" ? pages.length : pages,
    },
    bad,
  };
}
