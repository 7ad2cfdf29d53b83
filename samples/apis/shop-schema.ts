import {
  GraphQLBoolean,
  GraphQLError,
  GraphQLID,
  GraphQLInt,
  GraphQLList,
  GraphQLNonNull,
  type GraphQLNullableOutputType,
  GraphQLObjectType,
  GraphQLScalarType,
  GraphQLSchema,
  GraphQLString,
} from "graphql";
import type pg from "pg";
import { decodeCursor, encodeCursor } from "./http.ts";

/** What the resolvers read: the shop's database and the schema its tables are in. */
export interface ShopContext {
  pool: pg.Pool;
  schema: string;
}

/** Shopify's `Decimal`: a number as a string. A value that is not a number is a field error in the 200. */
const Decimal = new GraphQLScalarType({
  name: "Decimal",
  description: "A signed decimal number, serialised as a string (Shopify's Decimal).",
  coerceOutputValue(value) {
    const text = String(value).trim();
    if (!/^-?\d+(\.\d+)?$/.test(text)) {
      throw new GraphQLError(`Decimal cannot represent a non-numeric value: ${JSON.stringify(value)}`);
    }
    return text;
  },
});

const DateTime = new GraphQLScalarType({
  name: "DateTime",
  description: "An ISO 8601 timestamp.",
  coerceOutputValue: (value) => (value instanceof Date ? value.toISOString() : String(value)),
});

const nonNull = <T extends GraphQLNullableOutputType>(type: T) => new GraphQLNonNull(type);

const PageInfo = new GraphQLObjectType({
  name: "PageInfo",
  fields: {
    hasNextPage: { type: nonNull(GraphQLBoolean) },
    hasPreviousPage: { type: nonNull(GraphQLBoolean) },
    startCursor: { type: GraphQLString },
    endCursor: { type: GraphQLString },
  },
});

interface Connection<T> {
  edges: { cursor: string; node: T }[];
  nodes: T[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

/** `XConnection { edges { cursor node } nodes pageInfo }`, Relay's shape as Shopify serves it. */
function connectionType(node: GraphQLObjectType): GraphQLObjectType {
  const edge = new GraphQLObjectType({
    name: `${node.name}Edge`,
    fields: { cursor: { type: nonNull(GraphQLString) }, node: { type: nonNull(node) } },
  });
  return new GraphQLObjectType({
    name: `${node.name}Connection`,
    fields: {
      edges: { type: nonNull(new GraphQLList(nonNull(edge))) },
      nodes: { type: nonNull(new GraphQLList(nonNull(node))) },
      pageInfo: { type: nonNull(PageInfo) },
    },
  });
}

/** Rows `[0, first)` as a connection; a `first + 1`-th row says there is a next page. */
function connectionOf<T>(rows: T[], first: number, after: unknown, keyOf: (row: T) => string): Connection<T> {
  const page = rows.slice(0, first);
  const edges = page.map((node) => ({ cursor: encodeCursor({ last_id: keyOf(node) }), node }));
  return {
    edges,
    nodes: page,
    pageInfo: {
      hasNextPage: rows.length > first,
      hasPreviousPage: after !== undefined && after !== null,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}

const connectionArgs = {
  first: { type: GraphQLInt },
  after: { type: GraphQLString },
  query: { type: GraphQLString, description: "Shopify search syntax; `updated_at:>'<ISO time>'` is understood." },
};

/** The id after which a page starts, from an `after` cursor; a cursor that is not ours is a GraphQL error. */
function afterKey(after: unknown): string | undefined {
  if (after === undefined || after === null) return undefined;
  const value = decodeCursor(String(after)) as { last_id?: unknown } | undefined;
  if (typeof value?.last_id !== "string") throw new GraphQLError(`Invalid cursor: ${JSON.stringify(after)}`);
  return value.last_id;
}

/** `first` between 1 and 250, as Shopify allows. */
function pageSize(first: unknown): number {
  if (typeof first !== "number" || first < 1 || first > 250) {
    throw new GraphQLError("you must provide a `first` value between 1 and 250", {
      extensions: { code: "BAD_REQUEST" },
    });
  }
  return first;
}

/** `updated_at:>'2026-01-01T00:00:00Z'` (or `>=`) from a search query; undefined when there is none. */
function updatedSince(query: unknown): { time: string; inclusive: boolean } | undefined {
  const match = /updated_at:(>=?)'?([^' ]+)'?/.exec(typeof query === "string" ? query : "");
  if (!match) return undefined;
  if (Number.isNaN(Date.parse(match[2]!))) throw new GraphQLError(`Invalid updated_at in query: ${match[2]}`);
  return { time: match[2]!, inclusive: match[1] === ">=" };
}

const gid = (type: string, id: string) => `gid://shopify/${type}/${id}`;

type Row = Record<string, unknown>;

const Category = new GraphQLObjectType({
  name: "TaxonomyCategory",
  fields: { id: { type: nonNull(GraphQLID), resolve: (id: string) => id } },
});

const Product = new GraphQLObjectType<Row>({
  name: "Product",
  fields: {
    id: { type: nonNull(GraphQLID), resolve: (p) => gid("Product", String(p.product_id)) },
    legacyResourceId: { type: nonNull(GraphQLString), resolve: (p) => p.product_id },
    sku: { type: GraphQLString, resolve: (p) => p.sku },
    title: { type: GraphQLString, resolve: (p) => p.name },
    descriptionHtml: { type: GraphQLString, resolve: (p) => p.description },
    category: { type: Category, resolve: (p) => p.category_id },
    price: { type: Decimal, resolve: (p) => p.price },
    currencyCode: { type: GraphQLString, resolve: (p) => (typeof p.currency === "string" ? p.currency.trim() : null) },
    updatedAt: { type: nonNull(DateTime), resolve: (p) => p.updated_at },
  },
});

const LineItem = new GraphQLObjectType<Row>({
  name: "LineItem",
  fields: {
    id: { type: nonNull(GraphQLID), resolve: (l) => gid("LineItem", `${l.order_id}:${l.line_no}`) },
    lineNumber: { type: nonNull(GraphQLInt), resolve: (l) => l.line_no },
    quantity: { type: GraphQLInt, resolve: (l) => l.quantity },
    originalUnitPrice: { type: Decimal, resolve: (l) => l.unit_price },
    discount: { type: Decimal, resolve: (l) => l.discount },
    product: {
      type: new GraphQLObjectType({
        name: "LineItemProduct",
        fields: { legacyResourceId: { type: nonNull(GraphQLString), resolve: (id: string) => id } },
      }),
      resolve: (l) => l.product_id,
    },
  },
});

const Customer = new GraphQLObjectType({
  name: "Customer",
  fields: {
    id: { type: nonNull(GraphQLID), resolve: (id: string) => gid("Customer", id) },
    legacyResourceId: { type: nonNull(GraphQLString), resolve: (id: string) => id },
  },
});

const Order = new GraphQLObjectType<Row & { lineItems?: Row[] }>({
  name: "Order",
  fields: {
    id: { type: nonNull(GraphQLID), resolve: (o) => gid("Order", String(o.order_id)) },
    legacyResourceId: { type: nonNull(GraphQLString), resolve: (o) => o.order_id },
    name: { type: nonNull(GraphQLString), resolve: (o) => `#${o.order_id}` },
    processedAt: { type: GraphQLString, resolve: (o) => o.ordered_at },
    displayFinancialStatus: { type: GraphQLString, resolve: (o) => o.status },
    currencyCode: { type: GraphQLString, resolve: (o) => (typeof o.currency === "string" ? o.currency.trim() : null) },
    totalPrice: { type: Decimal, resolve: (o) => o.total },
    customer: { type: Customer, resolve: (o) => o.customer_id },
    updatedAt: { type: nonNull(DateTime), resolve: (o) => o.updated_at },
    lineItems: {
      type: nonNull(connectionType(LineItem)),
      args: { first: { type: GraphQLInt } },
      resolve: (o, args: { first?: number }) =>
        connectionOf(o.lineItems ?? [], pageSize(args.first), undefined, (l) => String(l.line_no)),
    },
  },
});

async function page(
  { pool, schema }: ShopContext,
  table: "products" | "orders",
  key: string,
  args: { first?: unknown; after?: unknown; query?: unknown },
): Promise<Row[]> {
  const first = pageSize(args.first);
  const since = updatedSince(args.query);
  const { rows } = await pool.query(
    `select * from ${schema}.${table}
     where ($1::text is null or ${key} > $1)
       and ($2::timestamptz is null or updated_at ${since?.inclusive ? ">=" : ">"} $2)
     order by ${key} limit $3`,
    [afterKey(args.after) ?? null, since?.time ?? null, first + 1],
  );
  return rows;
}

/**
 * The Admin API's `products` and `orders` connections over the shop database's tables, as the shop's own
 * online store would serve them: `first`/`after`, `pageInfo`, `query: "updated_at:>'…'"`. Prices are
 * `Decimal`s: a shop price that is not a number (`N/A`) is a field error inside the 200.
 */
export const shopSchema: GraphQLSchema = new GraphQLSchema({
  query: new GraphQLObjectType<unknown, ShopContext>({
    name: "QueryRoot",
    fields: {
      products: {
        type: nonNull(connectionType(Product)),
        args: connectionArgs,
        resolve: async (_, args, context) =>
          connectionOf(
            await page(context, "products", "product_id", args),
            pageSize(args.first),
            args.after,
            (p) => String(p.product_id),
          ),
      },
      orders: {
        type: nonNull(connectionType(Order)),
        args: connectionArgs,
        async resolve(_, args, context) {
          const rows = await page(context, "orders", "order_id", args);
          const { rows: items } = await context.pool.query(
            `select * from ${context.schema}.order_items where order_id = any($1) order by order_id, line_no`,
            [rows.map((o) => o.order_id)],
          );
          const byOrder = Map.groupBy(items as Row[], (item) => item.order_id);
          for (const o of rows) o.lineItems = byOrder.get(o.order_id) ?? [];
          return connectionOf(rows, pageSize(args.first), args.after, (o) => String(o.order_id));
        },
      },
    },
  }),
});
