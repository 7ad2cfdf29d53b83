import { badReasonOf } from "../defects.ts";
import { ORDERS_START } from "../links.ts";
import { intBetween, pick, recordStream, streamTag } from "../random.ts";
import { DAY, EPOCH, HOUR, isoSeconds } from "../time.ts";
import { unknownCurrencies } from "../vocabulary/people.ts";

const CAMPAIGN = streamTag("analytics.campaigns");

/** The campaigns that run all the time; the others are monthly newsletters and each November's Black Friday. */
const alwaysOn = [
  ["google-shopping", "Google Shopping", "search"],
  ["instagram-ads", "Instagram ads", "social"],
  ["affiliate-deals", "Affiliate deal sites", "affiliate"],
] as const;

/** A marketing campaign as the analytics platform's export holds it, with what it spent each day. */
export interface CampaignJson {
  id: string;
  name: string;
  channel: "search" | "social" | "affiliate" | "email";
  starts_at: string;
  ends_at: string | null;
  budget: { amount: number; currency: string };
  daily_spend: { date: string; eur: number }[];
}

const monthName = (ms: number) =>
  new Date(ms).toLocaleString("en", { month: "long", timeZone: "UTC", year: "numeric" });
const yearMonth = (ms: number) => new Date(ms).toISOString().slice(0, 7);

/** Every campaign of the two years of orders, in a fixed order: the always-on ones, then by start. */
function campaignSpans(): {
  id: string;
  name: string;
  channel: CampaignJson["channel"];
  start: number;
  end?: number;
}[] {
  const spans: { id: string; name: string; channel: CampaignJson["channel"]; start: number; end?: number }[] = alwaysOn
    .map(([id, name, channel]) => ({ id, name, channel, start: ORDERS_START }));
  const first = new Date(ORDERS_START);
  for (let month = Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), 1); month < EPOCH;) {
    const date = new Date(month);
    spans.push({
      id: `newsletter-${yearMonth(month)}`,
      name: `Newsletter ${monthName(month)}`,
      channel: "email",
      start: month + 8 * HOUR,
      end: month + 7 * DAY,
    });
    if (date.getUTCMonth() === 10) {
      const year = date.getUTCFullYear();
      spans.push({
        id: `black-friday-${year}`,
        name: `Black Friday ${year}`,
        channel: "email",
        start: Date.UTC(year, 10, 24),
        end: Date.UTC(year, 11, 1),
      });
    }
    month = Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
  }
  return spans;
}

/** The ids the analytics rows of an order placed at `ms` may name as its campaign. */
export function campaignIdsFor(ms: number): string[] {
  const month = yearMonth(ms);
  const ids = [`newsletter-${month}`, ...alwaysOn.map(([id]) => id)];
  if (month.endsWith("-11")) ids.push(`black-friday-${month.slice(0, 4)}`);
  return ids;
}

/** The export's campaigns, record `c` bad when `badReasonOf("campaigns", c)` says so. */
export function campaigns(seed: number): CampaignJson[] {
  return campaignSpans().map((span, c) => {
    const random = recordStream(seed, CAMPAIGN, c);
    const end = Math.min(span.end ?? EPOCH, EPOCH);
    const daily_spend: CampaignJson["daily_spend"] = [];
    for (let day = Math.floor(span.start / DAY) * DAY; day < end; day += DAY) {
      daily_spend.push({ date: isoSeconds(day).slice(0, 10), eur: intBetween(random, 2_000, 60_000) / 100 });
    }
    const bad = badReasonOf("campaigns", c);
    const budget = Math.ceil(daily_spend.reduce((sum, d) => sum + d.eur, 0) * (1.1 + random() * 0.3) / 100) * 100;
    return {
      id: span.id,
      name: span.name,
      channel: span.channel,
      starts_at: isoSeconds(span.start),
      ends_at: span.end === undefined ? null : isoSeconds(span.end),
      budget: { amount: budget, currency: bad === "unknown_currency" ? pick(random, unknownCurrencies) : "EUR" },
      daily_spend,
    };
  });
}
