import { badReasonOf } from "../defects.ts";
import { ids } from "../links.ts";
import { intBetween, pick, recordStream, streamTag, weighted } from "../random.ts";
import { DAY, EPOCH, isoMillis, unparseableDate } from "../time.ts";
import { companyName } from "../vocabulary/crm.ts";
import { type Country, countryWeights } from "../vocabulary/people.ts";
import type { World } from "../world.ts";
import type { HubSpotObject } from "./hubspot.ts";

const COMPANY = streamTag("crm.companies");
const ROW = streamTag("crm.companies.row");

export interface Company {
  index: number;
  id: string;
  name: string;
  /** The name without its legal form: "Nordwind Logistics". */
  shortName: string;
  domain: string;
  industry: string;
  country: Country;
  city: string;
  createdAt: number;
  updatedAt: number;
}

export function company(world: World, k: number): Company {
  const random = recordStream(world.seed, COMPANY, k);
  const country = weighted(random, countryWeights);
  const { name, domain, industry } = companyName(k, country);
  const createdAt = EPOCH - intBetween(random, 200, 1500) * DAY - Math.floor(random() * DAY);
  const updatedAt = createdAt + Math.floor((0.3 + 0.69 * random()) * (EPOCH - createdAt));
  return {
    index: k,
    id: ids.company(k),
    name,
    shortName: name.slice(0, -country.legalForm.length - 1),
    domain,
    industry,
    country,
    city: pick(random, country.cities),
    createdAt,
    updatedAt,
  };
}

/** The API object; `older` is the version before the last update (a different city), for duplicates. */
export function companyObject(world: World, k: number, older = false): HubSpotObject {
  const c = company(world, k);
  const random = recordStream(world.seed, ROW, k);
  const properties: Record<string, string | null> = {
    name: c.name,
    domain: c.domain,
    industry: c.industry,
    country: c.country.code,
    city: c.city,
  };
  let updatedAt = isoMillis(c.updatedAt);
  if (older) {
    properties.city = pick(random, c.country.cities.filter((city) => city !== c.city));
    updatedAt = isoMillis(c.createdAt + Math.floor((c.updatedAt - c.createdAt) / 2));
  } else {
    const bad = badReasonOf("companies", k);
    if (bad === "missing_required_field") properties.name = null;
    else if (bad === "unparseable_date") updatedAt = unparseableDate(random);
  }
  return { id: c.id, properties, createdAt: isoMillis(c.createdAt), updatedAt, archived: false };
}
