import { ObjectId } from "mongodb";
import { mix32 } from "../random.ts";

const hex8 = (n: number) => (n >>> 0).toString(16).padStart(8, "0");

/**
 * A deterministic ObjectId: the creation second, as MongoDB's own ids begin, then eight bytes from
 * (seed, stream, index), so the same world gives the same ids on every run.
 */
export function objectIdOf(seed: number, tag: number, index: number, createdAt: number): ObjectId {
  const a = mix32(seed ^ tag ^ mix32(index));
  const b = mix32(a ^ Math.floor(index / 4294967296) ^ 0x9e3779b9);
  return ObjectId.createFromHexString(`${hex8(Math.floor(createdAt / 1000))}${hex8(a)}${hex8(b)}`);
}
