/**
 * Labels, relationship types, property keys and collection names cannot be Cypher or query
 * parameters, so they are spliced into statements: only names matching this pattern get there.
 * ASCII only: a look-alike letter of another script would make a second, different name.
 */
const identifier = /^[A-Za-z][A-Za-z0-9_]{0,62}$/;

/** Whether `name` may be spliced into a statement as a label, type, property key or metadata field. */
export const isIdentifier = (name: string): boolean => identifier.test(name);

/** A name as an error shows it: control characters and quotes escaped, so an invisible one can be seen. */
const shown = (name: string) => JSON.stringify(name).slice(1, -1);

export function assertIdentifier(kind: string, name: string): string {
  if (typeof name !== "string" || !identifier.test(name)) {
    throw new Error(
      `invalid ${kind} '${
        shown(String(name))
      }': use ASCII letters, digits and '_', starting with a letter (at most 63 characters)`,
    );
  }
  return name;
}

const collectionName = /^[a-zA-Z0-9][a-zA-Z0-9._-]{1,61}[a-zA-Z0-9]$/;

/** Chroma's own rule for collection names (3–63 characters, alphanumeric ends, `._-` inside). */
export function assertCollectionName(name: string): string {
  if (typeof name !== "string" || !collectionName.test(name) || name.includes("..")) {
    throw new Error(
      `invalid Chroma collection name '${
        shown(String(name))
      }': 3-63 characters of [a-zA-Z0-9._-], starting and ending with a letter or digit`,
    );
  }
  return name;
}
