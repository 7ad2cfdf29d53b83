// The API reference (`npm run docs`) is only as good as the doc comments it is made of. These tests read
// what `deno doc --json index.ts` makes of the public API and name, with file and line, every symbol,
// field or option that lacks a comment, every public function or class without an example, and every
// type of ours a public signature names that a user could not import. Third-party types the API
// re-exports (neo4j-driver's `Driver`, node-postgres's `pg`) are documented by their packages.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../", import.meta.url));
const deno = `${root}node_modules/.bin/deno`;

/** The parts of `deno doc --json` (format version 2) read here. */
interface Location {
  filename: string;
  /** 0-based. */
  line: number;
}
interface JsDoc {
  doc?: string;
  tags?: { kind: string }[];
}
interface Member {
  name?: string;
  jsDoc?: JsDoc;
  location?: Location;
  accessibility?: "public" | "protected" | "private";
  tsType?: TsType;
  params?: Param[];
  functionDef?: { params: Param[] };
}
interface TsType {
  kind: string;
  // deno-lint-ignore no-explicit-any -- each kind has its own shape; read only where `kind` says
  value?: any;
}
interface Param {
  kind: string;
  name?: string;
  tsType?: TsType;
  left?: Param;
}
interface Declaration {
  kind: string;
  location: Location;
  declarationKind: string;
  jsDoc?: JsDoc;
  // deno-lint-ignore no-explicit-any -- as TsType.value
  def: any;
}
interface DocSymbol {
  name: string;
  declarations: Declaration[];
}

/**
 * Types a public signature may name without their being exported, and why. Everything else of ours a
 * public signature names is exported from index.ts.
 */
const unexportedOnPurpose: Record<string, string> = {
  VersionIndex: "PlanRequest.index, which RunRequest omits: the planner's own input, never a user's",
};

let symbols: DocSymbol[];
const exported = new Set<string>();

beforeAll(() => {
  expect(existsSync(deno), `${deno} is missing: run \`sh scripts/setup.sh\``).toBe(true);
  // --quiet: without it Deno warns about every @types/node reference it does not follow, and an error
  // (a syntax error, say) would drown in them; errors still reach stderr and the thrown message.
  const output = execFileSync(deno, ["doc", "--quiet", "--json", "index.ts"], {
    cwd: root,
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  const doc = JSON.parse(output) as { version: number; nodes: Record<string, { symbols: DocSymbol[] }> };
  expect(doc.version, "deno doc's JSON format changed: adapt test/unit/api-docs.test.ts").toBe(2);
  const index = doc.nodes[new URL("index.ts", `file://${root}`).href];
  expect(index, "deno doc --json has no entry for index.ts").toBeDefined();
  symbols = index!.symbols;
  for (const symbol of symbols) exported.add(symbol.name);
}, 60_000);

const ours = (location: Location | undefined): location is Location =>
  location !== undefined && location.filename.startsWith(`file://${root}`) &&
  !location.filename.includes("/node_modules/");

/** `engine/asset.ts:19`, 1-based, as an editor opens it. */
const where = (location: Location) => `${location.filename.slice(`file://${root}`.length)}:${location.line + 1}`;

const documented = (jsDoc: JsDoc | undefined) => (jsDoc?.doc ?? "").trim() !== "";
const hasExample = (jsDoc: JsDoc | undefined) => (jsDoc?.tags ?? []).some((tag) => tag.kind === "example");

/** The declarations a reader sees: an overloaded function's signatures, without its implementation. */
function shown(symbol: DocSymbol): Declaration[] {
  const overloads = symbol.declarations.filter((d) => !(d.kind === "function" && d.def.hasBody));
  return overloads.length > 0 ? overloads : symbol.declarations;
}

/** Our declarations behind index.ts's exports. */
function declarations(): { symbol: string; declaration: Declaration }[] {
  return symbols.flatMap((symbol) =>
    shown(symbol).filter((d) => ours(d.location)).map((declaration) => ({ symbol: symbol.name, declaration }))
  );
}

/** The members of a type literal, an interface or a class, each with the name a problem calls it by. */
function members(owner: string, container: Record<string, Member[] | undefined>): [string, Member][] {
  const list: [string, Member][] = [];
  for (const key of ["constructors", "properties", "methods", "callSignatures", "indexSignatures"]) {
    for (const member of container[key] ?? []) {
      if (member.accessibility === "private" || member.accessibility === "protected") continue;
      const name = key === "callSignatures" ? "()" : key === "indexSignatures" ? "[index]" : member.name;
      list.push([`${owner}.${name}`, member]);
    }
  }
  return list;
}

/** `options` objects and the like, whose fields deserve the same documentation as an interface's. */
function typeLiteralOf(param: Param): TsType | undefined {
  const type = param.tsType ?? param.left?.tsType;
  return type?.kind === "typeLiteral" ? type : undefined;
}

/** Every field of a type literal, an interface or a class that lacks a comment, nested literals and options included. */
function undocumentedFields(
  owner: string,
  container: Record<string, Member[] | undefined>,
  fallback: Location,
): string[] {
  const problems: string[] = [];
  for (const [name, member] of members(owner, container)) {
    const location = member.location ?? fallback;
    if (!ours(location)) continue;
    if (!documented(member.jsDoc)) problems.push(`${where(location)}: ${name} has no doc comment`);
    if (member.tsType?.kind === "typeLiteral") {
      problems.push(...undocumentedFields(name, member.tsType.value, location));
    }
    for (const param of member.params ?? member.functionDef?.params ?? []) {
      const literal = typeLiteralOf(param);
      if (literal) problems.push(...undocumentedFields(`${name}(${param.name ?? "options"})`, literal.value, location));
    }
  }
  return problems;
}

/** Every type reference in a declaration, with the nearest location above it. */
function* typeReferences(node: unknown, location: Location): Generator<{ type: TsType; location: Location }> {
  if (Array.isArray(node)) {
    for (const item of node) yield* typeReferences(item, location);
    return;
  }
  if (node === null || typeof node !== "object") return;
  const here = (node as { location?: Location }).location ?? location;
  if ((node as TsType).kind === "typeRef") yield { type: node as TsType, location: here };
  for (const value of Object.values(node)) yield* typeReferences(value, here);
}

describe("the API reference", () => {
  it("documents every symbol index.ts exports from this repository", () => {
    const problems = declarations()
      .filter(({ declaration }) => !documented(declaration.jsDoc))
      .map(({ symbol, declaration }) => `${where(declaration.location)}: ${symbol} has no doc comment`);
    expect(problems).toEqual([]);
  });

  it("documents every field of our exported types and classes, and every option our functions take", () => {
    const problems: string[] = [];
    for (const { symbol, declaration } of declarations()) {
      const { def, location } = declaration;
      if (declaration.kind === "interface" || declaration.kind === "class") {
        problems.push(...undocumentedFields(symbol, def, location));
      } else if (declaration.kind === "typeAlias" && def.tsType?.kind === "typeLiteral") {
        problems.push(...undocumentedFields(symbol, def.tsType.value, location));
      } else if (declaration.kind === "function") {
        for (const param of def.params ?? []) {
          const literal = typeLiteralOf(param);
          if (literal) {
            problems.push(...undocumentedFields(`${symbol}(${param.name ?? "options"})`, literal.value, location));
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it("shows an @example for every function and class a project can call", () => {
    const problems = symbols
      .filter((symbol) => shown(symbol).some((d) => ours(d.location) && (d.kind === "function" || d.kind === "class")))
      .filter((symbol) => !shown(symbol).some((d) => hasExample(d.jsDoc) && d.declarationKind === "export"))
      .map((symbol) => `${where(shown(symbol)[0]!.location)}: ${symbol.name} has no @example`);
    expect(problems).toEqual([]);
  });

  it("exports every type of ours that a public signature names, so that users can name it too", () => {
    const problems = new Set<string>();
    for (const { symbol, declaration } of declarations()) {
      for (const { type, location } of typeReferences(declaration.def, declaration.location)) {
        const resolution = type.value?.resolution as { kind: string; specifier?: string; name?: string } | undefined;
        // Type parameters and globals (Promise, AbortSignal) need no export; packages document their own types.
        const local = resolution?.kind === "local";
        const relative = resolution?.kind === "import" && resolution.specifier?.startsWith(".");
        if (!local && !relative) continue;
        const name = relative ? resolution!.name! : String(type.value.typeName).split(".")[0]!;
        if (exported.has(name) || name in unexportedOnPurpose || !ours(location)) continue;
        problems.add(`${where(location)}: ${symbol} names ${name}, which index.ts does not export`);
      }
    }
    expect([...problems]).toEqual([]);
  });
});
