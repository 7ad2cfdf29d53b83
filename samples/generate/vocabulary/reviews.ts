import { chance, pick, pickTwo, type Random } from "../random.ts";
import type { LeafVocabulary } from "./leaf.ts";

const titles: Record<number, readonly string[]> = {
  5: ["Love it", "Excellent {noun}", "Exactly what I needed", "Best purchase this year", "Brilliant", "Five stars"],
  4: ["Very good", "Great {noun}, minor niggles", "Happy with it", "Solid choice", "Good value"],
  3: ["Decent but not great", "Mixed feelings", "Does the job", "Average {noun}", "OK for the price"],
  2: ["Disappointed", "Not worth the money", "Expected better", "Poor quality"],
  1: ["Terrible", "Stopped working", "Avoid", "Broken on arrival", "Waste of money"],
};

const closers5 = [
  "Would buy again.",
  "Highly recommended.",
  "Worth every cent.",
  "Delivery was quick too.",
  "Already ordered a second one as a gift.",
];
const closers4 = ["Still recommended.", "Good value overall.", "Happy with the purchase.", "Would buy again."];
const minorFaults = [
  "the price is a bit steep",
  "delivery took a few days longer than promised",
  "the instructions could be clearer",
  "the packaging was excessive",
  "the colour is slightly different from the photos",
];
/** Every one of these holds a word a reader (and the tests) recognise as negative. */
export const negativeSentences = [
  "Really disappointed.",
  "I returned it for a refund.",
  "Complete waste of money.",
  "Customer service never replied to my emails.",
  "Would not recommend, avoid.",
  "Poor quality for the price.",
  "It arrived broken and had to go back.",
  "Terrible experience overall.",
] as const;

const sentence = (clause: string) => clause.charAt(0).toUpperCase() + clause.slice(1) + ".";

/** A review title and body that read like the rating: praise of the category's features, or what went wrong. */
export function reviewText(
  random: Random,
  rating: number,
  vocabulary: LeafVocabulary,
  noun: string,
): { title: string; body: string } {
  const title = pick(random, titles[rating] ?? titles[3] ?? []).replace("{noun}", noun.toLowerCase());
  const parts: string[] = [];
  if (rating === 5) {
    const [a, b] = pickTwo(random, vocabulary.praise);
    parts.push(sentence(a));
    if (chance(random, 0.6)) parts.push(sentence(b));
    parts.push(pick(random, closers5));
  } else if (rating === 4) {
    parts.push(sentence(`${pick(random, vocabulary.praise)}, though ${pick(random, minorFaults)}`));
    if (chance(random, 0.5)) parts.push(pick(random, closers4));
  } else if (rating === 3) {
    parts.push(pick(random, ["It's okay.", "Mixed feelings.", "Average overall."]));
    parts.push(sentence(`${pick(random, vocabulary.praise)}, but ${pick(random, vocabulary.complaints)}`));
  } else {
    parts.push(sentence(pick(random, vocabulary.complaints)));
    const [a, b] = pickTwo(random, negativeSentences);
    parts.push(a);
    if (rating === 1 && chance(random, 0.5)) parts.push(b);
  }
  return { title, body: parts.join(" ") };
}
