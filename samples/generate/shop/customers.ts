import { badReasonOf } from "../defects.ts";
import { ids, orderedAt } from "../links.ts";
import { chance, intBetween, pick, recordStream, streamTag, weighted } from "../random.ts";
import { DAY, EPOCH, isoMillis, messyDate, unparseableDate } from "../time.ts";
import {
  type Country,
  countryWeights,
  emailPart,
  globalEmailDomains,
  invalidEmail,
  phoneNumber,
} from "../vocabulary/people.ts";
import type { World } from "../world.ts";

const CUSTOMER = streamTag("shop.customers");
const ROW = streamTag("shop.customers.row");

export interface Customer {
  index: number;
  id: string;
  firstName: string;
  lastName: string;
  /** Lower case and unique (the customer number is part of it). */
  email: string;
  country: Country;
  phone: string;
  createdAt: number;
  updatedAt: number;
}

/** The country is the stream's first draw, so orders can ask for a customer's currency cheaply. */
export function customerCountry(world: World, k: number): Country {
  return weighted(recordStream(world.seed, CUSTOMER, k), countryWeights);
}

export function customer(world: World, k: number): Customer {
  const random = recordStream(world.seed, CUSTOMER, k);
  const country = weighted(random, countryWeights);
  const firstName = pick(random, country.firstNames);
  const lastName = pick(random, country.lastNames);
  const domain = chance(random, 0.6) ? pick(random, globalEmailDomains) : pick(random, country.emailDomains);
  const email = `${emailPart(firstName)}.${emailPart(lastName)}${k + 1}@${domain}`;
  const phone = phoneNumber(random, country);
  // a customer registers shortly before their first order, which is order k (see customerOfOrder)
  const createdAt = orderedAt(world, k) - intBetween(random, 1, 90) * DAY - Math.floor(random() * DAY);
  const updatedAt = createdAt + Math.floor(random() * (EPOCH - createdAt) * 0.9);
  return { index: k, id: ids.customer(k), firstName, lastName, email, country, phone, createdAt, updatedAt };
}

export const customerColumns = [
  ["customer_id", "text"],
  ["email", "text"],
  ["first_name", "text"],
  ["last_name", "text"],
  ["phone", "text"],
  ["country", "text"],
  ["created_at", "text"],
  ["updated_at", "timestamptz"],
] as const;

/** The `shop.customers` row: country as a code, in lower case or as a name; created_at in a messy format. */
export function customerRow(world: World, k: number): (string | null)[] {
  const c = customer(world, k);
  const random = recordStream(world.seed, ROW, k);
  const country = weighted(
    random,
    [[c.country.code, 85], [c.country.code.toLowerCase(), 8], [c.country.name, 7]] as const,
  );
  let email: string | null = c.email;
  let createdAt = messyDate(random, c.createdAt);
  const bad = badReasonOf("customers", k);
  if (bad === "invalid_email") email = invalidEmail(random, c.email);
  else if (bad === "missing_required_field") email = null;
  else if (bad === "unparseable_date") createdAt = unparseableDate(random);
  return [c.id, email, c.firstName, c.lastName, c.phone, country, createdAt, isoMillis(c.updatedAt)];
}
