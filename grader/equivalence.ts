// Decides whether two answers are the same mathematical object. Order of tests, cheapest first:
//  1. equal canonical strings (spacing, \left/\right, \dfrac, $, ^\circ removed);
//  2. multiple-choice letters and word answers;
//  3. parse both (parser.ts) and compare by structure: comma lists and sets ignore order, tuples and
//     intervals do not (open/closed ends matter), unions ignore order, matrices compare entry by entry,
//     "x = 5" vs "5" compares the right-hand side, single-variable inequalities compare as intervals,
//     other equations/inequalities compare as lhs−rhs up to a constant factor (positive for inequalities);
//  4. scalars: exactly as rationals when both are rational constants; a decimal against a value whose
//     decimal expansion does not terminate (1/3, π) is rounded to 6 places on both sides (Math-Verify's
//     rule); otherwise complex doubles, |a − b| ≤ 1e-9·max(|a|,|b|) + 1e-12, at 4 seeded random points
//     when variables occur. Percentages "p%" also match p and p/100.
import type { Budget } from './budget';
import { type Node, contains, freeSymbols } from './ast';
import { parseLatex, ParseError } from './parser';
import { LexError } from './lexer';
import { exactValue, isDecimalLiteral, numericValue } from './evaluate';
import * as Q from './rational';
import { type Complex, cabs, cmul, cdiv, csub, isFiniteComplex } from './complex';
import { mulberry32 } from './prng';
import { canonicalString, choiceLetter, stripTrailingUnitWords, wordForm } from './text';
import { DEFAULT_EXTRACT, extractFinalAnswer } from './extract';

export type EquivalenceReason = 'match' | 'mismatch' | 'unparsable-answer' | 'unparsable-gold';

export interface Equivalence {
  equal: boolean;
  reason: EquivalenceReason;
}

/** Relative tolerance for values that are not both exact rationals. */
export const RELATIVE_TOLERANCE = 1e-9;
/** Absolute floor of the tolerance (cancellation noise near zero). */
export const ABSOLUTE_TOLERANCE = 1e-12;
/** Decimal places a written decimal is compared at against a non-terminating value. */
export const DECIMAL_PLACES = 6;
/** Seed of the random evaluation points; fixed so every grade is reproducible. */
export const EVALUATION_SEED = 0x5181;
/** Successful random points needed before two expressions with variables are called equal. */
const POINTS_NEEDED = 4;
const POINT_ATTEMPTS = 12;
/** Most items an unordered list may have (the matching is quadratic). */
const MAX_ITEMS = 1024;

export function compareAnswers(answer: string, givenGold: string, budget: Budget): Equivalence {
  const gold = goldAnswerText(givenGold, budget);
  const canonicalAnswer = canonicalString(answer);
  const canonicalGold = canonicalString(gold);
  if (canonicalGold.length > 0 && canonicalAnswer === canonicalGold) return { equal: true, reason: 'match' };
  if (gold !== givenGold && canonicalAnswer === canonicalString(givenGold))
    return { equal: true, reason: 'match' };

  const goldChoice = choiceLetter(gold);
  if (goldChoice !== null) return verdict(choiceLetter(answer, true) === goldChoice);

  const goldWords = wordForm(gold);
  const answerWords = wordForm(answer);
  if (goldWords && answerWords) {
    if (goldWords.words === answerWords.words) return verdict(true);
    if (goldWords.decisive || answerWords.decisive) return verdict(false);
  } else if (goldWords?.decisive || answerWords?.decisive) return verdict(false);

  let goldNode: Node;
  try {
    goldNode = parseLatex(stripTrailingUnitWords(gold), budget);
  } catch (err) {
    if (err instanceof ParseError || err instanceof LexError)
      return { equal: false, reason: 'unparsable-gold' };
    throw err;
  }
  let answerNode: Node;
  try {
    answerNode = parseLatex(stripTrailingUnitWords(answer), budget);
  } catch (err) {
    if (err instanceof ParseError || err instanceof LexError)
      return { equal: false, reason: 'unparsable-answer' };
    throw err;
  }
  return verdict(equivalentNodes(goldNode, answerNode, budget));
}

/** A gold written as a sentence with a \boxed{…} answer (it happens in training sets) means its box. */
function goldAnswerText(gold: string, budget: Budget): string {
  if (gold.indexOf('\\boxed') < 0 && gold.indexOf('\\fbox') < 0) return gold;
  const boxed = extractFinalAnswer(gold, { ...DEFAULT_EXTRACT, think: 'ignore' }, budget);
  return boxed.answer ?? gold;
}

const verdict = (equal: boolean): Equivalence => ({ equal, reason: equal ? 'match' : 'mismatch' });

/** Structural comparison of parsed answers (gold first: "x = 5" gold vs "5" unwraps the gold). */
export function equivalentNodes(gold: Node, answer: Node, budget: Budget): boolean {
  return eq(gold, answer, budget, 0);
}

type Kind = 'scalar' | 'list' | 'set' | 'pair' | 'interval' | 'tuple' | 'setop' | 'matrix';

function kind(n: Node): Kind {
  switch (n.k) {
    case 'list':
      return 'list';
    case 'seq':
      if (n.open === '{') return 'set';
      if (
        n.items.length === 2 &&
        (n.open === '(' || n.open === '[') &&
        (n.close === ')' || n.close === ']')
      ) {
        return n.open === '(' && n.close === ')' ? 'pair' : 'interval';
      }
      return 'tuple';
    case 'setop':
      return 'setop';
    case 'matrix':
      return 'matrix';
    default:
      return 'scalar';
  }
}

const INFINITY: Node = { k: 'sym', name: 'infty' };
const REALS: Node = { k: 'seq', open: '(', close: ')', items: [{ k: 'neg', arg: INFINITY }, INFINITY] };

/** Rewrites the forms that stand for another one: "x ∈ S" is S, ℝ is (-∞, ∞). */
function canonicalForm(n: Node): Node {
  if (n.k === 'rel' && n.ops.length === 1 && n.ops[0] === '∈' && n.parts[0]!.k === 'sym')
    return canonicalForm(n.parts[1]!);
  if (n.k === 'sym' && n.name === 'ℝ') return REALS;
  return n;
}

const isSetLike = (n: Node): boolean => {
  const k = kind(n);
  return k === 'pair' || k === 'interval' || k === 'setop';
};

function eq(gold: Node, answer: Node, budget: Budget, depth: number): boolean {
  budget.tick();
  budget.checkDepth(depth);
  const d = depth + 1;
  let g = canonicalForm(gold);
  let p = canonicalForm(answer);

  // "x < -1 or x > 2" against a union of intervals.
  if (g.k === 'list' && isSetLike(p)) g = relationsAsUnion(g) ?? g;
  if (p.k === 'list' && isSetLike(g)) p = relationsAsUnion(p) ?? p;

  if (g.k === 'rel' || p.k === 'rel') return eqRelations(g, p, budget, d);

  if (kind(g) === 'scalar' && hasPm(g)) g = { k: 'list', items: expandPm(g) };
  if (kind(p) === 'scalar' && hasPm(p)) p = { k: 'list', items: expandPm(p) };

  const gk = kind(g);
  const pk = kind(p);
  if (gk === 'scalar' && pk === 'scalar') return eqScalar(g, p, budget, d);

  const gItems = itemsOf(g);
  const pItems = itemsOf(p);
  // One value against a list or set: equal when every item is that value ("75^\circ, 75^\circ" vs 75°).
  const listLike = (k: Kind): boolean => k === 'list' || k === 'set';
  if (gk === 'scalar') return listLike(pk) && pItems!.every((item) => eq(g, item, budget, d));
  if (pk === 'scalar') return listLike(gk) && gItems!.every((item) => eq(item, p, budget, d));

  if (gk === 'matrix' || pk === 'matrix') {
    return (
      gk === pk &&
      eqMatrix(g as Extract<Node, { k: 'matrix' }>, p as Extract<Node, { k: 'matrix' }>, budget, d)
    );
  }
  if (gk === 'setop' || pk === 'setop') return eqSetOps(g, p, budget, d);

  const unorderedKinds = (k: Kind): boolean => k === 'list' || k === 'set';
  if (unorderedKinds(gk) && unorderedKinds(pk))
    return unorderedEqual(expandItems(gItems!), expandItems(pItems!), budget, d);
  if ((gk === 'pair' || gk === 'interval') && (pk === 'pair' || pk === 'interval')) {
    const gs = g as Extract<Node, { k: 'seq' }>;
    const ps = p as Extract<Node, { k: 'seq' }>;
    return gs.open === ps.open && gs.close === ps.close && orderedEqual(gItems!, pItems!, budget, d);
  }
  // A comma list as gold accepts the same answers in brackets in any order; a tuple as gold needs its order.
  if (gk === 'list' && (pk === 'pair' || pk === 'tuple')) return unorderedEqual(gItems!, pItems!, budget, d);
  if (gk === 'tuple' && pk === 'tuple' && !sameBrackets(g, p)) return false;
  if ((gk === 'pair' || gk === 'tuple') && (pk === 'list' || pk === 'tuple' || pk === 'pair')) {
    return orderedEqual(gItems!, pItems!, budget, d);
  }
  return false;
}

/** Tuples need the same brackets; ⟨a, b, c⟩ and (a, b, c) are the same vector. */
function sameBrackets(a: Node, b: Node): boolean {
  const pairOf = (n: Node): string => {
    if (n.k !== 'seq') return '';
    const brackets = n.open + n.close;
    return brackets === '⟨⟩' ? '()' : brackets;
  };
  return pairOf(a) === pairOf(b);
}

function itemsOf(n: Node): Node[] | null {
  if (n.k === 'list' || n.k === 'seq') return n.items;
  return null;
}

function orderedEqual(a: Node[], b: Node[], budget: Budget, depth: number): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!eq(a[i]!, b[i]!, budget, depth)) return false;
  return true;
}

/**
 * Set equality of two lists: every item of each has an equal item in the other, so order and repeats do
 * not matter ("75^\circ, 75^\circ" lists one value), as for solution sets.
 */
function unorderedEqual(a: Node[], b: Node[], budget: Budget, depth: number): boolean {
  if (a.length > MAX_ITEMS || b.length > MAX_ITEMS) return false;
  const covered = new Array<boolean>(b.length).fill(false);
  for (const item of a) {
    let found = false;
    for (let j = 0; j < b.length; j++) {
      if ((found && covered[j]) || !eq(item, b[j]!, budget, depth)) continue;
      covered[j] = true;
      found = true;
    }
    if (!found) return false;
  }
  return covered.every(Boolean);
}

function eqMatrix(
  a: Extract<Node, { k: 'matrix' }>,
  b: Extract<Node, { k: 'matrix' }>,
  budget: Budget,
  depth: number,
): boolean {
  if (a.rows.length !== b.rows.length) return false;
  for (let r = 0; r < a.rows.length; r++)
    if (!orderedEqual(a.rows[r]!, b.rows[r]!, budget, depth)) return false;
  return true;
}

/** Operands of a chain of unions, flattened. */
function unionParts(n: Node): Node[] {
  if (n.k === 'setop' && n.op === '∪') return n.args.flatMap(unionParts);
  return [n];
}

function eqSetOps(g: Node, p: Node, budget: Budget, depth: number): boolean {
  const gUnion = g.k !== 'setop' || g.op === '∪';
  const pUnion = p.k !== 'setop' || p.op === '∪';
  if (gUnion && pUnion) {
    const a = unionParts(g);
    const b = unionParts(p);
    if (a.length === 1 && b.length === 1) return eq(a[0]!, b[0]!, budget, depth);
    return unorderedEqual(a, b, budget, depth);
  }
  if (g.k === 'setop' && p.k === 'setop' && g.op === p.op) return orderedEqual(g.args, p.args, budget, depth);
  return false;
}

// ---------- ± ----------

const hasPm = (n: Node): boolean => contains(n, (m) => m.k === 'pm');

/** The two values of an expression with ±/∓ (all signs linked: a ± b ∓ c is a + b − c or a − b + c). */
function expandPm(n: Node): Node[] {
  return [substitutePm(n, 1), substitutePm(n, -1)];
}

function substitutePm(n: Node, s: 1 | -1): Node {
  switch (n.k) {
    case 'pm': {
      const arg = substitutePm(n.arg, s);
      return n.sign * s === 1 ? arg : { k: 'neg', arg };
    }
    case 'add':
      return { k: 'add', terms: n.terms.map((t) => substitutePm(t, s)) };
    case 'mul':
      return { k: 'mul', factors: n.factors.map((t) => substitutePm(t, s)) };
    case 'neg':
      return { k: 'neg', arg: substitutePm(n.arg, s) };
    case 'pct':
      return { k: 'pct', arg: substitutePm(n.arg, s) };
    case 'div':
      return { k: 'div', num: substitutePm(n.num, s), den: substitutePm(n.den, s) };
    case 'pow':
      return { k: 'pow', base: substitutePm(n.base, s), exp: substitutePm(n.exp, s) };
    case 'fn':
      return { k: 'fn', name: n.name, args: n.args.map((t) => substitutePm(t, s)) };
    default:
      return n;
  }
}

/** List items with every ± item replaced by its two values. */
function expandItems(items: Node[]): Node[] {
  if (items.length > MAX_ITEMS) return items;
  return items.flatMap((item) => (kind(item) === 'scalar' && hasPm(item) ? expandPm(item) : [item]));
}

// ---------- relations ----------

type Rel = Extract<Node, { k: 'rel' }>;

const isVariable = (n: Node): boolean =>
  n.k === 'sym' && !['pi', 'e', 'i', 'infty', 'emptyset', 'ℝ'].includes(n.name);
const isAssignment = (r: Rel): boolean => isVariable(r.parts[0]!) && r.ops.every((op) => op === '=');
const isEquationChain = (r: Rel): boolean => r.ops.every((op) => op === '=' || op === '≈');
const last = (r: Rel): Node => r.parts[r.parts.length - 1]!;

function eqRelations(g: Node, p: Node, budget: Budget, depth: number): boolean {
  if (g.k === 'rel' && p.k !== 'rel') {
    if (isAssignment(g)) return eq(last(g), p, budget, depth);
    const asSet = isSetLike(p) ? relationAsSet(g) : null;
    return asSet !== null && eq(asSet, p, budget, depth);
  }
  if (p.k === 'rel' && g.k !== 'rel') {
    if (isEquationChain(p)) {
      if (eq(g, last(p), budget, depth)) return true;
      // "\frac{\sqrt3}{2} \approx 0.866": the value before the first ≈ is the exact answer.
      const approx = p.ops.indexOf('≈');
      return approx >= 0 && eq(g, p.parts[approx]!, budget, depth);
    }
    const asSet = isSetLike(g) ? relationAsSet(p) : null;
    return asSet !== null && eq(g, asSet, budget, depth);
  }
  const gr = g as Rel;
  const pr = p as Rel;
  const gSet = relationAsSet(gr);
  const pSet = relationAsSet(pr);
  if (gSet && pSet) return eq(gSet, pSet, budget, depth);
  const a = splitChain(gr);
  const b = splitChain(pr);
  if (a.length !== b.length) return false;
  if (a.every((r, i) => singleRelationsEqual(r, b[i]!, budget, depth))) return true;
  const flipped = b.map(flip).reverse();
  return a.every((r, i) => singleRelationsEqual(r, flipped[i]!, budget, depth));
}

interface Single {
  lhs: Node;
  op: string;
  rhs: Node;
}

function splitChain(r: Rel): Single[] {
  return r.ops.map((op, i) => ({ lhs: r.parts[i]!, op, rhs: r.parts[i + 1]! }));
}

const FLIPPED: Record<string, string> = { '<': '>', '>': '<', '≤': '≥', '≥': '≤' };
const flip = (r: Single): Single => ({ lhs: r.rhs, op: FLIPPED[r.op] ?? r.op, rhs: r.lhs });

function singleRelationsEqual(a: Single, b: Single, budget: Budget, depth: number): boolean {
  // x = 1/3 and x = 0.333333: same variable on the left, compare the values.
  if (
    (a.op === '=' || a.op === '≈') &&
    (b.op === '=' || b.op === '≈') &&
    isVariable(a.lhs) &&
    isVariable(b.lhs)
  ) {
    if (
      (a.lhs as { name: string }).name === (b.lhs as { name: string }).name &&
      eq(a.rhs, b.rhs, budget, depth)
    )
      return true;
  }
  const ca = canonicalRelation(a);
  const cb = canonicalRelation(b);
  if (ca === null || cb === null) {
    return a.op === b.op && eq(a.lhs, b.lhs, budget, depth) && eq(a.rhs, b.rhs, budget, depth);
  }
  if (ca.op !== cb.op) return false;
  return proportional(ca.f, cb.f, ca.op === '<' || ca.op === '≤', budget);
}

/** a op b as f op 0 with op among = ≠ < ≤ (f = a − b, or b − a for > and ≥). */
function canonicalRelation(r: Single): { f: Node; op: string } | null {
  const diff = (x: Node, y: Node): Node => ({ k: 'add', terms: [x, { k: 'neg', arg: y }] });
  switch (r.op) {
    case '=':
    case '≈':
      return { f: diff(r.lhs, r.rhs), op: '=' };
    case '≠':
      return { f: diff(r.lhs, r.rhs), op: '≠' };
    case '<':
    case '≤':
      return { f: diff(r.lhs, r.rhs), op: r.op };
    case '>':
      return { f: diff(r.rhs, r.lhs), op: '<' };
    case '≥':
      return { f: diff(r.rhs, r.lhs), op: '≤' };
    default:
      return null;
  }
}

/** One-variable inequalities as interval nodes: x > 3 → (3, ∞), -2 ≤ x < 7 → [-2, 7). */
function relationAsSet(r: Rel): Node | null {
  const isConstant = (n: Node): boolean => freeSymbols(n).size === 0;
  const interval = (lo: Node, loClosed: boolean, hi: Node, hiClosed: boolean): Node => ({
    k: 'seq',
    open: loClosed ? '[' : '(',
    close: hiClosed ? ']' : ')',
    items: [lo, hi],
  });
  const minusInf: Node = { k: 'neg', arg: INFINITY };
  if (r.ops.length === 1) {
    let [a, b] = r.parts as [Node, Node];
    let op = r.ops[0]!;
    if (isVariable(b) && isConstant(a)) {
      [a, b] = [b, a];
      op = FLIPPED[op] ?? op;
    }
    if (!isVariable(a) || !isConstant(b)) return null;
    switch (op) {
      case '<':
        return interval(minusInf, false, b, false);
      case '≤':
        return interval(minusInf, false, b, true);
      case '>':
        return interval(b, false, INFINITY, false);
      case '≥':
        return interval(b, true, INFINITY, false);
      default:
        return null;
    }
  }
  if (r.ops.length === 2) {
    const [a, x, b] = r.parts as [Node, Node, Node];
    const [op1, op2] = r.ops as [string, string];
    if (!isVariable(x) || !isConstant(a) || !isConstant(b)) return null;
    const lower = (op: string): boolean => op === '<' || op === '≤';
    const upper = (op: string): boolean => op === '>' || op === '≥';
    if (lower(op1) && lower(op2)) return interval(a, op1 === '≤', b, op2 === '≤');
    if (upper(op1) && upper(op2)) return interval(b, op2 === '≥', a, op1 === '≥');
  }
  return null;
}

/** A comma list of one-variable inequalities ("x < -1 or x > 2") as a union; null when it is not one. */
function relationsAsUnion(n: Extract<Node, { k: 'list' }>): Node | null {
  const parts: Node[] = [];
  for (const item of n.items) {
    const set = item.k === 'rel' ? relationAsSet(item) : null;
    if (set === null) return null;
    parts.push(set);
  }
  return { k: 'setop', op: '∪', args: parts };
}

/** f = c·h for a constant c ≠ 0 (c > 0 when `positive`), checked at seeded random points. */
function proportional(f: Node, h: Node, positive: boolean, budget: Budget): boolean {
  const names = [...new Set([...freeSymbols(f), ...freeSymbols(h)])].sort();
  const rng = mulberry32(EVALUATION_SEED);
  let ratio: Complex | null = null;
  let good = 0;
  for (let attempt = 0; attempt < POINT_ATTEMPTS && good < POINTS_NEEDED; attempt++) {
    const env = randomPoint(names, rng, attempt);
    const a = numericValue(f, env, budget);
    const b = numericValue(h, env, budget);
    if (!isFiniteComplex(a) || !isFiniteComplex(b)) continue;
    const tiny = (z: Complex): boolean => cabs(z) <= ABSOLUTE_TOLERANCE;
    if (tiny(a) && tiny(b)) {
      if (names.length === 0) return true; // both sides identically 0 = 0
      continue;
    }
    if (tiny(a) !== tiny(b)) return false;
    if (ratio === null) {
      ratio = cdiv(a, b);
      if (positive && !(Math.abs(ratio.im) <= RELATIVE_TOLERANCE && ratio.re > 0)) return false;
    } else if (!close(a, cmul(ratio, b))) return false;
    good++;
    if (names.length === 0) return true;
  }
  return good >= 2;
}

// ---------- scalars ----------

/**
 * Values of the variables at one random point: positive reals (inside the domain of log and sqrt),
 * alternately from [0.5, 2.5] and [2.5, 25] so that floor/ceil/abs steps and large-argument behaviour show.
 */
function randomPoint(names: string[], rng: () => number, attempt: number): Map<string, Complex> {
  const [low, width] = attempt % 2 === 0 ? [0.5, 2] : [2.5, 22.5];
  return new Map(names.map((name) => [name, { re: low + width * rng(), im: 0 }]));
}

function close(a: Complex, b: Complex): boolean {
  const scale = Math.max(cabs(a), cabs(b));
  return cabs(csub(a, b)) <= RELATIVE_TOLERANCE * scale + ABSOLUTE_TOLERANCE;
}

function normalText(s: string): string {
  return s.toLowerCase().split(/\s+/).filter(Boolean).join(' ');
}

function eqScalar(g: Node, p: Node, budget: Budget, depth: number): boolean {
  if (g.k === 'text' || p.k === 'text')
    return g.k === 'text' && p.k === 'text' && normalText(g.text) === normalText(p.text);
  if (g.k === 'ellipsis' || p.k === 'ellipsis') return g.k === p.k;
  if (g.k === 'based' || p.k === 'based') return eqBased(g, p);
  if (g.k === 'sym' && p.k === 'sym') return g.name === p.name;
  // p% is also read as p and as p/100.
  if (g.k === 'pct' && p.k === 'pct') return eq(g.arg, p.arg, budget, depth);
  if (g.k === 'pct') return valuesEqual(g.arg, p, budget) || valuesEqual(g, p, budget);
  if (p.k === 'pct') return valuesEqual(g, p.arg, budget) || valuesEqual(g, p, budget);
  return valuesEqual(g, p, budget);
}

/** 204_5 equals 204_{5}, and the bare digits 204 (the base mark is notation); not the value 54. */
function eqBased(g: Node, p: Node): boolean {
  const digitsOf = (n: Node): string | null =>
    n.k === 'based' ? n.digits : n.k === 'num' && /^\d+$/.test(n.text) ? n.text : null;
  if (g.k === 'based' && p.k === 'based') return g.digits === p.digits && Number(g.base) === Number(p.base);
  const a = digitsOf(g);
  return a !== null && a === digitsOf(p);
}

function valuesEqual(g: Node, p: Node, budget: Budget): boolean {
  const exactG = exactValue(g, budget);
  const exactP = exactG === null ? null : exactValue(p, budget);
  if (exactG !== null && exactP !== null) {
    if (Q.equals(exactG, exactP)) return true;
    // A decimal stands for a value whose expansion does not terminate (0.333333 for 1/3).
    if (isDecimalLiteral(p) && !Q.isTerminating(exactG)) return decimalMatches(p, exactP, exactG);
    if (isDecimalLiteral(g) && !Q.isTerminating(exactP)) return decimalMatches(g, exactG, exactP);
    return false;
  }
  const names = [...new Set([...freeSymbols(g), ...freeSymbols(p)])].sort();
  if (names.length === 0) {
    const a = numericValue(g, new Map(), budget);
    const b = numericValue(p, new Map(), budget);
    if (!isFiniteComplex(a) || !isFiniteComplex(b)) {
      // ∞ equals ∞ only when both answers say \infty; a finite expression that overflowed is not comparable.
      const saysInfinity = (n: Node): boolean => contains(n, (m) => m.k === 'sym' && m.name === 'infty');
      return (
        isInfinite(a) &&
        isInfinite(b) &&
        Math.sign(a.re) === Math.sign(b.re) &&
        saysInfinity(g) &&
        saysInfinity(p)
      );
    }
    if (isDecimalLiteral(g)) return roundedClose(b, a, decimalPlaces(g));
    if (isDecimalLiteral(p)) return roundedClose(a, b, decimalPlaces(p));
    return close(a, b);
  }
  const rng = mulberry32(EVALUATION_SEED);
  let good = 0;
  for (let attempt = 0; attempt < POINT_ATTEMPTS && good < POINTS_NEEDED; attempt++) {
    const env = randomPoint(names, rng, attempt);
    const a = numericValue(g, env, budget);
    const b = numericValue(p, env, budget);
    const finiteA = isFiniteComplex(a);
    const finiteB = isFiniteComplex(b);
    if (!finiteA && !finiteB) continue;
    if (finiteA !== finiteB || !close(a, b)) return false;
    good++;
  }
  return good >= 2;
}

const isInfinite = (z: Complex): boolean => z.im === 0 && (z.re === Infinity || z.re === -Infinity);

/** Digits after the decimal point of a decimal literal (1.5e-3 counts as 4). */
function decimalPlaces(n: Node): number {
  const text = n.k === 'neg' ? (n.arg as { text: string }).text : (n as { text: string }).text;
  const e = Math.max(text.indexOf('e'), text.indexOf('E'));
  const mantissa = e < 0 ? text : text.slice(0, e);
  const exponent = e < 0 ? 0 : Number(text.slice(e + 1));
  const dot = mantissa.indexOf('.');
  return Math.max(0, (dot < 0 ? 0 : mantissa.length - dot - 1) - exponent);
}

/**
 * A decimal d written with k places stands for the non-terminating value v when both round to the same
 * DECIMAL_PLACES places (Math-Verify's rule: 0.333333 is 1/3), or when k ≥ DECIMAL_PLACES and d is v
 * correctly rounded to its own k places (16.12451550 is 2√65 to 8 places).
 */
function decimalMatches(decimal: Node, d: Q.Rational, v: Q.Rational): boolean {
  if (Q.roundScaled(d, DECIMAL_PLACES) === Q.roundScaled(v, DECIMAL_PLACES)) return true;
  const k = decimalPlaces(decimal);
  if (k < DECIMAL_PLACES || k > 60) return false;
  // |d − v| ≤ ½·10^−k
  const diff = Q.sub(d, v);
  const magnitude = diff.num < 0n ? -diff.num : diff.num;
  return 2n * magnitude * 10n ** BigInt(k) <= diff.den;
}

/** The numeric form of decimalMatches: `value` against the decimal `written` with k places. */
function roundedClose(value: Complex, written: Complex, k: number): boolean {
  const scale = 10 ** DECIMAL_PLACES;
  const part = (x: number, y: number): boolean => {
    if (Math.max(Math.abs(x), Math.abs(y)) >= 1e9) return Math.abs(x - y) <= 1e-12 * Math.abs(x);
    if (Math.round(x * scale) === Math.round(y * scale)) return true;
    return k >= DECIMAL_PLACES && Math.abs(x - y) <= 0.5 * 10 ** -k * (1 + 1e-9) + 1e-15 * Math.abs(x);
  };
  return part(value.re, written.re) && part(value.im, written.im);
}
