/**
 * Labels, relationship types, property keys and collection names cannot be Cypher or query
 * parameters, so they are spliced into statements: only names matching this pattern get there.
 */
const identifier = /^[A-Za-z][A-Za-z0-9_]{0,62}$/;

export function assertIdentifier(kind: string, name: string): string {
  if (!identifier.test(name)) {
    throw new Error(
      `invalid ${kind} '${name}': use letters, digits and '_', starting with a letter (at most 63 characters)`,
    );
  }
  return name;
}

const collectionName = /^[a-zA-Z0-9][a-zA-Z0-9._-]{1,61}[a-zA-Z0-9]$/;

/** Chroma's own rule for collection names (3–63 characters, alphanumeric ends, `._-` inside). */
export function assertCollectionName(name: string): string {
  if (!collectionName.test(name) || name.includes("..")) {
    throw new Error(
      `invalid Chroma collection name '${name}': 3-63 characters of [a-zA-Z0-9._-], starting and ending with a letter or digit`,
    );
  }
  return name;
}
