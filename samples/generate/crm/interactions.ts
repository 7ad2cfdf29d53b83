import { badReasonOf } from "../defects.ts";
import { contactOfInteraction, dealOfInteraction, ids } from "../links.ts";
import { recordStream, streamTag, weighted } from "../random.ts";
import { DAY, EPOCH, isoSeconds, MINUTE, unparseableDate } from "../time.ts";
import { interactionText } from "../vocabulary/crm.ts";
import type { World } from "../world.ts";
import { company } from "./companies.ts";
import { contact } from "./contacts.ts";
import { deal } from "./deals.ts";

const INTERACTION = streamTag("crm.interactions");

export const interactionHeader = [
  "interaction_id",
  "type",
  "occurred_at",
  "owner_id",
  "contact_id",
  "subject",
  "notes",
] as const;

/** A call, email or meeting of a sales rep with a contact, about a deal with the contact's company when there is one. */
export function interactionRecord(world: World, x: number): string[] {
  const random = recordStream(world.seed, INTERACTION, x);
  const person = contact(world, contactOfInteraction(world, x));
  const employer = company(world, person.companyIndex);
  const d = dealOfInteraction(world, x);
  const about = d === undefined ? undefined : deal(world, d);
  const ownerIndex = about?.ownerIndex ?? x % world.sizes.owners;
  const type = weighted(random, [["call", 45], ["email", 35], ["meeting", 20]] as const);
  const occurredAt = EPOCH - Math.floor(random() * 365 * DAY / MINUTE) * MINUTE;
  const { subject, notes } = interactionText(random, {
    type,
    contactFirstName: person.firstName,
    jobTitle: person.jobTitle,
    companyShortName: employer.shortName,
    city: employer.city,
    deal: about &&
      { name: about.name, amount: String(about.amount).replace(/\B(?=(\d{3})+$)/g, ","), currency: about.currency },
  });
  let occurred = isoSeconds(occurredAt);
  let contactId = person.id;
  const bad = badReasonOf("interactions", x);
  if (bad === "unparseable_date") occurred = unparseableDate(random);
  else if (bad === "missing_required_field") contactId = "";
  return [ids.interaction(x), type, occurred, ids.owner(ownerIndex), contactId, subject, notes];
}
