import { badReasonOf } from "../defects.ts";
import { companyOfContact, customerOfContact, ids, positionAtCompany } from "../links.ts";
import { coprimeStep, intBetween, pick, recordStream, streamTag } from "../random.ts";
import { DAY, EPOCH, isoMillis } from "../time.ts";
import { customer } from "../shop/customers.ts";
import { jobTitles } from "../vocabulary/crm.ts";
import { emailPart, invalidEmail, phoneNumber, retypedEmail } from "../vocabulary/people.ts";
import type { World } from "../world.ts";
import { company } from "./companies.ts";
import type { HubSpotObject } from "./hubspot.ts";

const CONTACT = streamTag("crm.contacts");
const ROW = streamTag("crm.contacts.row");

export interface Contact {
  index: number;
  id: string;
  companyIndex: number;
  /** Set when this contact is also a shop customer: same person, email retyped. */
  customerIndex: number | undefined;
  firstName: string;
  lastName: string;
  /** As the CRM holds it (for customers: other case, stray whitespace). */
  email: string;
  phone: string;
  jobTitle: string;
  createdAt: number;
  updatedAt: number;
}

export function contact(world: World, j: number): Contact {
  const random = recordStream(world.seed, CONTACT, j);
  const companyIndex = companyOfContact(world, j);
  const employer = company(world, companyIndex);
  const customerIndex = customerOfContact(world, j);
  let firstName: string, lastName: string, email: string, phone: string;
  if (customerIndex !== undefined) {
    const person = customer(world, customerIndex);
    ({ firstName, lastName, phone } = person);
    email = retypedEmail(random, person.email);
  } else {
    // the n-th person at a company gets the n-th name pair of a permutation: no two alike, so no two emails alike
    const { firstNames, lastNames } = employer.country;
    const pairs = firstNames.length * lastNames.length;
    const x = (positionAtCompany(world, j) * coprimeStep(pairs, 37) + companyIndex) % pairs;
    firstName = firstNames[x % firstNames.length] as string;
    lastName = lastNames[Math.floor(x / firstNames.length)] as string;
    email = `${emailPart(firstName)}.${emailPart(lastName)}@${employer.domain}`;
    phone = phoneNumber(random, employer.country);
  }
  const createdAt = Math.max(employer.createdAt, EPOCH - intBetween(random, 30, 900) * DAY);
  const updatedAt = createdAt + Math.floor((0.3 + 0.69 * random()) * (EPOCH - createdAt));
  return {
    index: j,
    id: ids.contact(j),
    companyIndex,
    customerIndex,
    firstName,
    lastName,
    email,
    phone,
    jobTitle: pick(random, jobTitles),
    createdAt,
    updatedAt,
  };
}

/** The API object; `older` is the version before the last update (another job title), for duplicates. */
export function contactObject(world: World, j: number, older = false): HubSpotObject {
  const c = contact(world, j);
  const random = recordStream(world.seed, ROW, j);
  const properties: Record<string, string | null> = {
    email: c.email,
    firstname: c.firstName,
    lastname: c.lastName,
    phone: c.phone,
    company_id: ids.company(c.companyIndex),
    jobtitle: c.jobTitle,
  };
  let updatedAt = isoMillis(c.updatedAt);
  if (older) {
    properties.jobtitle = pick(random, jobTitles.filter((title) => title !== c.jobTitle));
    updatedAt = isoMillis(c.createdAt + Math.floor((c.updatedAt - c.createdAt) / 2));
  } else {
    const bad = badReasonOf("contacts", j);
    if (bad === "invalid_email") properties.email = invalidEmail(random, c.email.trim().toLowerCase());
    else if (bad === "missing_required_field") properties.email = null;
  }
  return { id: c.id, properties, createdAt: isoMillis(c.createdAt), updatedAt, archived: false };
}
