// Finds the final answer in a model response. Default convention (DeepScaleR / MATH style): the answer is
// the last \boxed{…} or \fbox{…} (balanced braces, nested braces, `\boxed 5` without braces), looked for only
// after the last </think> when the response has one. Boxes separated only by commas/"and"/"or"/spaces
// (`\boxed{2}, \boxed{3}`) are joined into one comma list, as multi-answer questions are often written.
// Other conventions ("The answer is …", GSM8K "#### …", the final line) are off unless asked for.
// Everything here is a linear hand-written scan (no backtracking regexes): hostile text cannot blow up.
import type { Budget } from './budget';

export type ThinkMode = 'after-close' | 'ignore';

export interface ExtractOptions {
  /** 'after-close' (default): use only the text after the last </think>; an unclosed <think> has no answer. */
  think: ThinkMode;
  /** Last \boxed{…} / \fbox{…} (default true). */
  boxed: boolean;
  /** "The final answer is …", "Answer: …" (default false). */
  answerIs: boolean;
  /** "#### …" as in GSM8K (default false). */
  hashes: boolean;
  /** The last non-empty line (default false). */
  lastLine: boolean;
}

export const DEFAULT_EXTRACT: ExtractOptions = {
  think: 'after-close',
  boxed: true,
  answerIs: false,
  hashes: false,
  lastLine: false,
};

export type ExtractReason = 'found' | 'no-answer' | 'unclosed-think' | 'unbalanced-braces';

export interface Extraction {
  answer: string | null;
  reason: ExtractReason;
}

/** Longest `\boxed 5` style argument without braces. */
const MAX_BARE_ARGUMENT = 200;
/** Most boxes joined into one list. */
const MAX_JOINED_BOXES = 16;
/** Longest text between two boxes that may still join them. */
const MAX_JOIN_GAP = 40;
/** The "answer is" and final-line conventions only look at this much of the tail. */
const TAIL_WINDOW = 4000;

/** The part of the response that may hold the answer, per the think-tag convention. */
export function answerRegion(response: string, think: ThinkMode): string | null {
  if (think === 'ignore') return response;
  const close = response.lastIndexOf('</think>');
  if (close >= 0) return response.slice(close + '</think>'.length);
  if (response.indexOf('<think>') >= 0) return null;
  return response;
}

export function extractFinalAnswer(response: string, options: ExtractOptions, budget: Budget): Extraction {
  const region = answerRegion(response, options.think);
  if (region === null) return { answer: null, reason: 'unclosed-think' };
  if (options.boxed) {
    const boxed = lastBoxed(region, budget);
    if (boxed.answer !== null || boxed.reason === 'unbalanced-braces') return boxed;
  }
  if (options.answerIs) {
    const stated = answerIsPhrase(region);
    if (stated !== null) return { answer: stated, reason: 'found' };
  }
  if (options.hashes) {
    const marked = afterHashes(region);
    if (marked !== null) return { answer: marked, reason: 'found' };
  }
  if (options.lastLine) {
    const line = finalLine(region);
    if (line !== null) return { answer: line, reason: 'found' };
  }
  return { answer: null, reason: 'no-answer' };
}

interface Box {
  /** Index of the backslash of \boxed / \fbox. */
  start: number;
  /** Index just past the box (after the closing brace or the bare argument). */
  end: number;
  content: string;
}

const isLetter = (c: string | undefined): boolean =>
  c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));

/** Start of the last \boxed or \fbox command strictly before `before`, or -1 (linear in the text scanned). */
function lastBoxCommand(text: string, before: number, budget: Budget): { at: number; nameEnd: number } {
  const search = (name: string, end: number): number => (end > 0 ? text.lastIndexOf(name, end - 1) : -1);
  let boxed = search('\\boxed', before);
  let fbox = search('\\fbox', before);
  while (boxed >= 0 || fbox >= 0) {
    budget.tick();
    const isBoxed = boxed > fbox;
    const at = isBoxed ? boxed : fbox;
    const nameEnd = at + (isBoxed ? 6 : 5);
    if (!isLetter(text[nameEnd])) return { at, nameEnd };
    // e.g. \boxedanswer is another command: keep looking further left.
    if (isBoxed) boxed = search('\\boxed', at);
    else fbox = search('\\fbox', at);
  }
  return { at: -1, nameEnd: -1 };
}

/**
 * Index of the brace closing the group opened at `open`, scanning no further than `limit`; -1 when it does
 * not close. `\{` and `\}` are literal braces in LaTeX and do not count.
 */
export function matchBrace(text: string, open: number, limit: number, budget: Budget): number {
  let depth = 0;
  for (let i = open; i < limit; i++) {
    if ((i & 255) === 0) budget.tick(256);
    const c = text.charCodeAt(i);
    if (c === 92 /* \ */) {
      i++;
      continue;
    }
    if (c === 123 /* { */) depth++;
    else if (c === 125 /* } */) {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/** Reads the box whose command starts at `at`; null content when it does not close before `limit`. */
function readBox(text: string, at: number, nameEnd: number, limit: number, budget: Budget): Box | null {
  let i = nameEnd;
  while (i < limit && (text[i] === ' ' || text[i] === '\t')) i++;
  if (text[i] === '{') {
    const close = matchBrace(text, i, limit, budget);
    if (close < 0) return null;
    return { start: at, end: close + 1, content: text.slice(i + 1, close).trim() };
  }
  // \boxed 5 : the argument runs to the next space, newline or $.
  let j = i;
  while (j < limit && j - i < MAX_BARE_ARGUMENT) {
    const c = text[j];
    if (c === ' ' || c === '\n' || c === '\t' || c === '$' || c === '\r') break;
    j++;
  }
  return { start: at, end: j, content: text.slice(i, j).trim() };
}

function lastBoxed(region: string, budget: Budget): Extraction {
  const cmd = lastBoxCommand(region, region.length, budget);
  if (cmd.at < 0) return { answer: null, reason: 'no-answer' };
  let last = readBox(region, cmd.at, cmd.nameEnd, region.length, budget);
  if (last === null) return { answer: null, reason: 'unbalanced-braces' };
  // \boxed{2\boxed{3}}: the answer is the outermost box around the last one.
  for (
    let outer = lastBoxCommand(region, last.start, budget);
    outer.at >= 0;
    outer = lastBoxCommand(region, outer.at, budget)
  ) {
    const box = readBox(region, outer.at, outer.nameEnd, region.length, budget);
    if (box === null || box.end < last.end) break;
    last = box;
  }
  const parts = [last.content];
  let current = last;
  for (let n = 1; n < MAX_JOINED_BOXES; n++) {
    const prev = lastBoxCommand(region, current.start, budget);
    if (prev.at < 0) break;
    // A previous box must close before the current one starts (otherwise it encloses it).
    const box = readBox(region, prev.at, prev.nameEnd, current.start, budget);
    if (box === null || !isSeparatorGap(region.slice(box.end, current.start))) break;
    if (box.content !== parts[0]) parts.unshift(box.content);
    current = box;
  }
  const answer = parts.filter((p) => p.length > 0).join(', ');
  return answer.length > 0 ? { answer, reason: 'found' } : { answer: null, reason: 'no-answer' };
}

const SEPARATOR_WORDS = [
  '\\text{and}',
  '\\text{ and }',
  '\\text{or}',
  '\\text{ or }',
  '\\quad',
  '\\qquad',
  '\\(',
  '\\)',
  '\\[',
  '\\]',
  '\\\\',
  'and',
  'or',
];

/** True when the text between two boxes is only list punctuation: spaces, commas, "and", "or", $ … */
function isSeparatorGap(gap: string): boolean {
  if (gap.length > MAX_JOIN_GAP) return false;
  let i = 0;
  outer: while (i < gap.length) {
    const c = gap[i]!;
    if (c === ' ' || c === '\n' || c === '\t' || c === ',' || c === ';' || c === '$' || c === '&') {
      i++;
      continue;
    }
    for (const word of SEPARATOR_WORDS) {
      if (gap.startsWith(word, i)) {
        i += word.length;
        continue outer;
      }
    }
    return false;
  }
  return true;
}

/** Strips $…$, \(…\), \[…\] around a short answer and a trailing period. */
export function stripMathDelimiters(text: string): string {
  let s = text.trim();
  for (let round = 0; round < 3; round++) {
    const before = s;
    if (s.endsWith('.') && !s.endsWith('..')) s = s.slice(0, -1).trim();
    if (s.startsWith('$$') && s.endsWith('$$') && s.length >= 4) s = s.slice(2, -2).trim();
    else if (s.startsWith('$') && s.endsWith('$') && s.length >= 2) s = s.slice(1, -1).trim();
    else if (s.startsWith('\\(') && s.endsWith('\\)')) s = s.slice(2, -2).trim();
    else if (s.startsWith('\\[') && s.endsWith('\\]')) s = s.slice(2, -2).trim();
    if (s === before) break;
  }
  return s;
}

/** "The final answer is X" / "Answer: X" — the text after the last such phrase, to the end of its line. */
function answerIsPhrase(region: string): string | null {
  const tail = region.length > TAIL_WINDOW ? region.slice(-TAIL_WINDOW) : region;
  const lower = tail.toLowerCase();
  let at = lower.lastIndexOf('answer');
  while (at >= 0) {
    let i = at + 'answer'.length;
    const skip = (): void => {
      while (i < tail.length && (tail[i] === ' ' || tail[i] === '*' || tail[i] === '\t')) i++;
    };
    skip();
    let anchored = false;
    if (lower.startsWith('is', i) && !isLetter(tail[i + 2])) {
      i += 2;
      anchored = true;
      skip();
    }
    if (tail[i] === ':') {
      i++;
      anchored = true;
      skip();
    }
    if (anchored) {
      const math = leadingMath(tail, i);
      if (math !== null && math.length > 0) return math;
      const lineEnd = tail.indexOf('\n', i);
      const line = tail.slice(i, lineEnd < 0 ? tail.length : lineEnd);
      const answer = firstMathOrText(line);
      if (answer.length > 0) return answer;
    }
    at = at > 0 ? lower.lastIndexOf('answer', at - 1) : -1;
  }
  return null;
}

/** Math that starts right at `at` ($…$, $$…$$, \(…\), \[…\]), which may span lines; null when none. */
function leadingMath(text: string, at: number): string | null {
  const delimiters: [string, string][] = [
    ['$$', '$$'],
    ['$', '$'],
    ['\\(', '\\)'],
    ['\\[', '\\]'],
  ];
  for (const [open, close] of delimiters) {
    if (!text.startsWith(open, at)) continue;
    const end = unescapedIndexOf(text, close, at + open.length);
    return end > at ? text.slice(at + open.length, end).trim() : null;
  }
  return null;
}

/** The first $…$ / \(…\) segment of a line when it has one, else the line without its final period. */
function firstMathOrText(line: string): string {
  const dollar = unescapedIndexOf(line, '$', 0);
  if (dollar >= 0) {
    const double = line.startsWith('$$', dollar);
    const open = dollar + (double ? 2 : 1);
    const close = unescapedIndexOf(line, double ? '$$' : '$', open);
    if (close > open) return line.slice(open, close).trim();
  }
  const paren = line.indexOf('\\(');
  if (paren >= 0) {
    const close = line.indexOf('\\)', paren + 2);
    if (close > paren) return line.slice(paren + 2, close).trim();
  }
  return stripMathDelimiters(line.replace(/\*\*/g, ''));
}

/** indexOf that skips occurrences escaped by a backslash (\$ is a dollar sign, not a math delimiter). */
function unescapedIndexOf(text: string, needle: string, from: number): number {
  let at = text.indexOf(needle, from);
  while (at > 0 && text[at - 1] === '\\') at = text.indexOf(needle, at + 1);
  return at;
}

function afterHashes(region: string): string | null {
  const at = region.lastIndexOf('####');
  if (at < 0) return null;
  const lineEnd = region.indexOf('\n', at);
  const answer = stripMathDelimiters(region.slice(at + 4, lineEnd < 0 ? region.length : lineEnd));
  return answer.length > 0 ? answer : null;
}

function finalLine(region: string): string | null {
  const tail = region.length > TAIL_WINDOW ? region.slice(-TAIL_WINDOW) : region;
  const lines = tail.split('\n');
  for (let k = lines.length - 1; k >= 0; k--) {
    const line = stripMathDelimiters(lines[k]!);
    if (line.length > 0) return line;
  }
  return null;
}
