/** A source of uniform floats in [0, 1). */
export type Random = () => number;

/** mulberry32: a tiny 32-bit generator, plenty for sample data and identical on every runtime. */
export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** murmur3's finaliser: every input bit reaches every output bit. */
export function mix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a over UTF-16 code units: names a stream. */
export function streamTag(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * The stream of one record: seeded by (seed, stream tag, record index) alone, so a record's values never
 * depend on how many other records or entities were drawn before it.
 */
export function recordStream(seed: number, tag: number, index: number): Random {
  let h = mix32(seed ^ tag);
  h = mix32(h ^ (index >>> 0));
  h = mix32(h + Math.floor(index / 4294967296));
  return mulberry32(h);
}

/** An integer in [min, max], both inclusive. */
export function intBetween(random: Random, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

export function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

export function chance(random: Random, probability: number): boolean {
  return random() < probability;
}

/** One of `entries`, each `[value, weight]` with a positive weight. */
export function weighted<T>(random: Random, entries: readonly (readonly [T, number])[]): T {
  let total = 0;
  for (const [, weight] of entries) total += weight;
  let at = random() * total;
  for (const [value, weight] of entries) {
    at -= weight;
    if (at < 0) return value;
  }
  return (entries[entries.length - 1] as readonly [T, number])[0];
}

/** `count` random decimal digits. */
export function digits(random: Random, count: number): string {
  let out = "";
  for (let i = 0; i < count; i++) out += Math.floor(random() * 10);
  return out;
}

/** Two distinct items of `items` (which must hold at least two). */
export function pickTwo<T>(random: Random, items: readonly T[]): [T, T] {
  const a = Math.floor(random() * items.length);
  const b = (a + 1 + Math.floor(random() * (items.length - 1))) % items.length;
  return [items[a] as T, items[b] as T];
}

/** The smallest step >= `from` coprime with `modulus`: `(i * step) % modulus` then visits every residue once. */
export function coprimeStep(modulus: number, from: number): number {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  let step = from;
  while (gcd(step, modulus) !== 1) step++;
  return step;
}
