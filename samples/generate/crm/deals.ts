import { badReasonOf } from "../defects.ts";
import { companyOfDeal, ids, ownerOfDeal } from "../links.ts";
import { chance, intBetween, pick, recordStream, streamTag } from "../random.ts";
import { DAY, EPOCH, isoMillis, unparseableDate } from "../time.ts";
import { dealName } from "../vocabulary/crm.ts";
import { eurRates, unknownCurrencies } from "../vocabulary/people.ts";
import type { World } from "../world.ts";
import { company } from "./companies.ts";
import type { HubSpotObject } from "./hubspot.ts";

const DEAL = streamTag("crm.deals");
const ROW = streamTag("crm.deals.row");

const openStages = [
  "appointmentscheduled",
  "qualifiedtobuy",
  "presentationscheduled",
  "decisionmakerboughtin",
  "contractsent",
] as const;

export interface Deal {
  index: number;
  id: string;
  name: string;
  stage: string;
  amount: number;
  currency: string;
  closeDate: number;
  companyIndex: number;
  ownerIndex: number;
  createdAt: number;
  updatedAt: number;
}

/** Deals close over the last 18 months (won or lost) and the next six (still open). */
export function deal(world: World, d: number): Deal {
  const random = recordStream(world.seed, DEAL, d);
  const companyIndex = companyOfDeal(world, d);
  const buyer = company(world, companyIndex);
  const closeDate = EPOCH - 540 * DAY + Math.floor(random() * 720) * DAY;
  const stage = closeDate < EPOCH ? (chance(random, 0.55) ? "closedwon" : "closedlost") : pick(random, openStages);
  const amount = Math.round(intBetween(random, 20, 2500) * 100 * (eurRates[buyer.country.currency] ?? 1));
  const createdAt = Math.min(closeDate, EPOCH) - intBetween(random, 30, 180) * DAY;
  const updatedAt = Math.min(
    EPOCH - DAY,
    Math.max(createdAt + DAY, Math.min(closeDate, EPOCH) - intBetween(random, 0, 20) * DAY),
  );
  return {
    index: d,
    id: ids.deal(d),
    name: dealName(random, buyer.shortName),
    stage,
    amount,
    currency: buyer.country.currency,
    closeDate,
    companyIndex,
    ownerIndex: ownerOfDeal(world, d),
    createdAt,
    updatedAt,
  };
}

const nonNumericAmounts = ["TBD", "n/a", "see notes", "twelve thousand"];

/** The API object; `older` is the version of an earlier stage with a first estimate, for duplicates. */
export function dealObject(world: World, d: number, older = false): HubSpotObject {
  const deal_ = deal(world, d);
  const random = recordStream(world.seed, ROW, d);
  const properties: Record<string, string | null> = {
    dealname: deal_.name,
    dealstage: deal_.stage,
    amount: String(deal_.amount),
    currency: deal_.currency,
    closedate: isoMillis(deal_.closeDate),
    company_id: ids.company(deal_.companyIndex),
    owner_id: ids.owner(deal_.ownerIndex),
  };
  let updatedAt = isoMillis(deal_.updatedAt);
  if (older) {
    properties.dealstage = pick(random, ["appointmentscheduled", "qualifiedtobuy"]);
    properties.amount = String(Math.round(deal_.amount * 0.8));
    updatedAt = isoMillis(deal_.createdAt + Math.floor((deal_.updatedAt - deal_.createdAt) / 2));
  } else {
    const bad = badReasonOf("deals", d);
    if (bad === "non_numeric_price") properties.amount = pick(random, nonNumericAmounts);
    else if (bad === "unknown_currency") properties.currency = pick(random, unknownCurrencies);
    else if (bad === "unparseable_date") properties.closedate = unparseableDate(random);
  }
  return { id: deal_.id, properties, createdAt: isoMillis(deal_.createdAt), updatedAt, archived: false };
}
