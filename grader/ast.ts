// Expression trees for parsed answers. Numbers keep their literal text so exact rational values (and
// whether the answer was written as a decimal) are known; structures (lists, brackets, matrices,
// relations, set operations) keep the shape the comparison needs.

export type Node =
  /** Unsigned numeric literal: "12", "1.25", ".5", "1.5e-3". */
  | { k: 'num'; text: string }
  /** Variable or constant: x, x_1, alpha, pi, e, i (imaginary unit), infty, emptyset, ℝ. */
  | { k: 'sym'; name: string }
  | { k: 'add'; terms: Node[] }
  | { k: 'neg'; arg: Node }
  | { k: 'mul'; factors: Node[] }
  | { k: 'div'; num: Node; den: Node }
  | { k: 'pow'; base: Node; exp: Node }
  /** ±arg (sign 1) or ∓arg (sign -1); all ± in one answer share one sign choice. */
  | { k: 'pm'; arg: Node; sign: 1 | -1 }
  /** Named function: sin … ln, log (args[1] = base), root (args[1] = index), abs, floor, ceil, fact, binom, gcd … */
  | { k: 'fn'; name: string; args: Node[] }
  | { k: 'pct'; arg: Node }
  /** A number written in a base: 204_5. */
  | { k: 'based'; digits: string; base: string }
  | { k: 'text'; text: string }
  /** Bracketed list with at least two items: (a,b), [a,b), \{a,b\}, ⟨a,b⟩. */
  | { k: 'seq'; open: string; close: string; items: Node[] }
  | { k: 'matrix'; env: string; rows: Node[][] }
  /** a op b op c … with ops among = < > ≤ ≥ ≠ ≈ ∈ →. */
  | { k: 'rel'; parts: Node[]; ops: string[] }
  | { k: 'setop'; op: '∪' | '∩' | '∖'; args: Node[] }
  /** Comma-separated answers at the top level (or inside plain braces). */
  | { k: 'list'; items: Node[] }
  | { k: 'ellipsis' };

export const num = (text: string): Node => ({ k: 'num', text });
export const sym = (name: string): Node => ({ k: 'sym', name });
export const neg = (arg: Node): Node => ({ k: 'neg', arg });

/** Symbols with a fixed value; every other symbol is a free variable. */
export const CONSTANTS = new Set(['pi', 'e', 'i', 'infty', 'emptyset', 'ℝ']);

/** Calls `visit` on every node (pre-order, iterative). */
export function walk(root: Node, visit: (n: Node) => void): void {
  const stack: Node[] = [root];
  while (stack.length > 0) {
    const n = stack.pop()!;
    visit(n);
    switch (n.k) {
      case 'add':
        stack.push(...n.terms);
        break;
      case 'mul':
        stack.push(...n.factors);
        break;
      case 'neg':
      case 'pct':
      case 'pm':
        stack.push(n.arg);
        break;
      case 'div':
        stack.push(n.num, n.den);
        break;
      case 'pow':
        stack.push(n.base, n.exp);
        break;
      case 'fn':
      case 'setop':
        stack.push(...n.args);
        break;
      case 'seq':
      case 'list':
        stack.push(...n.items);
        break;
      case 'rel':
        stack.push(...n.parts);
        break;
      case 'matrix':
        for (const row of n.rows) stack.push(...row);
        break;
      default:
        break;
    }
  }
}

/** Free variable names of an expression. */
export function freeSymbols(root: Node): Set<string> {
  const names = new Set<string>();
  walk(root, (n) => {
    if (n.k === 'sym' && !CONSTANTS.has(n.name)) names.add(n.name);
  });
  return names;
}

export function contains(root: Node, pred: (n: Node) => boolean): boolean {
  let found = false;
  walk(root, (n) => {
    if (!found && pred(n)) found = true;
  });
  return found;
}
