import { badReasonOf } from "../defects.ts";
import { ids } from "../links.ts";
import { pick, recordStream, streamTag } from "../random.ts";
import { invalidEmail } from "../vocabulary/people.ts";
import type { World } from "../world.ts";
import { staffMember } from "../crm/owners.ts";

const AGENT = streamTag("chat.agents");
const ROW = streamTag("chat.agents.row");

export const supportTeams = ["Orders & Shipping", "Returns & Refunds", "Product Support", "Billing"] as const;

export interface Agent {
  index: number;
  id: string;
  firstName: string;
  lastName: string;
  email: string;
  team: string;
}

export function agent(world: World, a: number): Agent {
  const random = recordStream(world.seed, AGENT, a);
  const { firstName, lastName, email } = staffMember(a, 211, "support.brightcart.eu");
  return { index: a, id: ids.agent(a), firstName, lastName, email, team: pick(random, supportTeams) };
}

/** The line of `chat/export/agents.jsonl`. */
export function agentObject(world: World, a: number): { id: string; name: string | null; email: string; team: string } {
  const person = agent(world, a);
  const random = recordStream(world.seed, ROW, a);
  let name: string | null = `${person.firstName} ${person.lastName}`;
  let email = person.email;
  const bad = badReasonOf("agents", a);
  if (bad === "invalid_email") email = invalidEmail(random, email);
  else if (bad === "missing_required_field") name = null;
  return { id: person.id, name, email, team: person.team };
}
