// String-level answer normalisation: the cheap first test (two answers that are the same string after
// removing spacing, \left/\right, \dfrac, $, ^\circ … are equal), multiple-choice letters, word answers
// ("\text{Evelyn}" vs "evelyn") and trailing unit words. All hand-written linear scans.

/** Text-style wrappers whose argument is kept and whose command is dropped. */
const TEXT_WRAPPERS = [
  '\\text',
  '\\textbf',
  '\\textit',
  '\\textrm',
  '\\textnormal',
  '\\texttt',
  '\\textsf',
  '\\mathrm',
  '\\mathbf',
  '\\mathit',
  '\\mathsf',
  '\\mathtt',
  '\\mbox',
  '\\emph',
  '\\boxed',
  '\\fbox',
];

/** Substrings that never change an answer's meaning. */
const DROPPED = [
  '\\left',
  '\\right',
  '\\displaystyle',
  '\\textstyle',
  '\\!',
  '\\,',
  '\\;',
  '\\:',
  '\\ ',
  '\\$',
  '$',
  '^{\\circ}',
  '^\\circ',
  '\\circ',
  '°',
  '\\%',
  '%',
];

function replaceAll(s: string, from: string, to: string): string {
  return s.indexOf(from) < 0 ? s : s.split(from).join(to);
}

/** Removes `\cmd{` … `}` wrappers (keeping the argument) for the given commands, scanning once per command. */
export function unwrapCommands(s: string, commands: readonly string[]): string {
  for (const cmd of commands) {
    let at = s.indexOf(cmd + '{');
    let guard = 0;
    while (at >= 0 && guard++ < 64) {
      const open = at + cmd.length;
      let depth = 0;
      let close = -1;
      for (let i = open; i < s.length; i++) {
        const c = s[i];
        if (c === '\\') {
          i++;
          continue;
        }
        if (c === '{') depth++;
        else if (c === '}' && --depth === 0) {
          close = i;
          break;
        }
      }
      if (close < 0) break;
      s = s.slice(0, at) + s.slice(open + 1, close) + s.slice(close + 1);
      at = s.indexOf(cmd + '{', at);
    }
  }
  return s;
}

/** The cheap canonical string: equal canonical strings mean equal answers. */
export function canonicalString(answer: string): string {
  let s = answer;
  for (const d of DROPPED) s = replaceAll(s, d, '');
  s = replaceAll(replaceAll(replaceAll(s, '\\dfrac', '\\frac'), '\\tfrac', '\\frac'), '\\cfrac', '\\frac');
  s = replaceAll(replaceAll(s, '\\dbinom', '\\binom'), '\\tbinom', '\\binom');
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== ' ' && c !== '\n' && c !== '\t' && c !== '\r' && c !== '~') out += c;
  }
  while (out.endsWith('.') && !out.endsWith('..')) out = out.slice(0, -1);
  return out;
}

const isUpper = (c: string): boolean => c >= 'A' && c <= 'Z';
const isAsciiLetter = (c: string): boolean => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');

/** Strips text wrappers, spaces and $ so "\text{(B)}", "\textbf{(B)}", "(B)", "B" all read "(B)" or "B". */
function bareText(answer: string): string {
  let s = unwrapCommands(answer, TEXT_WRAPPERS);
  s = replaceAll(replaceAll(replaceAll(s, '$', ''), '\\left', ''), '\\right', '');
  let out = '';
  for (const c of s) if (c !== ' ' && c !== '\n' && c !== '\t' && c !== '~') out += c;
  while (out.endsWith('.')) out = out.slice(0, -1);
  return out;
}

/**
 * A multiple-choice letter: "(B)", "\text{(B)}", "\textbf{(B)}", "B)", "B" → "B".
 * With `leading`, also a letter that opens a longer answer: "(B) 12" → "B".
 */
export function choiceLetter(answer: string, leading = false): string | null {
  const s = bareText(answer);
  if (s.length === 1 && isUpper(s)) return s;
  if (s.length === 3 && s[0] === '(' && s[2] === ')' && isUpper(s[1]!)) return s[1]!;
  if (s.length === 2 && s[1] === ')' && isUpper(s[0]!)) return s[0]!;
  if (leading && s.length > 3 && s[0] === '(' && s[2] === ')' && isUpper(s[1]!)) return s[1]!;
  return null;
}

export interface WordForm {
  /** Lower-case letters with single spaces. */
  words: string;
  /** True when it can only be read as words: it was \text-wrapped or has a word of 4 or more letters. */
  decisive: boolean;
}

/** Word answers such as "\text{Evelyn}", "east", "\text{no solution}"; null when not purely words. */
export function wordForm(answer: string): WordForm | null {
  const trimmed = answer.trim();
  const wrapped =
    trimmed.startsWith('\\text') || trimmed.startsWith('\\mbox') || trimmed.startsWith('\\mathrm');
  let s = unwrapCommands(replaceAll(trimmed, '$', ''), TEXT_WRAPPERS).trim();
  while (s.endsWith('.')) s = s.slice(0, -1);
  let words = '';
  let letters = 0;
  let longest = 0;
  let run = 0;
  let pendingSpace = false;
  const chars = [...s];
  for (let k = 0; k < chars.length; k++) {
    const c = chars[k]!;
    if (isAsciiLetter(c)) {
      if (pendingSpace && words.length > 0) words += ' ';
      pendingSpace = false;
      words += c.toLowerCase();
      letters++;
      run++;
      longest = Math.max(longest, run);
    } else if (c === ' ' || c === '~' || c === '\t') {
      pendingSpace = true;
      run = 0;
    } else if (
      (c === '-' || c === "'") &&
      isAsciiLetter(chars[k - 1] ?? '') &&
      isAsciiLetter(chars[k + 1] ?? '')
    ) {
      words += c;
      run = 0;
    } else return null;
  }
  if (letters < 2) return null;
  return { words, decisive: wrapped || longest >= 4 };
}

/** Unit words dropped from the end of an answer: "5 cm", "12 square units", "30 degrees". */
const UNIT_WORDS = new Set([
  'unit',
  'units',
  'square',
  'sq',
  'cubic',
  'cm',
  'mm',
  'km',
  'meter',
  'meters',
  'metre',
  'metres',
  'centimeter',
  'centimeters',
  'millimeter',
  'millimeters',
  'kilometer',
  'kilometers',
  'inch',
  'inches',
  'foot',
  'feet',
  'ft',
  'yard',
  'yards',
  'mile',
  'miles',
  'mph',
  'kg',
  'gram',
  'grams',
  'pound',
  'pounds',
  'lb',
  'lbs',
  'ounce',
  'ounces',
  'oz',
  'second',
  'seconds',
  'sec',
  'minute',
  'minutes',
  'min',
  'hour',
  'hours',
  'hr',
  'hrs',
  'day',
  'days',
  'week',
  'weeks',
  'month',
  'months',
  'year',
  'years',
  'degree',
  'degrees',
  'deg',
  'radian',
  'radians',
  'dollar',
  'dollars',
  'cent',
  'cents',
  'liter',
  'liters',
  'litre',
  'litres',
  'ml',
  'gallon',
  'gallons',
  'people',
  'students',
  'ways',
  'points',
  'sides',
  'cubes',
]);
const PERCENT_WORDS = new Set(['percent', 'percentage', 'pct']);

/**
 * Drops trailing unit words after a number ("5 cm^2" → "5") and turns a trailing "percent" into "\%".
 * Only words after a space whose prefix ends in a digit, "}" or ")" are touched.
 */
export function stripTrailingUnitWords(answer: string): string {
  let s = answer.trimEnd();
  for (let round = 0; round < 4; round++) {
    let end = s.length;
    // optional ^2, ^3, ^{2}
    if (s.endsWith('^{2}') || s.endsWith('^{3}')) end -= 4;
    else if (s.endsWith('^2') || s.endsWith('^3')) end -= 2;
    let start = end;
    while (start > 0 && isAsciiLetter(s[start - 1]!)) start--;
    if (start === end || start === 0) return s;
    const word = s.slice(start, end).toLowerCase();
    const before = s.slice(0, start);
    const joint = before[before.length - 1]!;
    if (joint !== ' ' && joint !== '~' && !(joint >= '0' && joint <= '9')) return s;
    const prefix = before.trimEnd();
    const last = prefix[prefix.length - 1];
    const afterNumber = last !== undefined && ((last >= '0' && last <= '9') || last === '}' || last === ')');
    if (PERCENT_WORDS.has(word) && afterNumber && end === s.length) return prefix + '\\%';
    if (!UNIT_WORDS.has(word)) return s;
    if (!afterNumber && !UNIT_WORDS.has(prefix.slice(prefix.lastIndexOf(' ') + 1).toLowerCase())) return s;
    s = prefix;
  }
  return s;
}
