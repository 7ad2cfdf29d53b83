/** What a product category (a leaf of the tree) gives its products, reviews and support chats to talk about. */
export interface LeafVocabulary {
  /** Three letters for SKUs. */
  code: string;
  /** What the products are: "Wireless Headphones". For books, the format: "Paperback". */
  nouns: readonly string[];
  /** Book-like categories name products by title (first + second word) instead of brand + noun. */
  titles?: { first: readonly string[]; second: readonly string[] };
  /** Noun phrases: "active noise cancelling". */
  features: readonly string[];
  /** Who or what it is for: "long-haul flights". */
  uses: readonly string[];
  /** What a happy reviewer says, as a clause: "the noise cancelling silences the train completely". */
  praise: readonly string[];
  /** What an unhappy reviewer (or a support chat) says went wrong, as a clause: "the battery died after a week". */
  complaints: readonly string[];
  /** How-to questions with the agent's answer (a clause). */
  tips: readonly (readonly [question: string, answer: string])[];
  /** Price range in euro. */
  price: readonly [min: number, max: number];
}
