/** The ways a record is deliberately bad (the `bad` keys of `report.json`). */
export const badReasons = [
  "missing_required_field",
  "invalid_email",
  "negative_quantity",
  "rating_out_of_range",
  "unknown_currency",
  "unparseable_date",
  "non_numeric_price",
  "truncated_file",
  "wrong_type",
] as const;
export type BadReason = (typeof badReasons)[number];

/** The entities of `samples/SOURCES.md`, in the order `report.json` lists them. */
export const entities = [
  "categories",
  "customers",
  "products",
  "orders",
  "order_items",
  "reviews",
  "payments",
  "shipments",
  "companies",
  "contacts",
  "owners",
  "deals",
  "interactions",
  "agents",
  "conversations",
  "chat_messages",
  "tracking_events",
  "order_analytics",
  "campaigns",
  "variants",
  "sessions",
] as const;
export type Entity = (typeof entities)[number];

/** The entities of the MongoDB catalogue, written only when `generate` is given a database for it. */
export const catalogueEntities = ["variants", "sessions"] as const;
export type CatalogueEntity = (typeof catalogueEntities)[number];

export interface DefectRule {
  /** Record `i` is bad when `i % 100 === badOffset`. */
  readonly badOffset: number;
  /** ...for the reason `reasons[floor(i / 100) % reasons.length]`. */
  readonly reasons: readonly BadReason[];
  /**
   * Record `i` is emitted a second time when `i % 200 === duplicateOffset` (never a bad record: the offsets
   * differ modulo 100). Absent for the shop tables: their primary key is the source key.
   */
  readonly duplicateOffset?: number;
}

/**
 * Which records are bad, and which are emitted twice, by record index. The index of a record is its position
 * in its entity (0-based: `C-0000001` is customer 0). For `order_items` it is the position in
 * (order_id, line_no) order and for `chat_messages` the position in (conversation id, message id) order,
 * webhook messages included; sorting the ids gives both.
 *
 * Offsets are chosen so that small entities (40 categories, 10 owners, 5 agents at scale 2,000) are not
 * dominated by bad records: a rule whose offset is past an entity's size never fires at that scale.
 */
export const defectRules: Readonly<Record<Entity, DefectRule>> = {
  categories: { badOffset: 37, reasons: ["missing_required_field"] },
  customers: { badOffset: 11, reasons: ["invalid_email", "missing_required_field", "unparseable_date"] },
  products: { badOffset: 23, reasons: ["non_numeric_price", "unknown_currency", "missing_required_field"] },
  orders: { badOffset: 47, reasons: ["unknown_currency", "unparseable_date", "missing_required_field"] },
  order_items: { badOffset: 59, reasons: ["negative_quantity", "missing_required_field"] },
  reviews: { badOffset: 31, reasons: ["rating_out_of_range", "unparseable_date", "missing_required_field"] },
  payments: { badOffset: 67, reasons: ["unknown_currency", "unparseable_date", "missing_required_field"] },
  shipments: { badOffset: 73, reasons: ["unparseable_date", "missing_required_field"] },
  companies: { badOffset: 13, reasons: ["missing_required_field", "unparseable_date"], duplicateOffset: 5 },
  contacts: { badOffset: 17, reasons: ["invalid_email", "missing_required_field"], duplicateOffset: 41 },
  owners: { badOffset: 61, reasons: ["invalid_email", "missing_required_field"], duplicateOffset: 103 },
  deals: { badOffset: 29, reasons: ["non_numeric_price", "unknown_currency", "unparseable_date"], duplicateOffset: 9 },
  interactions: { badOffset: 3, reasons: ["unparseable_date", "missing_required_field"], duplicateOffset: 88 },
  agents: { badOffset: 52, reasons: ["invalid_email", "missing_required_field"], duplicateOffset: 152 },
  conversations: {
    badOffset: 37,
    reasons: ["invalid_email", "missing_required_field", "unparseable_date"],
    duplicateOffset: 71,
  },
  chat_messages: { badOffset: 47, reasons: ["missing_required_field", "unparseable_date"] },
  // Index: the event's position in the tracking feed; a duplicate is the same scan sent twice in a row.
  tracking_events: { badOffset: 83, reasons: ["unparseable_date", "missing_required_field"], duplicateOffset: 19 },
  // Index: the order's. The truncated last file is one more bad record, `truncated_file` (see writeAnalytics).
  order_analytics: { badOffset: 89, reasons: ["missing_required_field", "unknown_currency"] },
  // 29 campaigns at every scale: campaign 7 is the one bad one.
  campaigns: { badOffset: 7, reasons: ["unknown_currency"] },
  // Index: the variant's position among all variant subdocuments, in (product, variant) order.
  variants: { badOffset: 43, reasons: ["wrong_type", "missing_required_field"] },
  sessions: { badOffset: 83, reasons: ["wrong_type", "unparseable_date"] },
};

/**
 * Whether catalogue product `p`'s `variants` is a number (how many it has) instead of the array: type drift
 * that leaves no variant to read, one bad `variants` record of reason `wrong_type` instead of its variants.
 */
export function variantsNotAnArray(p: number): boolean {
  return p % 100 === 71;
}

/** Why record `index` of `entity` is bad, or undefined when it is good. */
export function badReasonOf(entity: Entity, index: number): BadReason | undefined {
  const rule = defectRules[entity];
  if (index % 100 !== rule.badOffset) return undefined;
  return rule.reasons[Math.floor(index / 100) % rule.reasons.length];
}

/**
 * Whether record `index` of `entity` is emitted a second time, as an older version of itself (companies,
 * contacts, owners, deals, conversations: an older `updatedAt`/`updated_at`) or as an identical re-export
 * (interactions, agents: they carry no update time). Chat messages are duplicated differently: see
 * {@link isRedelivered}.
 */
export function isDuplicated(entity: Entity, index: number): boolean {
  const offset = defectRules[entity].duplicateOffset;
  return offset !== undefined && index % 200 === offset;
}

/**
 * Whether the n-th webhook-delivered chat message (counting from 0 in message order, see
 * {@link defectRules}) is delivered a second time (at-least-once delivery), when it is not bad. The other
 * duplicate chat messages are the first message of each duplicated conversation: the older snapshot of a
 * conversation repeats it.
 */
export function isRedelivered(webhookMessageIndex: number): boolean {
  return webhookMessageIndex % 10 === 3;
}
