/**
 * The CRM entities (see samples/SOURCES.md). Companies, contacts, owners and deals come from the
 * HubSpot-shaped API as `{ id, properties: {...}, createdAt, updatedAt, archived }`; the models
 * take that object as it comes (flattened by {@link flattenHubSpotObject}) or already flat
 * (`{ id, ...properties, createdAt, updatedAt }`, as a CSV export would give it). Companies, contacts
 * and deals are also read as rows of the CRM's own database (`deal_id`, `deal_name`, `created_at`, …).
 * Interactions come from `interactions.csv`, sales reps also from the `sales-reps.xlsx` roster.
 */
import { z } from "zod";
import { isSupportedCountry } from "libphonenumber-js/max";
import { field, fromSource, type SourceNames, toE164 } from "../shared/clean.ts";

/**
 * `{ id, properties: { name, ... }, createdAt, updatedAt }` → `{ name, ..., id, createdAt, updatedAt }`:
 * the properties beside the object's own fields, which win a name clash. Other values pass as they are.
 */
export function flattenHubSpotObject(raw: unknown): unknown {
  if (typeof raw !== "object" || raw === null || !("properties" in raw)) return raw;
  const { properties, ...own } = raw as { properties: unknown };
  if (typeof properties !== "object" || properties === null || Array.isArray(properties)) return raw;
  return { ...properties, ...own };
}

/** A model for a HubSpot object: flattened first, then read by source names. */
const hubSpot = <Shape extends z.ZodRawShape>(schema: z.ZodObject<Shape>, names: SourceNames<Shape>) =>
  z.preprocess(flattenHubSpotObject, fromSource(schema, names));

/** A customer company. `domain` is lower-cased; `country` is an ISO 3166-1 alpha-2 code. */
export const Company = hubSpot(
  z.object({
    companyId: field.id,
    name: field.text,
    domain: field.optionalText.transform((d) => d?.toLowerCase() ?? null),
    industry: field.optionalText,
    country: field.country,
    city: field.optionalText,
    createdAt: field.timestamp,
    updatedAt: field.timestamp,
  }),
  { companyId: ["id", "company_id"], createdAt: ["created_at"], updatedAt: ["updated_at"] },
);
export type Company = z.infer<typeof Company>;
export const companyKey = (c: Company): string => c.companyId;

/** The country a national phone number is most likely dialled in: the email domain's country-code TLD. */
function countryOfEmail(email: string): string | undefined {
  const tld = email.split(".").pop()?.toUpperCase();
  const country = tld === "UK" ? "GB" : tld;
  return country && country.length === 2 && isSupportedCountry(country) ? country : undefined;
}

/**
 * A person at a company. A CRM's phone numbers are typed by hand: `phone` is E.164 when the number
 * reads as one (international, or national in the country of the email's domain), else `null`,
 * with what was typed kept in `phoneAsEntered`; an odd phone does not make the contact a bad record.
 */
export const Contact = hubSpot(
  z.object({
    contactId: field.id,
    email: field.email,
    firstName: field.optionalText,
    lastName: field.optionalText,
    phone: field.optionalText,
    companyId: field.optionalId,
    jobTitle: field.optionalText,
    createdAt: field.timestamp,
    updatedAt: field.timestamp,
  }),
  {
    contactId: ["id", "contact_id"],
    firstName: ["firstname", "first_name"],
    lastName: ["lastname", "last_name"],
    companyId: ["company_id"],
    jobTitle: ["jobtitle", "job_title"],
    createdAt: ["created_at"],
    updatedAt: ["updated_at"],
  },
).transform((contact) => {
  let phone: string | null = null;
  try {
    phone = toE164(contact.phone, countryOfEmail(contact.email)) ?? null;
  } catch {
    // kept as entered, below
  }
  return { ...contact, phone, phoneAsEntered: phone === null ? contact.phone : null };
});
export type Contact = z.infer<typeof Contact>;
export const contactKey = (c: Contact): string => c.contactId;

/**
 * A sales rep: a HubSpot owner (`firstName`, `lastName`; `createdAt`, `updatedAt`) or a row of the
 * `Reps` roster keyed by its header (`Owner ID`, `Email`, `Name`, `Team`, `Region`, `Start date`).
 * `name` is the roster's, else first and last name joined; the fields a source lacks are `null`.
 */
export const SalesRep = hubSpot(
  z.object({
    salesRepId: field.id,
    email: field.email,
    name: field.optionalText,
    firstName: field.optionalText,
    lastName: field.optionalText,
    team: field.optionalText,
    region: field.optionalText,
    startDate: field.optionalTimestamp,
    createdAt: field.optionalTimestamp,
    updatedAt: field.optionalTimestamp,
  }),
  {
    salesRepId: ["id", "Owner ID"],
    email: ["Email"],
    name: ["Name"],
    team: ["Team"],
    region: ["Region"],
    startDate: ["Start date"],
  },
).transform((rep, ctx) => {
  const name = rep.name ?? ([rep.firstName, rep.lastName].filter((n) => n !== null).join(" ") || null);
  if (name === null) ctx.issues.push({ code: "custom", message: "Required", input: rep, path: ["name"] });
  return { ...rep, name: name! };
});
export type SalesRep = z.infer<typeof SalesRep>;
export const salesRepKey = (r: SalesRep): string => r.salesRepId;

export const interactionTypes = ["call", "email", "meeting"] as const;

/** A call, email or meeting of a sales rep with a contact, from `interactions.csv`. */
export const Interaction = fromSource(
  z.object({
    interactionId: field.id,
    type: field.oneOf(interactionTypes),
    occurredAt: field.timestamp,
    salesRepId: field.id,
    contactId: field.id,
    subject: field.optionalText,
    notes: field.optionalText,
  }),
  {
    interactionId: ["interaction_id"],
    occurredAt: ["occurred_at"],
    salesRepId: ["owner_id"],
    contactId: ["contact_id"],
  },
);
export type Interaction = z.infer<typeof Interaction>;
export const interactionKey = (i: Interaction): string => i.interactionId;

export const dealStages = [
  "appointmentscheduled",
  "qualifiedtobuy",
  "presentationscheduled",
  "decisionmakerboughtin",
  "contractsent",
  "closedwon",
  "closedlost",
] as const;

/** A deal with a company, owned by a sales rep; `amount` (a string in HubSpot) is in `currency`. */
export const Deal = hubSpot(
  z.object({
    dealId: field.id,
    name: field.text,
    stage: field.oneOf(dealStages),
    amount: field.amount,
    currency: field.currency,
    closeDate: field.optionalTimestamp,
    companyId: field.optionalId,
    salesRepId: field.optionalId,
    createdAt: field.timestamp,
    updatedAt: field.timestamp,
  }),
  {
    dealId: ["id", "deal_id"],
    name: ["dealname", "deal_name"],
    stage: ["dealstage"],
    closeDate: ["closedate", "close_date"],
    companyId: ["company_id"],
    salesRepId: ["owner_id"],
    createdAt: ["created_at"],
    updatedAt: ["updated_at"],
  },
);
export type Deal = z.infer<typeof Deal>;
export const dealKey = (d: Deal): string => d.dealId;
