import { defineCollectionAsset } from "../../connectors/chroma/index.ts";
import { defineNodeAsset, defineRelationshipAsset } from "../../connectors/neo4j/index.ts";
import { defineStagedAsset } from "../../connectors/staging/index.ts";
import type { pg } from "../../resources/postgres.ts";
import { observeTable, readTable } from "../../connectors/postgres/index.ts";
import type { GraphqlClient } from "../../connectors/graphql/index.ts";
import { Category, categoryKey, Product, productKey, productOfShopify } from "./models.ts";

type Shop = { shop: pg.Pool };

/** The category tree, from the shop database. */
export const stagedCategories = defineStagedAsset<Category, Shop>({
  key: "ec/categories",
  codeVersion: "1",
  table: "ec_categories",
  source: "shop.categories",
  model: Category,
  sourceKey: categoryKey,
  rawKey: (row) => row.category_id,
  updatedAt: (c) => c.updatedAt,
  resources: ["shop"],
  extract: ({ resources: { shop } }) => readTable(shop, "select * from shop.categories order by category_id"),
  observe: ({ resources: { shop } }) => observeTable(shop, "shop.categories", { updatedAt: "updated_at" }),
});

export const categoryNodes = defineNodeAsset<Category>({
  key: "graph/Category",
  codeVersion: "1",
  label: "Category",
  keyProperty: "categoryId",
  indexes: ["name"],
  from: stagedCategories,
  properties: (c) => ({ ...c }),
});

/** `(:Category)-[:SUBCATEGORY_OF]->(:Category)`: the tree. */
export const subcategoryOf = defineRelationshipAsset<Category>({
  key: "graph/SUBCATEGORY_OF",
  codeVersion: "1",
  type: "SUBCATEGORY_OF",
  from: stagedCategories,
  where: (c) => c.parentId !== null,
  start: { node: categoryNodes, value: (c) => c.categoryId },
  end: { node: categoryNodes, value: (c) => c.parentId },
});

/** The shop's products through its GraphQL Admin API, 250 a page. */
const productsQuery = `query Products($first: Int!, $after: String) {
  products(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { legacyResourceId sku title descriptionHtml category { id } price currencyCode updatedAt } }
  }
}`;

/**
 * The catalogue, from the online store's GraphQL API (served over the shop database); descriptions arrive
 * as HTML and are kept as text. A price the API cannot serialise comes as a GraphQL error inside the 200,
 * and its product is dead-lettered with it.
 */
export const stagedProducts = defineStagedAsset<Product, Shop & { shopApi: GraphqlClient }>({
  key: "ec/products",
  codeVersion: "3",
  table: "ec_products",
  source: "shop GraphQL API: products",
  model: Product,
  sourceKey: productKey,
  rawKey: (row) => row.product_id,
  updatedAt: (p) => p.updatedAt,
  resources: ["shop", "shopApi"],
  async *extract({ resources: { shopApi } }) {
    const nodes = shopApi.connection<{ legacyResourceId: string }>(productsQuery, {
      path: "products",
      pageSize: 250,
      keyOf: (node) => node.legacyResourceId,
    });
    for await (const node of nodes) yield productOfShopify(node);
  },
  observe: ({ resources: { shop } }) => observeTable(shop, "shop.products", { updatedAt: "updated_at" }),
});

export const productNodes = defineNodeAsset<Product>({
  key: "graph/Product",
  codeVersion: "2",
  label: "Product",
  keyProperty: "productId",
  indexes: ["sku"],
  from: stagedProducts,
  properties: (p) => ({ ...p }),
});

/** `(:Product)-[:IN_CATEGORY]->(:Category)`. */
export const inCategory = defineRelationshipAsset<Product>({
  key: "graph/IN_CATEGORY",
  codeVersion: "1",
  type: "IN_CATEGORY",
  from: stagedProducts,
  start: { node: productNodes, value: (p) => p.productId },
  end: { node: categoryNodes, value: (p) => p.categoryId },
});

/** The `products` collection: name and description, filterable by category and price. */
export const productVectors = defineCollectionAsset<Product>({
  key: "vectors/products",
  codeVersion: "2",
  collection: "products",
  from: stagedProducts,
  document: (p) => (p.description ? `${p.name}. ${p.description}` : p.name),
  metadata: (p) => ({
    product_id: p.productId,
    category_id: p.categoryId,
    price: p.price,
    currency: p.currency,
    updated_at: Date.parse(p.updatedAt),
  }),
});
