import type { AssetGraph } from "./asset-graph.ts";

/**
 * A selection that does not parse (naming the column and what was expected there), or that names an
 * asset or group the graph does not have (with the closest key, when one is near).
 *
 * @example
 * ```ts
 * try {
 *   selectAssets(graph, "graph/Prodct+");
 * } catch (error) {
 *   if (error instanceof SelectionError) console.error(error.message); // "unknown asset 'graph/Prodct' …; did you mean 'graph/Product'?"
 * }
 * ```
 */
export class SelectionError extends Error {
  /** Always `"SelectionError"`. */
  override name = "SelectionError";
}

/** A parsed selection. `up`/`down` are depths in levels: 0 adds nothing, `Infinity` everything. */
export type SelectionAst =
  | { kind: "all" }
  | { kind: "key"; key: string }
  | { kind: "group"; group: string }
  | { kind: "not"; operand: SelectionAst }
  | { kind: "and" | "or"; left: SelectionAst; right: SelectionAst }
  | { kind: "traverse"; operand: SelectionAst; up: number; down: number };

interface Token {
  /** "" marks the end of the selection. */
  text: string;
  column: number;
  /** Whitespace precedes it: `+` and depths must touch what they extend, and terms must not touch. */
  spaced: boolean;
}

const assetKey = /^[A-Za-z0-9_]+(\/[A-Za-z0-9_]+)*$/;
const depth = /^\d+$/;
const keywords = new Set(["and", "or", "not"]);
const expectedTerm = "an asset key, group:name or '('";

function tokenize(selection: string): Token[] {
  const tokens: Token[] = [];
  const lexeme = /(\s*)([(),+]|[^\s(),+]+)/y;
  for (let match = lexeme.exec(selection); match; match = lexeme.exec(selection)) {
    tokens.push({ text: match[2]!, column: lexeme.lastIndex - match[2]!.length + 1, spaced: match[1]! !== "" });
  }
  tokens.push({ text: "", column: selection.trimEnd().length + 1, spaced: true });
  return tokens;
}

/**
 * Parses without looking at a graph, so a UI can check syntax as it is typed. Grammar:
 *
 * ```
 * or   := and (("or" | "," | whitespace) and)*
 * and  := not ("and" not)*
 * not  := "not" not | term
 * term := [[N]"+"] base ["+"[N]]
 * base := "*" | key | "group:"name | "(" or ")"
 * ```
 *
 * `+key` adds everything upstream, `key+` everything downstream, `2+key` two levels up. An empty or
 * malformed selection throws a {@link SelectionError} naming the column.
 *
 * @example
 * ```ts
 * parseSelection("group:ec and not ec/reviews");
 * // { kind: "and", left: { kind: "group", group: "ec" }, right: { kind: "not", operand: { kind: "key", key: "ec/reviews" } } }
 * ```
 */
export function parseSelection(selection: string): SelectionAst {
  if (selection.trim() === "") {
    throw new SelectionError("the selection is empty: name assets, group:<name>, or '*' for every asset");
  }
  const tokens = tokenize(selection);
  let at = 0;
  const peek = (ahead = 0): Token => tokens[Math.min(at + ahead, tokens.length - 1)]!;
  const is = (token: Token, word: string) => token.text.toLowerCase() === word;
  const fail = (
    expected: string,
    token = peek(),
    found: string | undefined = token.text === "" ? "the end" : `'${token.text}'`,
  ): never => {
    throw new SelectionError(
      `invalid selection '${selection}': expected ${expected} at column ${token.column}${
        found ? `, found ${found}` : ""
      }`,
    );
  };
  const startsTerm = (token: Token) =>
    token.text !== "" && token.text !== ")" && token.text !== "," && !is(token, "and") && !is(token, "or");

  function or(): SelectionAst {
    let left = and();
    for (;;) {
      const next = peek();
      if (is(next, "or") || next.text === ",") at++;
      else if (!startsTerm(next)) return left;
      // `a+b` could mean `a+ b` or `a +b`: make the user say which.
      else if (!next.spaced) fail("whitespace, ',', 'and' or 'or' between terms");
      left = { kind: "or", left, right: and() };
    }
  }

  function and(): SelectionAst {
    let left = not();
    while (is(peek(), "and")) {
      at++;
      left = { kind: "and", left, right: not() };
    }
    return left;
  }

  function not(): SelectionAst {
    if (!is(peek(), "not")) return term();
    at++;
    return { kind: "not", operand: not() };
  }

  function term(): SelectionAst {
    let up: number | undefined;
    let down: number | undefined;
    const [first, plus, after] = [peek(), peek(1), peek(2)];
    // `2+a` is a depth only when it all touches: `2+ a` is key `2` and its downstream, then `a`.
    if (depth.test(first.text) && plus.text === "+" && !plus.spaced && !after.spaced && /^[^),+]/.test(after.text)) {
      up = Number(first.text);
      at += 2;
    } else if (first.text === "+") {
      up = Infinity;
      at++;
      if (peek().spaced) fail(`${expectedTerm} directly after '+'`);
    }
    const base = primary();
    if (peek().text === "+" && !peek().spaced) {
      at++;
      down = Infinity;
      if (depth.test(peek().text) && !peek().spaced) down = Number(tokens[at++]!.text);
    }
    return up === undefined && down === undefined
      ? base
      : { kind: "traverse", operand: base, up: up ?? 0, down: down ?? 0 };
  }

  function primary(): SelectionAst {
    const token = peek();
    if (token.text === "(") {
      at++;
      const inner = or();
      if (peek().text !== ")") fail(`')' (opened at column ${token.column})`);
      at++;
      return inner;
    }
    at++;
    if (token.text === "*") return { kind: "all" };
    const group = /^group:(.*)$/i.exec(token.text);
    if (group) {
      return group[1]
        ? { kind: "group", group: group[1] }
        : fail("a group name", { ...token, column: token.column + 6 }, "");
    }
    if (assetKey.test(token.text) && !keywords.has(token.text.toLowerCase())) return { kind: "key", key: token.text };
    return fail(expectedTerm, token);
  }

  const ast = or();
  if (peek().text !== "") fail("an operator or the end of the selection");
  return ast;
}

/**
 * Resolves a selection to asset keys, in `graph.order` (upstream first). The same language serves
 * the CLI, the API and the UI. A key or group the graph does not have throws a {@link SelectionError},
 * wherever it sits in the expression.
 *
 * @example
 * ```ts
 * selectAssets(graph, "+graph/Product");             // it and everything upstream of it
 * selectAssets(graph, "ec/products+ and not group:vectors");
 * selectAssets(graph, "1+graph/Product ec/orders+2"); // bounded depth; a space or ',' means `or`
 * ```
 */
export function selectAssets(graph: AssetGraph, selection: string): Set<string> {
  const selected = evaluate(graph, parseSelection(selection), selection);
  return new Set(graph.order.filter((key) => selected.has(key)));
}

// Both sides are always evaluated, so a misspelt key errors wherever it sits in the expression.
function evaluate(graph: AssetGraph, node: SelectionAst, selection: string): Set<string> {
  const recurse = (child: SelectionAst) => evaluate(graph, child, selection);
  switch (node.kind) {
    case "all":
      return new Set(graph.order);
    case "key":
      if (!graph.byKey.has(node.key)) throw unknownKey(graph, node.key, selection);
      return new Set([node.key]);
    case "group": {
      const keys = graph.order.filter((key) => graph.byKey.get(key)!.group === node.group);
      if (keys.length > 0) return new Set(keys);
      const groups = [...new Set([...graph.byKey.values()].map((asset) => asset.group))].sort();
      throw new SelectionError(
        `unknown group '${node.group}' in selection '${selection}'; known groups: ${groups.join(", ") || "none"}`,
      );
    }
    case "not": {
      const operand = recurse(node.operand);
      return new Set(graph.order.filter((key) => !operand.has(key)));
    }
    case "and": {
      const [left, right] = [recurse(node.left), recurse(node.right)];
      return new Set([...left].filter((key) => right.has(key)));
    }
    case "or":
      return new Set([...recurse(node.left), ...recurse(node.right)]);
    case "traverse": {
      const operand = recurse(node.operand);
      const upstream = walk(operand, node.up, (key) => graph.byKey.get(key)!.deps);
      return new Set([...operand, ...upstream, ...walk(operand, node.down, (key) => graph.dependents.get(key)!)]);
    }
  }
}

/** Breadth first from all starts at once, so an asset's level is its shortest distance. */
function walk(from: Set<string>, depth: number, next: (key: string) => string[]): Set<string> {
  const reached = new Set<string>();
  let frontier = [...from];
  for (let level = 0; level < depth && frontier.length > 0; level++) {
    frontier = frontier.flatMap(next).filter((key) => !reached.has(key) && reached.add(key));
  }
  return reached;
}

function unknownKey(graph: AssetGraph, key: string, selection: string): SelectionError {
  let closest: string | undefined;
  let best = 3;
  for (const known of graph.order) {
    const distance = editDistance(key, known);
    if (distance < best) [closest, best] = [known, distance];
  }
  return new SelectionError(
    `unknown asset '${key}' in selection '${selection}'${closest ? `; did you mean '${closest}'?` : ""}`,
  );
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
