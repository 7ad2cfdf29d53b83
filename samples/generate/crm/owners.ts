import { badReasonOf } from "../defects.ts";
import { ids } from "../links.ts";
import { coprimeStep, intBetween, pick, recordStream, streamTag } from "../random.ts";
import { DAY, EPOCH, isoMillis } from "../time.ts";
import { salesRegions, salesTeams } from "../vocabulary/crm.ts";
import { emailPart, invalidEmail, staffFirstNames, staffLastNames } from "../vocabulary/people.ts";
import type { World } from "../world.ts";
import type { HubSpotObject } from "./hubspot.ts";

const OWNER = streamTag("crm.owners");
const ROW = streamTag("crm.owners.row");

/** A distinct name for each member of staff (below 460 of them), and an email built from it. */
export function staffMember(index: number, salt: number, domain: string) {
  const pairs = staffFirstNames.length * staffLastNames.length;
  const x = (index * coprimeStep(pairs, 101) + salt) % pairs;
  const firstName = staffFirstNames[x % staffFirstNames.length] as string;
  const lastName = staffLastNames[Math.floor(x / staffFirstNames.length)] as string;
  const round = Math.floor(index / pairs);
  return {
    firstName,
    lastName,
    email: `${emailPart(firstName)}.${emailPart(lastName)}${round > 0 ? round + 1 : ""}@${domain}`,
  };
}

export interface Owner {
  index: number;
  id: string;
  firstName: string;
  lastName: string;
  email: string;
  team: string;
  region: string;
  startedAt: number;
  updatedAt: number;
}

/** A sales rep: a HubSpot owner, and a row of the HR roster. */
export function owner(world: World, o: number): Owner {
  const random = recordStream(world.seed, OWNER, o);
  const { firstName, lastName, email } = staffMember(o, 11, "brightcart.eu");
  const startedAt = EPOCH - intBetween(random, 60, 3000) * DAY;
  return {
    index: o,
    id: ids.owner(o),
    firstName,
    lastName,
    email,
    team: pick(random, salesTeams),
    region: pick(random, salesRegions),
    startedAt,
    updatedAt: startedAt + Math.floor((0.3 + 0.69 * random()) * (EPOCH - startedAt)),
  };
}

/** The API object; `older` is the version before a team change, for duplicates. */
export function ownerObject(world: World, o: number, older = false): HubSpotObject {
  const rep = owner(world, o);
  const random = recordStream(world.seed, ROW, o);
  const properties: Record<string, string | null> = {
    email: rep.email,
    firstName: rep.firstName,
    lastName: rep.lastName,
    team: rep.team,
  };
  let updatedAt = isoMillis(rep.updatedAt);
  if (older) {
    properties.team = pick(random, salesTeams.filter((team) => team !== rep.team));
    updatedAt = isoMillis(rep.startedAt + Math.floor((rep.updatedAt - rep.startedAt) / 2));
  } else {
    const bad = badReasonOf("owners", o);
    if (bad === "invalid_email") properties.email = invalidEmail(random, rep.email);
    else if (bad === "missing_required_field") properties.email = null;
  }
  return { id: rep.id, properties, createdAt: isoMillis(rep.startedAt), updatedAt, archived: false };
}
