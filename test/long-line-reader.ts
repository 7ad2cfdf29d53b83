/**
 * Reads one file with one reader, in a process of its own, and prints as JSON what came of each item and how much
 * the process grew at most while reading it: how test/integration/fuzz-long-line.test.ts measures a 50 MB line.
 * Each record also goes through its model and canonicalJson, as a staged asset takes it before the insert.
 *
 * `node test/long-line-reader.ts <csv|jsonl|json|xml> <file>`
 */
import { SupportAgent } from "../assets/chat/models.ts";
import { Interaction } from "../assets/crm/models.ts";
import { Campaign } from "../assets/ec/analytics.ts";
import { isBadRow } from "../connectors/bad-rows.ts";
import { readCsv } from "../connectors/csv/index.ts";
import { readJson } from "../connectors/json/index.ts";
import { readJsonLines } from "../connectors/jsonl/index.ts";
import { readXml } from "../connectors/xml/index.ts";
import { canonicalJson } from "../engine/canonical-json.ts";

const [kind, path] = process.argv.slice(2) as [string, string];

const readers: Record<string, () => AsyncIterable<unknown>> = {
  csv: () => readCsv(path),
  jsonl: async function* () {
    for await (const line of readJsonLines(path)) yield isBadRow(line) ? line : line.value;
  },
  json: () => readJson(path),
  xml: () => readXml(path, { record: "shipment" }),
};
const models: Record<string, { safeParse(raw: unknown): { success: boolean; data?: unknown } }> = {
  csv: Interaction,
  jsonl: SupportAgent,
  json: Campaign,
  xml: { safeParse: (raw) => ({ success: true, data: raw }) },
};

const longest = (value: unknown) => Math.max(0, ...Object.values(value as object).map((v) => String(v).length));

const baseline = process.memoryUsage().rss;
const started = performance.now();
const items: unknown[] = [];
for await (const item of readers[kind]!()) {
  if (isBadRow(item)) {
    items.push({ bad: item.__line, error: item.__error.slice(path.length), raw: item.raw.length });
    continue;
  }
  const parsed = models[kind]!.safeParse(item);
  items.push({
    record: parsed.success ? "loaded" : "invalid",
    longest: longest(item),
    stored: parsed.success ? canonicalJson(parsed.data).length : 0,
  });
}
const peak = process.resourceUsage().maxRSS * 1024;
process.stdout.write(
  `${JSON.stringify({ growthMb: (peak - baseline) / 2 ** 20, ms: performance.now() - started, items })}\n`,
);
