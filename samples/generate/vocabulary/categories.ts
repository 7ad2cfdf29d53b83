import type { LeafVocabulary } from "./leaf.ts";
import * as home from "./leaves-home.ts";
import * as tech from "./leaves-tech.ts";

/** A node of the category tree; products belong to leaves, which carry their vocabulary. */
export interface CategoryNode {
  index: number;
  name: string;
  parent: number | undefined;
  vocabulary: LeafVocabulary | undefined;
}

// 8 roots and 32 children, depth first: index i is category CAT-(i+1).
const tree: readonly (readonly [name: string, depth: number, vocabulary?: LeafVocabulary])[] = [
  ["Electronics", 0],
  ["Audio", 1],
  ["Headphones", 2, tech.headphones],
  ["Speakers", 2, tech.speakers],
  ["Cameras", 1, tech.cameras],
  ["Smartphones", 1, tech.smartphones],
  ["Wearables", 1, tech.wearables],
  ["Computers", 0],
  ["Laptops", 1, tech.laptops],
  ["Monitors", 1, tech.monitors],
  ["Peripherals", 1],
  ["Keyboards", 2, tech.keyboards],
  ["Mice", 2, tech.mice],
  ["Home & Kitchen", 0],
  ["Kitchen Appliances", 1],
  ["Coffee Machines", 2, home.coffeeMachines],
  ["Kettles", 2, home.kettles],
  ["Cookware", 1, home.cookware],
  ["Lighting", 1, home.lighting],
  ["Sports & Outdoors", 0],
  ["Running Shoes", 1, home.runningShoes],
  ["Camping", 1, home.camping],
  ["Cycling", 1, home.cycling],
  ["Yoga & Fitness", 1, home.fitness],
  ["Books", 0],
  ["Fiction", 1, home.fiction],
  ["Cookbooks", 1, home.cookbooks],
  ["Children's Books", 1, home.childrensBooks],
  ["Toys & Games", 0],
  ["Building Sets", 1, home.buildingSets],
  ["Board Games", 1, home.boardGames],
  ["Puzzles", 1, home.puzzles],
  ["Beauty & Health", 0],
  ["Skin Care", 1, home.skinCare],
  ["Hair Care", 1, home.hairCare],
  ["Oral Care", 1, home.oralCare],
  ["Garden & Tools", 0],
  ["Power Tools", 1, home.powerTools],
  ["Garden Furniture", 1, home.gardenFurniture],
  ["Plant Care", 1, home.plantCare],
];

function build(): CategoryNode[] {
  const nodes: CategoryNode[] = [];
  const openAtDepth: number[] = [];
  tree.forEach(([name, depth, vocabulary], index) => {
    openAtDepth[depth] = index;
    nodes.push({ index, name, parent: depth === 0 ? undefined : openAtDepth[depth - 1], vocabulary });
  });
  return nodes;
}

export const categories: readonly CategoryNode[] = build();

/** The leaves, where products live. */
export const leaves: readonly (CategoryNode & { vocabulary: LeafVocabulary })[] = categories.filter(
  (c): c is CategoryNode & { vocabulary: LeafVocabulary } => c.vocabulary !== undefined,
);

/** "Electronics > Audio > Headphones". */
export function categoryPath(index: number): string {
  const names: string[] = [];
  for (let at: number | undefined = index; at !== undefined; at = categories[at]?.parent) {
    names.unshift(categories[at]?.name ?? "");
  }
  return names.join(" > ");
}

/** Made-up brands: real-sounding, none of them real. */
export const brands = [
  "Aurora",
  "Nordlys",
  "Vantor",
  "Kestrel",
  "Halden",
  "Lumo",
  "Brightwell",
  "Corvid",
  "Alder & Finch",
  "Pinecrest",
  "Solace",
  "Tidewater",
  "Ember",
  "Quill",
  "Northbound",
  "Vireo",
  "Strata",
  "Meridian",
  "Fjordline",
  "Oakridge",
  "Zephyr",
  "Cobalt",
  "Ironbark",
  "Lark",
  "Sable",
  "Juniper",
  "Helix",
  "Orbit",
  "Tandem",
  "Willow",
] as const;

export const series = [
  "Pro",
  "Air",
  "Max",
  "Mini",
  "Studio",
  "Go",
  "Flex",
  "One",
  "Ultra",
  "Lite",
  "Plus",
  "Neo",
  "Classic",
  "X2",
  "S3",
] as const;
