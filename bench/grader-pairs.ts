// Builds the (response, gold) pairs of the grader differential test and benchmark, deterministically, from
// the gold answers in ../shared/data (read at run time, never copied here). Each gold yields one response
// that states it as written, one with an equivalent rewriting or formatting variant, and one with a wrong
// answer; response templates vary (plain \boxed, </think> tags, a wrong box inside the thinking, display
// math, "The final answer is $…$" graded with the answerIs option, and a few unboxed truncated responses).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32 } from '../grader/prng';
import type { GradeOptions } from '../grader/node/index';
import { parseLatex } from '../grader/parser';
import { Budget } from '../grader/budget';
import { freeSymbols } from '../grader/ast';
import { numericValue } from '../grader/evaluate';

export interface Pair {
  id: string;
  /** template/transform, e.g. "think/equivalent:decimal". */
  category: string;
  response: string;
  gold: string;
  /** What the construction intends: the response's answer equals the gold (true) or not (false). */
  intended: boolean;
  /** Options for our grader (the answerIs template needs the "answer is" convention). */
  options?: GradeOptions;
}

export const DATA_DIR = join(new URL('..', import.meta.url).pathname, '..', 'shared', 'data');

interface Row {
  id: string;
  answer: string;
}

function readRows(file: string): Row[] {
  return readFileSync(join(DATA_DIR, file), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Row);
}

type Rng = () => number;
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;

/** The golds used: all of MATH-500, AIME 24/25 and AMC, and a seeded sample of the training set. */
export function loadGolds(rng: Rng, trainSample = 600): Row[] {
  const rows = [
    ...readRows('math500.jsonl'),
    ...readRows('aime24.jsonl'),
    ...readRows('aime25.jsonl'),
    ...readRows('amc.jsonl'),
  ];
  const train = readRows('math_train.jsonl');
  const isInt = (a: string): boolean => /^-?\d+$/.test(a.trim());
  const nonInt = train.filter((r) => !isInt(r.answer));
  const ints = train.filter((r) => isInt(r.answer));
  const sample = (list: Row[], n: number): Row[] => {
    const chosen = new Set<number>();
    while (chosen.size < Math.min(n, list.length)) chosen.add(Math.floor(rng() * list.length));
    return [...chosen].sort((a, b) => a - b).map((i) => list[i]!);
  };
  return [
    ...rows,
    ...sample(nonInt, Math.round(trainSample * 0.75)),
    ...sample(ints, Math.round(trainSample * 0.25)),
  ];
}

// ---------- response templates ----------

const FILLER = [
  'We set up the equations from the problem statement and simplify step by step.',
  'First, consider the constraints; then combine them and check each case.',
  'Let me compute this carefully, keeping track of every term.',
];

type Template = (answer: string, rng: Rng, decoy: string) => { response: string; options?: GradeOptions };

const TEMPLATES: Record<string, Template> = {
  boxed: (a, rng) => ({
    response: `${pick(rng, FILLER)}\n\nTherefore, the final answer is $\\boxed{${a}}$.`,
  }),
  think: (a, rng) => ({
    response: `<think>\n${pick(rng, FILLER)} So it should be ${a}.\n</think>\n\nThe answer is $\\boxed{${a}}$.`,
  }),
  'think-decoy': (a, rng, decoy) => ({
    response: `<think>\nMy first guess was $\\boxed{${decoy}}$, but that ignores a case. ${pick(rng, FILLER)} Checking again gives the value below.\n</think>\n\nAfter checking all the cases carefully, the final answer is \\boxed{${a}}.`,
  }),
  display: (a, rng) => ({ response: `${pick(rng, FILLER)}\n\n**Final Answer**\n\\[\n\\boxed{${a}}\n\\]` }),
  'answer-is': (a, rng) => ({
    response: `${pick(rng, FILLER)}\n\nThe final answer is $${a}$. I hope it is correct.`,
    options: { answerIs: true },
  }),
};

// ---------- rewritings of a gold answer ----------

type Transform = (gold: string, rng: Rng) => string | null;

const isInteger = (s: string): boolean => /^-?\d+$/.test(s.trim());
const SIMPLE_FRAC = /^(-?)\\[dt]?frac\{(\d+)\}\{(\d+)\}$/;

/** Terminating decimal text of n/d, or null. */
function terminatingDecimal(n: bigint, d: bigint): string | null {
  let den = d;
  let twos = 0;
  let fives = 0;
  while (den % 2n === 0n) {
    den /= 2n;
    twos++;
  }
  while (den % 5n === 0n) {
    den /= 5n;
    fives++;
  }
  if (den !== 1n) return null;
  const places = Math.max(twos, fives);
  const scaled = (n * 10n ** BigInt(places)) / d;
  const sign = scaled < 0n ? '-' : '';
  const digits = (scaled < 0n ? -scaled : scaled).toString().padStart(places + 1, '0');
  return places === 0 ? sign + digits : `${sign}${digits.slice(0, -places)}.${digits.slice(-places)}`;
}

/** Top-level comma split (outside brackets and braces), or null when there is none. */
function topLevelItems(s: string): string[] | null {
  const items: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && (s[i + 1] === '{' || s[i + 1] === '}')) {
      depth += s[i + 1] === '{' ? 1 : -1;
      i++;
    } else if (c === '{' || c === '(' || c === '[') depth++;
    else if (c === '}' || c === ')' || c === ']') depth--;
    else if (c === ',' && depth === 0 && s.slice(i, i + 3) !== ',\\!' && !/^\d{3}\b/.test(s.slice(i + 1))) {
      items.push(s.slice(start, i).trim());
      start = i + 1;
    }
  }
  if (items.length === 0) return null;
  items.push(s.slice(start).trim());
  return items;
}

/** Splits a sum at top-level + and - into signed terms, or null when it has fewer than two. */
function topLevelTerms(s: string): string[] | null {
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '{' || c === '(' || c === '[') depth++;
    else if (c === '}' || c === ')' || c === ']') depth--;
    else if (
      (c === '+' || c === '-') &&
      depth === 0 &&
      i > 0 &&
      s.slice(0, i).trim() !== '' &&
      !/[\^_=<>,]\s*$/.test(s.slice(0, i))
    ) {
      terms.push(s.slice(start, i).trim());
      start = i;
    }
  }
  if (terms.length === 0 || /[=<>]|\\le|\\ge|\\pm|\\cup|\\begin|,/.test(s)) return null;
  terms.push(s.slice(start).trim());
  return terms.filter((t) => t !== '');
}

export const EQUIVALENT: Record<string, Transform> = {
  // Spacing around operators (never inside a command, never around a thousands comma or after a backslash).
  spaces: (g) =>
    /\s/.test(g)
      ? g.replace(/(?<!\\[a-zA-Z]*)\s*([+\-=()[\]^_])\s*/g, '$1')
      : g
          .replace(/(?<![\\\d])([+=])/g, ' $1 ')
          .replace(/(?<![\\])(,)(?!\\!|\d{3})/g, '$1 ')
          .replace(/\s+/g, ' ')
          .trim(),
  dfrac: (g) => (g.includes('\\frac') ? g.replace(/\\frac/g, '\\dfrac') : null),
  'left-right': (g) =>
    /^[([].*[)\]]$/.test(g) && !g.includes('\\left')
      ? `\\left${g[0]} ${g.slice(1, -1)} \\right${g[g.length - 1]}`
      : null,
  'frac-as-slash': (g) => {
    const m = SIMPLE_FRAC.exec(g.trim());
    return m ? `${m[1]}${m[2]}/${m[3]}` : null;
  },
  'frac-unreduced': (g) => {
    const m = SIMPLE_FRAC.exec(g.trim());
    return m ? `${m[1]}\\frac{${BigInt(m[2]!) * 3n}}{${BigInt(m[3]!) * 3n}}` : null;
  },
  decimal: (g) => {
    const m = SIMPLE_FRAC.exec(g.trim());
    if (!m) return null;
    const n = BigInt(m[2]!) * (m[1] ? -1n : 1n);
    const d = BigInt(m[3]!);
    const exact = terminatingDecimal(n, d);
    if (exact) return exact;
    // Non-terminating: 8 decimal places (both graders round to 6 against such values).
    const v = Number(n) / Number(d);
    return v.toFixed(8);
  },
  'integer-as-fraction': (g) => (isInteger(g) ? `\\frac{${BigInt(g.trim()) * 2n}}{2}` : null),
  'integer-decimal': (g) => (isInteger(g) ? `${g.trim()}.0` : null),
  'integer-leading-var': (g) => (isInteger(g) || SIMPLE_FRAC.test(g.trim()) ? `x = ${g}` : null),
  'integer-units': (g) => (isInteger(g) ? `${g} \\text{ units}` : null),
  'integer-thousands': (g) => {
    if (!isInteger(g) || Math.abs(Number(g)) < 1000) return null;
    return BigInt(g.trim()).toLocaleString('en-US');
  },
  'integer-degrees': (g) => (isInteger(g) ? `${g}^\\circ` : null),
  'integer-scientific': (g) => {
    const m = /^(\d+?)(0{2,})$/.exec(g.trim());
    return m ? `${m[1]} \\times 10^{${m[2]!.length}}` : null;
  },
  'sum-reordered': (g) => {
    const terms = topLevelTerms(g);
    if (!terms || terms.length < 2) return null;
    const signed = terms.map((t) => (t.startsWith('+') || t.startsWith('-') ? t : `+${t}`));
    const rotated = [...signed.slice(1), signed[0]!];
    const text = rotated.join(' ').replace(/^\+\s*/, '');
    return text === g ? null : text;
  },
  'list-reversed': (g) => {
    const items = topLevelItems(g.replace(/,?\s*\\text\{\s*and\s*\}/g, ','));
    if (!items || /^\s*[([]/.test(g)) return null;
    return [...items].reverse().join(', ');
  },
  'set-reversed': (g) => {
    const m = /^\\\{(.*)\\\}$/.exec(g.trim());
    const items = m ? topLevelItems(m[1]!) : null;
    return items ? `\\{${[...items].reverse().join(', ')}\\}` : null;
  },
  'pm-expanded': (g) => {
    const m = /^([^,]*?)\s*\\pm\s*([^,]*)$/.exec(g.trim());
    if (!m || m[1] === '') return null;
    return `${m[1]} + ${m[2]}, ${m[1]} - ${m[2]}`;
  },
  'matrix-brackets': (g) => (g.includes('pmatrix') ? g.replace(/pmatrix/g, 'bmatrix') : null),
  'text-unwrapped': (g) => {
    const m = /^\\text\{([^{}]*)\}$/.exec(g.trim());
    return m ? m[1]!.trim() : null;
  },
  'sqrt-unbraced': (g) => (/\\sqrt\{\d\}/.test(g) ? g.replace(/\\sqrt\{(\d)\}/g, '\\sqrt$1') : null),
  'product-commuted': (g) => {
    const m = /^(-?\d+)\s*(\\sqrt\{?\d+\}?|\\pi)$/.exec(g.trim());
    return m ? `${m[2]} \\cdot ${m[1]}` : null;
  },
  'frac-split': (g) => {
    const m = /^\\[dt]?frac\{([^{}]+)\}\{([^{}]+)\}$/.exec(g.trim());
    return m && !/^\d+$/.test(m[1]!) ? `\\frac{1}{${m[2]}}\\left(${m[1]}\\right)` : null;
  },
  'square-as-product': (g) =>
    /(?<![\\a-zA-Z])[a-z]\^2(?![0-9])/.test(g) && !/[=<>,]/.test(g)
      ? g.replace(/(?<![\\a-zA-Z])([a-z])\^2(?![0-9])/, '$1 \\cdot $1')
      : null,
  // An irrational constant (with \sqrt, \pi, \log …) written as an 8-place decimal.
  'decimal-approximation': (g) => {
    if (!/\\(sqrt|pi|log|ln|sin|cos|tan)/.test(g) || /[=<>,]|\\pm|\\mp/.test(g)) return null;
    try {
      const node = parseLatex(g, new Budget());
      if (freeSymbols(node).size > 0) return null;
      const v = numericValue(node, new Map(), new Budget());
      return v.im === 0 && Number.isFinite(v.re) ? v.re.toFixed(8) : null;
    } catch {
      return null;
    }
  },
  'times-cdot': (g) => (/\d\s*\\pi/.test(g) ? g.replace(/(\d)\s*\\pi/, '$1 \\cdot \\pi') : null),
};

export const WRONG: Record<string, Transform> = {
  'integer-plus-one': (g) => (isInteger(g) ? (BigInt(g.trim()) + 1n).toString() : null),
  'integer-times-two': (g) => (isInteger(g) && Number(g) !== 0 ? (BigInt(g.trim()) * 2n).toString() : null),
  negated: (g) => {
    const t = g.trim();
    if (t === '0' || topLevelItems(t) || /[=<>(]|\\le|\\ge|begin/.test(t)) return null;
    return t.startsWith('-') ? t.slice(1) : `-${t}`;
  },
  'frac-inverted': (g) => {
    const m = SIMPLE_FRAC.exec(g.trim());
    return m && m[2] !== m[3] ? `${m[1]}\\frac{${m[3]}}{${m[2]}}` : null;
  },
  'decimal-off': (g) => {
    const m = /^(-?\d*\.\d)(\d)(\d*)$/.exec(g.trim());
    return m ? `${m[1]}${(Number(m[2]) + 1) % 10}${m[3]}` : null;
  },
  'interval-end-flipped': (g) => {
    const t = g.trim();
    if (!/^(\\left)?[([].*,.*[)\]]$/.test(t) || t.includes('\\cup')) return null;
    const open = t.startsWith('\\left') ? 5 : 0;
    const flippedOpen = t[open] === '(' ? '[' : '(';
    return t.includes('\\infty') &&
      t
        .slice(open + 1)
        .trim()
        .startsWith('-\\infty')
      ? null
      : t.slice(0, open) + flippedOpen + t.slice(open + 1);
  },
  'tuple-swapped': (g) => {
    const t = g.trim();
    const m = /^(\\left\s*)?\((.*?)(\\right\s*)?\)$/.exec(t);
    const items = m ? topLevelItems(m[2]!) : null;
    if (!items || items.length < 2 || items[0] === items[1]) return null;
    return `(${[items[1], items[0], ...items.slice(2)].join(', ')})`;
  },
  'item-dropped': (g) => {
    const items = topLevelItems(g);
    return items && !/^\s*[([]/.test(g) && !items.slice(1).includes(items[0]!)
      ? items.slice(1).join(', ')
      : null;
  },
  'doubled-expression': (g) =>
    /^-?0+$/.test(g.trim())
      ? null
      : isInteger(g) || (/^[\\a-z0-9{}^_+\-*/ ()]+$/i.test(g) && !/=|,/.test(g))
        ? `2\\left(${g}\\right)`
        : null,
  'exponent-changed': (g) =>
    /\^2(?![0-9])/.test(g) && !/\\(text|mbox)/.test(g) ? g.replace(/\^2(?![0-9])/, '^3') : null,
  'sqrt-argument-changed': (g) =>
    /\\sqrt\{(\d+)\}/.test(g)
      ? g.replace(/\\sqrt\{(\d+)\}/, (_m, n: string) => `\\sqrt{${Number(n) + 1}}`)
      : null,
  'term-sign-flipped': (g) => {
    const terms = topLevelTerms(g);
    if (!terms || terms.length < 2) return null;
    const last = terms[terms.length - 1]!;
    const flipped = last.startsWith('-')
      ? `+${last.slice(1)}`
      : last.startsWith('+')
        ? `-${last.slice(1)}`
        : null;
    return flipped ? [...terms.slice(0, -1), flipped].join(' ') : null;
  },
};

/** One of the transforms that apply to this gold, chosen uniformly with the seeded generator. */
function applyOne(
  table: Record<string, Transform>,
  gold: string,
  rng: Rng,
): { name: string; text: string } | null {
  const applicable: { name: string; text: string }[] = [];
  for (const [name, transform] of Object.entries(table)) {
    const text = transform(gold, rng);
    if (text !== null && text.trim() !== '' && text !== gold) applicable.push({ name, text });
  }
  return applicable.length === 0 ? null : pick(rng, applicable);
}

const TEMPLATE_WEIGHTS: [string, number][] = [
  ['boxed', 0.35],
  ['think', 0.25],
  ['think-decoy', 0.15],
  ['display', 0.15],
  ['answer-is', 0.1],
];

function pickTemplate(rng: Rng): string {
  let r = rng();
  for (const [name, w] of TEMPLATE_WEIGHTS) {
    if ((r -= w) < 0) return name;
  }
  return 'boxed';
}

/** All pairs, in a fixed order with stable ids. */
export function buildPairs(seed = 20250925, trainSample = 600): Pair[] {
  const rng = mulberry32(seed);
  const golds = loadGolds(rng, trainSample);
  const pairs: Pair[] = [];
  const add = (
    row: Row,
    variant: string,
    templateName: string,
    answer: string,
    intended: boolean,
    decoy: string,
  ): void => {
    const made = TEMPLATES[templateName]!(answer, rng, decoy);
    pairs.push({
      id: `${row.id}#${variant}`,
      category: `${templateName}/${variant}`,
      response: made.response,
      gold: row.answer,
      intended,
      ...(made.options ? { options: made.options } : {}),
    });
  };
  golds.forEach((row, index) => {
    const gold = row.answer.trim();
    const decoy = golds[(index + 7) % golds.length]!.answer;
    add(row, 'same', pickTemplate(rng), gold, true, decoy);
    const eq = applyOne(EQUIVALENT, gold, rng);
    if (eq) add(row, `equivalent:${eq.name}`, pickTemplate(rng), eq.text, true, decoy);
    const wrong = applyOne(WRONG, gold, rng) ?? { name: 'other-gold', text: decoy };
    if (wrong.text !== gold) add(row, `wrong:${wrong.name}`, pickTemplate(rng), wrong.text, false, gold);
    // A few truncated responses that mention the gold value but never state a final answer.
    if (index % 40 === 0) {
      pairs.push({
        id: `${row.id}#truncated`,
        category: 'truncated/no-final-answer',
        response: `${pick(rng, FILLER)} One candidate is $${gold}$, but I still need to verify the remaining case, so`,
        gold: row.answer,
        intended: false,
      });
    }
  });
  return pairs;
}
