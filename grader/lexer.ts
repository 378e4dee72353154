// Tokenizer for LaTeX answers. It also does the token-level normalisation: spacing commands, \left/\right,
// $ and \$ disappear; \dfrac → frac; ^\circ (degrees) is dropped; \le/\leq/≤ become one relation; Unicode
// operators map to their LaTeX meaning; \text{…} becomes one text token; thousands separators
// ("10,\!080", "1{,}000", "58,500" at top level) are merged into one number.
import type { Budget } from './budget';
import { GradeAbort } from './budget';

export type Token =
  | { t: 'num'; v: string; sp: boolean }
  | { t: 'id'; v: string; sp: boolean }
  | { t: 'cmd'; v: string; sp: boolean }
  | { t: 'op'; v: string; sp: boolean }
  | { t: 'text'; v: string; sp: boolean }
  | { t: 'begin'; v: string; sp: boolean }
  | { t: 'end'; v: string; sp: boolean };

/** Commands that vanish (spacing, sizing, style). */
const SKIPPED = new Set([
  'left',
  'right',
  'bigl',
  'bigr',
  'Bigl',
  'Bigr',
  'biggl',
  'biggr',
  'Biggl',
  'Biggr',
  'big',
  'Big',
  'bigg',
  'Bigg',
  'middle',
  'displaystyle',
  'textstyle',
  'scriptstyle',
  'limits',
  'nolimits',
  'quad',
  'qquad',
  'hline',
  'mathstrut',
  'strut',
  'boxed',
  'fbox',
  'overline',
  'underline',
  'bar',
  'hat',
  'vec',
  'widehat',
  'overrightarrow',
  'tilde',
  'mathbf',
  'boldsymbol',
  'mathit',
  'mathcal',
  'mathsf',
  'mathtt',
  'bm',
  'ensuremath',
  'rm',
  'bf',
  'it',
  'cal',
  'degree',
  'circ',
  'dagger',
  'not',
]);

/** Commands renamed to one canonical token. */
const RENAMED: Record<string, { t: 'cmd' | 'op'; v: string }> = {
  dfrac: { t: 'cmd', v: 'frac' },
  tfrac: { t: 'cmd', v: 'frac' },
  cfrac: { t: 'cmd', v: 'frac' },
  dbinom: { t: 'cmd', v: 'binom' },
  tbinom: { t: 'cmd', v: 'binom' },
  cdot: { t: 'op', v: '*' },
  times: { t: 'op', v: '*' },
  ast: { t: 'op', v: '*' },
  div: { t: 'op', v: '/' },
  pm: { t: 'op', v: '±' },
  mp: { t: 'op', v: '∓' },
  le: { t: 'op', v: '≤' },
  leq: { t: 'op', v: '≤' },
  leqslant: { t: 'op', v: '≤' },
  leqq: { t: 'op', v: '≤' },
  ge: { t: 'op', v: '≥' },
  geq: { t: 'op', v: '≥' },
  geqslant: { t: 'op', v: '≥' },
  geqq: { t: 'op', v: '≥' },
  lt: { t: 'op', v: '<' },
  gt: { t: 'op', v: '>' },
  ne: { t: 'op', v: '≠' },
  neq: { t: 'op', v: '≠' },
  approx: { t: 'op', v: '≈' },
  simeq: { t: 'op', v: '≈' },
  cong: { t: 'op', v: '≈' },
  equiv: { t: 'op', v: '=' },
  in: { t: 'op', v: '∈' },
  cup: { t: 'op', v: '∪' },
  cap: { t: 'op', v: '∩' },
  setminus: { t: 'op', v: '∖' },
  backslash: { t: 'op', v: '∖' },
  to: { t: 'op', v: '→' },
  rightarrow: { t: 'op', v: '→' },
  Rightarrow: { t: 'op', v: '→' },
  implies: { t: 'op', v: '→' },
  mapsto: { t: 'op', v: '→' },
  lbrace: { t: 'op', v: '\\{' },
  rbrace: { t: 'op', v: '\\}' },
  lbrack: { t: 'op', v: '[' },
  rbrack: { t: 'op', v: ']' },
  lvert: { t: 'op', v: '|' },
  rvert: { t: 'op', v: '|' },
  vert: { t: 'op', v: '|' },
  lVert: { t: 'op', v: '|' },
  rVert: { t: 'op', v: '|' },
  mid: { t: 'op', v: '|' },
  langle: { t: 'op', v: '⟨' },
  rangle: { t: 'op', v: '⟩' },
  lfloor: { t: 'op', v: '⌊' },
  rfloor: { t: 'op', v: '⌋' },
  lceil: { t: 'op', v: '⌈' },
  rceil: { t: 'op', v: '⌉' },
  ldots: { t: 'op', v: '…' },
  cdots: { t: 'op', v: '…' },
  dots: { t: 'op', v: '…' },
  dotsc: { t: 'op', v: '…' },
  dotsb: { t: 'op', v: '…' },
  prime: { t: 'op', v: "'" },
  colon: { t: 'op', v: ':' },
  varnothing: { t: 'cmd', v: 'emptyset' },
  infin: { t: 'cmd', v: 'infty' },
  imath: { t: 'cmd', v: 'imag' },
  operatorname: { t: 'cmd', v: 'operatorname' },
  lg: { t: 'cmd', v: 'log' },
};

/** Unicode characters with a LaTeX meaning. */
const UNICODE: Record<string, { t: 'cmd' | 'op'; v: string } | null> = {
  '−': { t: 'op', v: '-' },
  '–': { t: 'op', v: '-' },
  '×': { t: 'op', v: '*' },
  '·': { t: 'op', v: '*' },
  '⋅': { t: 'op', v: '*' },
  '÷': { t: 'op', v: '/' },
  '±': { t: 'op', v: '±' },
  '∓': { t: 'op', v: '∓' },
  '≤': { t: 'op', v: '≤' },
  '≥': { t: 'op', v: '≥' },
  '≠': { t: 'op', v: '≠' },
  '≈': { t: 'op', v: '≈' },
  '∈': { t: 'op', v: '∈' },
  '∪': { t: 'op', v: '∪' },
  '∩': { t: 'op', v: '∩' },
  '…': { t: 'op', v: '…' },
  '√': { t: 'cmd', v: 'sqrt' },
  π: { t: 'cmd', v: 'pi' },
  '∞': { t: 'cmd', v: 'infty' },
  '∅': { t: 'cmd', v: 'emptyset' },
  '°': null,
  '′': { t: 'op', v: "'" },
};

/** Letter runs that are function names when written without a backslash. */
const BARE_FUNCTIONS = new Set([
  'sin',
  'cos',
  'tan',
  'cot',
  'sec',
  'csc',
  'arcsin',
  'arccos',
  'arctan',
  'sinh',
  'cosh',
  'tanh',
  'log',
  'ln',
  'exp',
  'sqrt',
  'gcd',
  'lcm',
  'max',
  'min',
]);

/** Text-wrapper commands whose argument is read as plain text. */
const TEXT_COMMANDS = new Set([
  'text',
  'textbf',
  'textit',
  'textrm',
  'textnormal',
  'texttt',
  'textsf',
  'mbox',
  'emph',
  'textup',
  'hbox',
]);
/** Roman-style commands: a word argument is text ("\mathrm{cm}"), anything else is math ("\mathrm{e}"). */
const ROMAN_COMMANDS = new Set(['mathrm', 'operatorname']);

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isLetter = (c: string | undefined): boolean =>
  c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
const isSpace = (c: string | undefined): boolean =>
  c === ' ' || c === '\n' || c === '\t' || c === '\r' || c === '~';

/** Index of the brace closing the group opened at `open` (escaped braces do not count), or -1. */
function closeOf(s: string, open: number, budget: Budget): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    budget.tick();
    const c = s[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i;
  }
  return -1;
}

export class LexError extends Error {}

/** Splits a LaTeX answer into tokens; throws LexError on text it cannot read (e.g. an unclosed \text{). */
export function tokenize(src: string, budget: Budget, nesting = 0): Token[] {
  if (nesting > 8) throw new GradeAbort('too-deep');
  const out: Token[] = [];
  let sp = false;
  let i = 0;
  const push = (tok: { t: Token['t']; v: string }): void => {
    out.push({ t: tok.t, v: tok.v, sp });
    sp = false;
  };
  while (i < src.length) {
    budget.tick();
    const c = src[i]!;
    if (isSpace(c)) {
      sp = true;
      i++;
      continue;
    }
    if (c === '$') {
      i++;
      continue;
    }
    if (isDigit(c) || (c === '.' && isDigit(src[i + 1]))) {
      let j = i;
      let seenDot = false;
      while (j < src.length && (isDigit(src[j]) || (src[j] === '.' && !seenDot && isDigit(src[j + 1])))) {
        if (src[j] === '.') seenDot = true;
        j++;
      }
      // Scientific notation written inline: 1.5e-3, 2E6 (the exponent must follow directly).
      if ((src[j] === 'e' || src[j] === 'E') && !isLetter(src[j + 1])) {
        let k = j + 1;
        if (src[k] === '-' || src[k] === '+') k++;
        const digitsStart = k;
        while (isDigit(src[k])) k++;
        if (k > digitsStart && !isLetter(src[k]) && k - digitsStart <= 6) j = k;
      }
      const text = src.slice(i, j);
      const prev = out[out.length - 1];
      // "1\,000": a number right after a number (the spacing command in between vanished) continues it.
      if (prev && prev.t === 'num' && !sp && joinedBySpacing(src, i)) prev.v += text;
      else push({ t: 'num', v: text });
      i = j;
      continue;
    }
    if (isLetter(c)) {
      let j = i;
      while (isLetter(src[j])) j++;
      const word = src.slice(i, j);
      if (BARE_FUNCTIONS.has(word)) push({ t: 'cmd', v: word });
      else if (word === 'pi') push({ t: 'cmd', v: 'pi' });
      else if (word === 'infty' || word === 'infinity' || word === 'inf') push({ t: 'cmd', v: 'infty' });
      else if (word === 'and' || word === 'or') push({ t: 'op', v: ',' });
      else for (const letter of word) push({ t: 'id', v: letter });
      i = j;
      continue;
    }
    if (c === '\\') {
      i = readCommand(src, i, push, out, budget, nesting, () => (sp = true));
      continue;
    }
    if (c === '^') {
      // ^\circ, ^{\circ}, ^{ \circ } — degrees: dropped.
      const degreeEnd = degreeSuffixEnd(src, i + 1);
      if (degreeEnd > 0) {
        i = degreeEnd;
        continue;
      }
      push({ t: 'op', v: '^' });
      i++;
      continue;
    }
    if (c === ',') {
      // "10,\!080" and "1{,}000" are thousands separators.
      const thin = src.startsWith('\\!', i + 1);
      if (thin) {
        push({ t: 'op', v: ',k' });
        i += 3;
        continue;
      }
      push({ t: 'op', v: ',' });
      i++;
      continue;
    }
    if (c === '{' && src.startsWith('{,}', i)) {
      push({ t: 'op', v: ',k' });
      i += 3;
      continue;
    }
    if (c === '<' && src[i + 1] === '=') {
      push({ t: 'op', v: '≤' });
      i += 2;
      continue;
    }
    if (c === '>' && src[i + 1] === '=') {
      push({ t: 'op', v: '≥' });
      i += 2;
      continue;
    }
    if (c === '!' && src[i + 1] === '=') {
      push({ t: 'op', v: '≠' });
      i += 2;
      continue;
    }
    if (c === '*' && src[i + 1] === '*') {
      push({ t: 'op', v: '^' });
      i += 2;
      continue;
    }
    if (c === '.' && src.startsWith('...', i)) {
      push({ t: 'op', v: '…' });
      i += 3;
      continue;
    }
    if ("+-*/()[]{}|=<>!_'&;:%".includes(c)) {
      push({ t: 'op', v: c });
      i++;
      continue;
    }
    const code = c.charCodeAt(0);
    if (code >= 0xd800 && code <= 0xdfff) throw new LexError('surrogate');
    if (c in UNICODE) {
      const mapped = UNICODE[c];
      if (mapped) push(mapped);
      i++;
      continue;
    }
    if (c === '?' || c === '"' || c === '`' || c === '.') {
      i++;
      continue;
    }
    throw new LexError(`unexpected character ${JSON.stringify(c)}`);
  }
  return mergeThousands(out);
}

/** True when the text right before `at` ends in a spacing command such as \, or \! (so "1\,000" is 1000). */
function joinedBySpacing(src: string, at: number): boolean {
  const two = src.slice(Math.max(0, at - 2), at);
  return two === '\\,' || two === '\\!' || two === '\\;' || two === '\\:';
}

/** End index of a degree mark starting at `at` (just after ^), or -1. */
function degreeSuffixEnd(src: string, at: number): number {
  let j = at;
  while (isSpace(src[j])) j++;
  if (src.startsWith('\\circ', j) && !isLetter(src[j + 5])) return j + 5;
  if (src[j] === '{') {
    let k = j + 1;
    while (isSpace(src[k])) k++;
    if (src.startsWith('\\circ', k) && !isLetter(src[k + 5])) {
      k += 5;
      while (isSpace(src[k])) k++;
      if (src[k] === '}') return k + 1;
    }
  }
  return -1;
}

function readCommand(
  src: string,
  i: number,
  push: (tok: { t: Token['t']; v: string }) => void,
  out: Token[],
  budget: Budget,
  nesting: number,
  space: () => void,
): number {
  const next = src[i + 1];
  if (next === undefined) return i + 1;
  if (!isLetter(next)) {
    // Control symbols: \{ \} \| \\ \, \! \% \$ ...
    switch (next) {
      case '{':
      case '}':
        push({ t: 'op', v: '\\' + next });
        break;
      case '|':
        push({ t: 'op', v: '|' });
        break;
      case '\\':
        push({ t: 'op', v: '\\\\' });
        break;
      case '%':
        push({ t: 'op', v: '%' });
        break;
      case ',':
      case ';':
      case ':':
      case '!':
      case ' ':
      case '>':
        space();
        break;
      default:
        break; // \$ \& \# and friends carry no meaning in an answer
    }
    return i + 2;
  }
  let j = i + 1;
  while (isLetter(src[j])) j++;
  const name = src.slice(i + 1, j);
  if (name === 'left' || name === 'right') {
    // \left. and \right. are invisible delimiters.
    let k = j;
    while (isSpace(src[k])) k++;
    return src[k] === '.' ? k + 1 : j;
  }
  if (SKIPPED.has(name)) return j;
  if (name === 'begin' || name === 'end') {
    const open = skipSpaces(src, j);
    if (src[open] !== '{') throw new LexError('\\begin without {');
    const close = closeOf(src, open, budget);
    if (close < 0) throw new LexError('unclosed environment name');
    const env = src.slice(open + 1, close).trim();
    push({ t: name, v: env });
    let after = close + 1;
    // \begin{array}{cc}: skip the column specification.
    if (name === 'begin' && env === 'array' && src[skipSpaces(src, after)] === '{') {
      const specClose = closeOf(src, skipSpaces(src, after), budget);
      if (specClose > 0) after = specClose + 1;
    }
    return after;
  }
  if (TEXT_COMMANDS.has(name) || ROMAN_COMMANDS.has(name) || name === 'mathbb') {
    const open = skipSpaces(src, j);
    if (src[open] !== '{') {
      // \mathbb R, \text x: a single character argument.
      const ch = src[open];
      if (ch === undefined) return open;
      emitWrapped(name, ch, push, out, budget, nesting);
      return open + 1;
    }
    const close = closeOf(src, open, budget);
    if (close < 0) throw new LexError('unclosed text');
    emitWrapped(name, src.slice(open + 1, close), push, out, budget, nesting);
    return close + 1;
  }
  const renamed = RENAMED[name];
  if (renamed) {
    push(renamed);
    return j;
  }
  push({ t: 'cmd', v: name });
  return j;
}

function skipSpaces(src: string, j: number): number {
  while (isSpace(src[j])) j++;
  return j;
}

/** \text{…}, \mathrm{…}, \operatorname{…}, \mathbb{…}: words become text tokens, math is read as math. */
function emitWrapped(
  name: string,
  content: string,
  push: (tok: { t: Token['t']; v: string }) => void,
  out: Token[],
  budget: Budget,
  nesting: number,
): void {
  const trimmed = content.trim();
  if (name === 'mathbb') {
    push({ t: 'cmd', v: 'mathbb:' + trimmed });
    return;
  }
  if (name === 'operatorname') {
    push({ t: 'cmd', v: trimmed });
    return;
  }
  const isWord =
    trimmed.length > 0 && [...trimmed].every((ch) => isLetter(ch) || ch === ' ' || ch === '.' || ch === '-');
  if (name === 'mathrm' && (!isWord || trimmed.length === 1)) {
    for (const tok of tokenize(content, budget, nesting + 1)) out.push(tok);
    return;
  }
  if (trimmed.length === 0) return;
  if (trimmed === 'and' || trimmed === 'or' || trimmed === ',') {
    push({ t: 'op', v: ',' });
    return;
  }
  if (trimmed === '%' || trimmed === '\\%' || trimmed === 'percent') {
    push({ t: 'op', v: '%' });
    return;
  }
  // A quantity with its unit inside the text (\text{5 apples}): the number, then the unit as text.
  const unitAt = quantityWithUnit(trimmed);
  if (unitAt > 0) {
    for (const tok of tokenize(trimmed.slice(0, unitAt), budget, nesting + 1)) out.push(tok);
    push({ t: 'text', v: trimmed.slice(unitAt).trim() });
    return;
  }
  // Math inside text (\text{$x$}, \text{5}) is read as math; words stay a text token.
  if (!isWord && /[0-9$\\=+^]/.test(trimmed) && trimmed.length < 200) {
    for (const tok of tokenize(content, budget, nesting + 1)) out.push(tok);
    return;
  }
  push({ t: 'text', v: trimmed });
}

/** Index where the words start in "5 apples" / "12.5 cm" / "-3 units", or -1 when the text is not that. */
function quantityWithUnit(text: string): number {
  let i = 0;
  if (text[i] === '-') i++;
  const digitsStart = i;
  while (i < text.length && (isDigit(text[i]) || text[i] === '.' || text[i] === ',')) i++;
  if (i === digitsStart || !isSpace(text[i])) return -1;
  const wordsStart = i;
  for (; i < text.length; i++) {
    const c = text[i];
    if (!isLetter(c) && !isSpace(c) && c !== '.') return -1;
  }
  return wordsStart;
}

const OPENERS = new Set(['(', '[', '{', '\\{', '⟨', '⌊', '⌈']);
const CLOSERS = new Set([')', ']', '}', '\\}', '⟩', '⌋', '⌉']);

/**
 * Merges digit groups separated by thousands commas into one number: always for ",\!" and "{,}", and for
 * plain commas only at bracket depth 0 when every group after the first has exactly three digits and no
 * spaces surround the commas ("58,500" is 58500, "(12,102)" stays a pair, "1, 2" stays a list).
 */
function mergeThousands(tokens: Token[]): Token[] {
  const out: Token[] = [];
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    if (tok.t === 'op' && OPENERS.has(tok.v)) depth++;
    else if (tok.t === 'op' && CLOSERS.has(tok.v)) depth--;
    else if (tok.t === 'begin') depth++;
    else if (tok.t === 'end') depth--;
    if (tok.t === 'num' && tok.v.length <= 3 && /^\d+$/.test(tok.v)) {
      const groups: string[] = [tok.v];
      let explicit = false;
      let spaced = false;
      let j = i;
      while (j + 2 < tokens.length) {
        const sep = tokens[j + 1]!;
        const group = tokens[j + 2]!;
        if (sep.t !== 'op' || (sep.v !== ',' && sep.v !== ',k') || group.t !== 'num') break;
        if (sep.v === ',k') explicit = true;
        else if (sep.sp || group.sp) spaced = true;
        groups.push(group.v);
        j += 2;
      }
      const prev = out[out.length - 1];
      const afterComma = prev !== undefined && prev.t === 'op' && prev.v === ',';
      const shaped = groups
        .slice(1)
        .every((g, k) => (k === groups.length - 2 ? /^\d{3}(\.\d+)?$/ : /^\d{3}$/).test(g));
      if (groups.length >= 2 && shaped && (explicit || (depth === 0 && !spaced && !afterComma))) {
        out.push({ t: 'num', v: groups.join(''), sp: tok.sp });
        i = j;
        continue;
      }
    }
    out.push(tok.t === 'op' && tok.v === ',k' ? { t: 'op', v: ',', sp: tok.sp } : tok);
  }
  return out;
}
