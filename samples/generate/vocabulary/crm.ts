import { intBetween, pick, type Random } from "../random.ts";
import type { Country } from "./people.ts";

const prefixes = [
  "Nordwind",
  "Alpen",
  "Baltic",
  "Silverline",
  "Greenfield",
  "Brightwater",
  "Ironworks",
  "Bluebird",
  "Redwood",
  "Northstar",
  "Lakeside",
  "Highland",
  "Sunrise",
  "Oakmont",
  "Stonebridge",
  "Riverside",
  "Westbrook",
  "Eastgate",
  "Crescent",
  "Summit",
  "Harbor",
  "Kestrel",
  "Aster",
  "Fjord",
  "Granite",
  "Meadow",
  "Polar",
  "Copper",
  "Evergreen",
  "Beacon",
];
const cores: readonly (readonly [word: string, industry: string])[] = [
  ["Logistics", "Logistics"],
  ["Retail", "Retail"],
  ["Systems", "Software"],
  ["Foods", "Food & Beverage"],
  ["Hotels", "Hospitality"],
  ["Health", "Healthcare"],
  ["Engineering", "Manufacturing"],
  ["Media", "Media"],
  ["Consulting", "Professional Services"],
  ["Supplies", "Wholesale"],
  ["Interiors", "Construction"],
  ["Outdoor", "Retail"],
  ["Labs", "Research"],
  ["Energy", "Energy"],
  ["Textiles", "Manufacturing"],
  ["Motors", "Automotive"],
  ["Pharma", "Healthcare"],
  ["Academy", "Education"],
  ["Software", "Software"],
  ["Builders", "Construction"],
];
const qualifiers = [
  "",
  "Group",
  "Partners",
  "International",
  "Nordic",
  "Direct",
  "& Co",
  "Holding",
  "Services",
  "Solutions",
  "Collective",
  "Works",
  "Trading",
  "Europe",
  "Digital",
  "Studio",
  "Network",
  "Brands",
  "Industries",
  "Company",
];
const combinations = prefixes.length * cores.length * qualifiers.length;
// spreads consecutive companies over the combinations (coprime with 12,000)
const COMPANY_STEP = 7_919;

/** A distinct company name (and domain) for every index below 12,000, numbered beyond that. */
export function companyName(index: number, country: Country): { name: string; domain: string; industry: string } {
  const x = (index * COMPANY_STEP) % combinations;
  const prefix = prefixes[x % prefixes.length] as string;
  const [core, industry] = cores[Math.floor(x / prefixes.length) % cores.length] as readonly [string, string];
  const qualifier = qualifiers[Math.floor(x / (prefixes.length * cores.length))] as string;
  const round = Math.floor(index / combinations);
  const words = [prefix, core, qualifier, round > 0 ? String(round + 1) : ""].filter(Boolean);
  const slug = words.join("-").toLowerCase().replace(/&/g, "and").replace(/[^a-z0-9-]/g, "");
  return { name: `${words.join(" ")} ${country.legalForm}`, domain: `${slug}.${country.tld}`, industry };
}

export const jobTitles = [
  "Head of Procurement",
  "Purchasing Manager",
  "Office Manager",
  "CFO",
  "IT Director",
  "Operations Manager",
  "Facilities Manager",
  "CEO",
  "Category Manager",
  "Buyer",
  "Head of IT",
  "Marketing Director",
] as const;

const offers = [
  "Laptop fleet refresh ({n} units)",
  "Annual office supplies contract",
  "Headsets for the support team ({n} units)",
  "Conference room displays",
  "Smart lighting pilot",
  "Breakroom coffee machines",
  "B2B webshop account",
  "Employee gift programme",
  "Monitor upgrade ({n} units)",
  "Terrace furniture",
  "Power tools for the maintenance crew",
];

export function dealName(random: Random, companyShortName: string): string {
  return `${companyShortName} – ${pick(random, offers).replace("{n}", String(intBetween(random, 2, 50) * 10))}`;
}

export const salesTeams = ["Enterprise", "Mid-Market", "SMB", "Partnerships"] as const;
export const salesRegions = [
  "DACH",
  "Nordics",
  "UK & Ireland",
  "Benelux",
  "France",
  "Southern Europe",
  "North America",
] as const;

const competitors = ["Officeline", "TechDirect", "ProcureHub", "BüroWelt", "Nordic Office"];
const concerns = [
  "pricing, especially the per-unit cost above 100 units",
  "delivery times to their {city} warehouse",
  "integration with their SAP purchasing system",
  "warranty terms for devices used in the field",
  "they are also evaluating {competitor}",
  "budget is frozen until next quarter",
];
const nextSteps = [
  "send a revised quote by Friday",
  "book a demo with their IT team",
  "follow up after their board meeting",
  "ship two sample units",
  "loop in our logistics team about delivery windows",
];
const replies = [
  "Looks good, we'll sign next week.",
  "Can you do better on price? Your competitor offered 8 % less.",
  "We need approval from finance, back to you soon.",
  "Please include installation, otherwise it's a no-go.",
];
const outcomes = [
  "They agreed to a pilot with 20 units.",
  "Decision postponed to next quarter, budget not approved.",
  "Verbal yes, contract to follow.",
  "They chose a competitor on price; keep in touch for the renewal.",
];

export interface NoteSubject {
  type: "call" | "email" | "meeting";
  contactFirstName: string;
  jobTitle: string;
  companyShortName: string;
  city: string;
  deal: { name: string; amount: string; currency: string } | undefined;
}

/** A subject line and free-text notes (commas, quotes and line breaks included) about a deal and a company. */
export function interactionText(random: Random, s: NoteSubject): { subject: string; notes: string } {
  const deal = s.deal?.name ?? "general account review";
  const concern = pick(random, concerns).replace("{city}", s.city).replace("{competitor}", pick(random, competitors));
  const money = s.deal ? `${s.deal.amount} ${s.deal.currency}` : "not discussed";
  switch (s.type) {
    case "call":
      return {
        subject: pick(random, [
          `Call re ${deal}`,
          `Follow-up call – ${s.companyShortName}`,
          `Intro call with ${s.contactFirstName}`,
        ]),
        notes: pick(random, [
          `Spoke with ${s.contactFirstName} (${s.jobTitle}) about "${deal}". Main concern: ${concern}.\nNext step: ${
            pick(random, nextSteps)
          }.`,
          `Call with ${s.contactFirstName}: they liked the demo, but ${concern}.\n- Budget: ${money}\n- Decision expected in ${
            intBetween(random, 2, 8)
          } weeks\nNext: ${pick(random, nextSteps)}.`,
        ]),
      };
    case "email":
      return {
        subject: pick(random, [`Quote for ${deal}`, `RE: ${deal} pricing`, `Documents for ${s.companyShortName}`]),
        notes: `Sent the revised quote for "${deal}" (${money}), including a ${
          intBetween(random, 3, 12)
        } % volume discount. ${s.contactFirstName} replied: "${pick(random, replies)}"`,
      };
    case "meeting":
      return {
        subject: pick(random, [
          `Meeting at ${s.companyShortName}`,
          `Quarterly review, ${s.companyShortName}`,
          `Workshop: ${deal}`,
        ]),
        notes:
          `On-site meeting at ${s.companyShortName} in ${s.city} with ${s.contactFirstName} (${s.jobTitle}) and two colleagues.\nTopics: ${concern}, service levels, and timelines for "${deal}".\n${
            pick(random, outcomes)
          }`,
      };
  }
}
