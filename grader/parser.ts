// Recursive-descent parser from tokens to expression trees (ast.ts). Precedence, loosest first:
// list (, ;) < relation (= < ≤ ∈ …) < set operation (∪ ∩ ∖) < sum (+ - ±) < product (* / implicit)
// < unary sign < power (^, right-assoc) < postfix (! % _ ') < primary. LaTeX argument rules apply to
// \frac, \sqrt, ^ and _ ("\frac12" = 1/2, "x^23" = x²·3). "2\frac{1}{2}" is the mixed number 5/2.
// A trailing \text{…} after a quantity is a unit and is dropped. Depth is bounded by the budget.
import type { Budget } from './budget';
import type { Node } from './ast';
import { tokenize, type Token } from './lexer';

export class ParseError extends Error {}

const RELATIONS = new Set(['=', '<', '>', '≤', '≥', '≠', '≈', '∈', '→']);
const SET_OPS = new Set(['∪', '∩', '∖']);
const SIGNS = new Set(['+', '-', '±', '∓']);
export const FUNCTIONS = new Set([
  'sin',
  'cos',
  'tan',
  'cot',
  'sec',
  'csc',
  'arcsin',
  'arccos',
  'arctan',
  'arccot',
  'sinh',
  'cosh',
  'tanh',
  'log',
  'ln',
  'exp',
  'gcd',
  'lcm',
  'max',
  'min',
  'det',
  'sgn',
]);
const TRIG_INVERSE: Record<string, string> = { sin: 'arcsin', cos: 'arccos', tan: 'arctan', cot: 'arccot' };

class Parser {
  private pos = 0;
  private depth = 0;
  private absDepth = 0;

  constructor(
    private readonly toks: Token[],
    private readonly budget: Budget,
  ) {}

  private peek(offset = 0): Token | undefined {
    return this.toks[this.pos + offset];
  }

  private next(): Token {
    const tok = this.toks[this.pos++];
    if (tok === undefined) throw new ParseError('unexpected end');
    return tok;
  }

  private isOp(v: string, offset = 0): boolean {
    const tok = this.toks[this.pos + offset];
    return tok !== undefined && tok.t === 'op' && tok.v === v;
  }

  private expectOp(v: string): void {
    const tok = this.next();
    if (tok.t !== 'op' || tok.v !== v) throw new ParseError(`expected ${v}`);
  }

  private enter(): void {
    this.budget.tick();
    this.depth++;
    this.budget.checkDepth(this.depth);
  }

  private leave(): void {
    this.depth--;
  }

  parseAnswer(): Node {
    const items = this.parseItems();
    if (this.pos < this.toks.length) throw new ParseError('unexpected token');
    return items.length === 1 ? items[0]! : { k: 'list', items };
  }

  /** Comma/semicolon separated items; empty items and stray separators are skipped. */
  private parseItems(): Node[] {
    const items: Node[] = [];
    for (;;) {
      const tok = this.peek();
      if (tok === undefined) break;
      if (tok.t === 'op' && (tok.v === ',' || tok.v === ';')) {
        this.pos++;
        continue;
      }
      if (tok.t === 'op' && tok.v === '…') {
        this.pos++;
        items.push({ k: 'ellipsis' });
        continue;
      }
      if (!this.startsItem(tok)) break;
      items.push(this.parseRelation());
      if (!(this.isOp(',') || this.isOp(';') || this.isOp('…'))) break;
    }
    if (items.length === 0) throw new ParseError('empty');
    return items;
  }

  private startsItem(tok: Token): boolean {
    if (tok.t !== 'op') return tok.t !== 'end';
    return !(
      tok.v === ')' ||
      tok.v === ']' ||
      tok.v === '}' ||
      tok.v === '\\}' ||
      tok.v === '⟩' ||
      tok.v === '&' ||
      tok.v === '\\\\' ||
      tok.v === '⌋' ||
      tok.v === '⌉' ||
      (tok.v === '|' && this.absDepth > 0)
    );
  }

  private parseRelation(): Node {
    this.enter();
    const parts = [this.parseSetExpr()];
    const ops: string[] = [];
    for (
      let tok = this.peek();
      tok !== undefined && tok.t === 'op' && RELATIONS.has(tok.v);
      tok = this.peek()
    ) {
      this.pos++;
      ops.push(tok.v);
      parts.push(this.parseSetExpr());
    }
    this.leave();
    return ops.length === 0 ? parts[0]! : { k: 'rel', parts, ops };
  }

  private parseSetExpr(): Node {
    let left = this.parseSum();
    for (
      let tok = this.peek();
      tok !== undefined && tok.t === 'op' && SET_OPS.has(tok.v);
      tok = this.peek()
    ) {
      this.pos++;
      const right = this.parseSum();
      const op = tok.v as '∪' | '∩' | '∖';
      left =
        left.k === 'setop' && left.op === op && op !== '∖'
          ? { ...left, args: [...left.args, right] }
          : { k: 'setop', op, args: [left, right] };
    }
    return left;
  }

  /** Consumes a run of + - ± ∓ and returns its combined effect. */
  private readSigns(): { negative: boolean; pm: 0 | 1 | -1 } {
    let negative = false;
    let pm: 0 | 1 | -1 = 0;
    for (let tok = this.peek(); tok !== undefined && tok.t === 'op' && SIGNS.has(tok.v); tok = this.peek()) {
      this.pos++;
      if (tok.v === '-') negative = !negative;
      else if (tok.v === '±') pm = 1;
      else if (tok.v === '∓') pm = -1;
    }
    return { negative, pm };
  }

  private parseSum(): Node {
    this.enter();
    const terms: Node[] = [];
    let sign = this.readSigns();
    for (;;) {
      let term = this.parseTerm();
      if (sign.negative) term = { k: 'neg', arg: term };
      if (sign.pm !== 0) term = { k: 'pm', arg: term, sign: sign.pm };
      terms.push(term);
      const tok = this.peek();
      if (tok === undefined || tok.t !== 'op' || !SIGNS.has(tok.v)) break;
      sign = this.readSigns();
    }
    this.leave();
    return terms.length === 1 ? terms[0]! : { k: 'add', terms };
  }

  private startsImplicitFactor(tok: Token | undefined): boolean {
    if (tok === undefined) return false;
    switch (tok.t) {
      case 'num':
      case 'id':
      case 'cmd':
      case 'begin':
        return true;
      case 'op':
        return (
          tok.v === '(' ||
          tok.v === '{' ||
          tok.v === '⌊' ||
          tok.v === '⌈' ||
          (tok.v === '|' && this.absDepth === 0)
        );
      default:
        return false;
    }
  }

  private parseTerm(): Node {
    this.enter();
    let node = this.parsePower();
    const factors: Node[] = [];
    const flush = (): Node =>
      factors.length === 0 ? node : { k: 'mul', factors: [node, ...factors.splice(0)] };
    for (;;) {
      this.budget.tick();
      const tok = this.peek();
      if (tok === undefined) break;
      if (tok.t === 'op' && tok.v === '*') {
        this.pos++;
        factors.push(this.parseSignedPower());
      } else if (tok.t === 'op' && (tok.v === '/' || tok.v === ':')) {
        this.pos++;
        node = { k: 'div', num: flush(), den: this.parseSignedPower() };
      } else if (tok.t === 'text') {
        // A word after a quantity is its unit: "15 \text{cm}^2" is 15.
        this.pos++;
        if (this.isOp('^')) {
          this.pos++;
          this.readScript();
        }
      } else if (this.startsImplicitFactor(tok)) {
        const isMixedNumber =
          node.k === 'num' &&
          factors.length === 0 &&
          /^\d+$/.test(node.text) &&
          tok.t === 'cmd' &&
          tok.v === 'frac';
        const right = this.parsePower();
        if (
          isMixedNumber &&
          right.k === 'div' &&
          isIntegerLiteral(right.num) &&
          isIntegerLiteral(right.den)
        ) {
          node = { k: 'add', terms: [node, right] };
        } else factors.push(right);
      } else break;
    }
    this.leave();
    return flush();
  }

  private parseSignedPower(): Node {
    const sign = this.readSigns();
    let node = this.parsePower();
    if (sign.negative) node = { k: 'neg', arg: node };
    if (sign.pm !== 0) node = { k: 'pm', arg: node, sign: sign.pm };
    return node;
  }

  private parsePower(): Node {
    this.enter();
    const base = this.parsePostfix();
    let node = base;
    if (this.isOp('^')) {
      this.pos++;
      let exponent = this.readScript();
      if (this.isOp('^')) {
        // x^a^b (invalid LaTeX) is read as a tower.
        this.pos++;
        exponent = { k: 'pow', base: exponent, exp: this.readScript() };
      }
      node = this.postfixes({ k: 'pow', base, exp: exponent });
    }
    this.leave();
    return node;
  }

  private parsePostfix(): Node {
    return this.postfixes(this.parsePrimary());
  }

  private postfixes(start: Node): Node {
    let node = start;
    for (;;) {
      const tok = this.peek();
      if (tok === undefined || tok.t !== 'op') return node;
      if (tok.v === '!') {
        this.pos++;
        node = { k: 'fn', name: 'fact', args: [node] };
      } else if (tok.v === '%') {
        this.pos++;
        node = { k: 'pct', arg: node };
      } else if (tok.v === "'") {
        this.pos++;
        if (node.k === 'sym') node = { k: 'sym', name: node.name + "'" };
      } else if (tok.v === '_') {
        this.pos++;
        const sub = this.readScript();
        if (node.k === 'sym') node = { k: 'sym', name: `${node.name}_${show(sub)}` };
        else if (node.k === 'num' && /^[0-9]+$/.test(node.text))
          node = { k: 'based', digits: node.text, base: show(sub) };
      } else return node;
    }
  }

  /** The argument of ^, _, \frac, \sqrt: a {group}, one digit, one letter or one command. */
  private readScript(): Node {
    this.enter();
    const tok = this.next();
    let node: Node;
    if (tok.t === 'op' && tok.v === '{') {
      node = this.groupUntil('}');
    } else if (tok.t === 'op' && (tok.v === '(' || tok.v === '[')) {
      node = this.parseBracket(tok.v);
    } else if (tok.t === 'op' && (tok.v === '-' || tok.v === '+')) {
      const arg = this.readScript();
      node = tok.v === '-' ? { k: 'neg', arg } : arg;
    } else if (tok.t === 'num') {
      // LaTeX takes one character: \frac12 = \frac{1}{2}, x^23 = x^2 3.
      if (tok.v.length > 1 && !tok.v.includes('e') && !tok.v.includes('E')) {
        node = { k: 'num', text: tok.v[0]! };
        this.toks[this.pos - 1] = { ...tok, v: tok.v.slice(1) };
        this.pos--;
      } else node = { k: 'num', text: tok.v };
    } else if (tok.t === 'id') {
      node = { k: 'sym', name: tok.v };
    } else if (tok.t === 'cmd') {
      node = this.parseCommand(tok.v);
    } else if (tok.t === 'text') {
      node = { k: 'text', text: tok.v };
    } else throw new ParseError('bad argument');
    this.leave();
    return node;
  }

  /** Items up to the closing token `close` (consumed); a list when there are several. */
  private groupUntil(close: string): Node {
    if (this.isOp(close)) throw new ParseError('empty group');
    const items = this.parseItems();
    this.expectOp(close);
    return items.length === 1 ? items[0]! : { k: 'list', items };
  }

  private parsePrimary(): Node {
    this.enter();
    const tok = this.next();
    let node: Node;
    switch (tok.t) {
      case 'num':
        node = { k: 'num', text: tok.v };
        break;
      case 'id':
        node = { k: 'sym', name: tok.v };
        break;
      case 'text':
        node = { k: 'text', text: tok.v };
        break;
      case 'cmd':
        node = this.parseCommand(tok.v);
        break;
      case 'begin':
        node = this.parseEnvironment(tok.v);
        break;
      case 'end':
        throw new ParseError('unexpected \\end');
      case 'op':
        node = this.parseOpenOp(tok.v);
        break;
    }
    this.leave();
    return node;
  }

  private parseOpenOp(v: string): Node {
    switch (v) {
      case '(':
      case '[':
        return this.parseBracket(v);
      case '{':
        return this.groupUntil('}');
      case '\\{': {
        if (this.isOp('\\}')) {
          this.pos++;
          return { k: 'sym', name: 'emptyset' };
        }
        const items = this.parseItems();
        this.expectOp('\\}');
        return { k: 'seq', open: '{', close: '}', items };
      }
      case '⟨': {
        const items = this.parseItems();
        this.expectOp('⟩');
        return { k: 'seq', open: '⟨', close: '⟩', items };
      }
      case '|': {
        this.absDepth++;
        const inner = this.parseSum();
        this.absDepth--;
        this.expectOp('|');
        return { k: 'fn', name: 'abs', args: [inner] };
      }
      case '⌊': {
        const inner = this.parseSum();
        this.expectOp('⌋');
        return { k: 'fn', name: 'floor', args: [inner] };
      }
      case '⌈': {
        const inner = this.parseSum();
        this.expectOp('⌉');
        return { k: 'fn', name: 'ceil', args: [inner] };
      }
      case '…':
        return { k: 'ellipsis' };
      default:
        throw new ParseError(`unexpected ${v}`);
    }
  }

  /** ( … ) or [ … ] closed by ) or ]: one item is grouping, several are a tuple or an interval. */
  private parseBracket(open: string): Node {
    const items = this.parseItems();
    const close = this.next();
    if (close.t !== 'op' || (close.v !== ')' && close.v !== ']')) throw new ParseError('unclosed bracket');
    if (items.length === 1) {
      if ((open === '(') !== (close.v === ')')) throw new ParseError('mismatched bracket');
      return items[0]!;
    }
    return { k: 'seq', open, close: close.v, items };
  }

  private parseCommand(name: string): Node {
    switch (name) {
      case 'frac': {
        const num = this.readScript();
        const den = this.readScript();
        return { k: 'div', num, den };
      }
      case 'sqrt': {
        if (this.isOp('[')) {
          this.pos++;
          const index = this.parseSum();
          this.expectOp(']');
          return { k: 'fn', name: 'root', args: [this.readScript(), index] };
        }
        return { k: 'fn', name: 'sqrt', args: [this.readScript()] };
      }
      case 'binom': {
        const n = this.readScript();
        const k = this.readScript();
        return { k: 'fn', name: 'binom', args: [n, k] };
      }
      case 'pi':
      case 'infty':
      case 'emptyset':
        return { k: 'sym', name };
      case 'imag':
        return { k: 'sym', name: 'i' };
      case 'mathbb:R':
        return { k: 'sym', name: 'ℝ' };
      default:
        if (FUNCTIONS.has(name)) return this.parseFunction(name);
        return { k: 'sym', name };
    }
  }

  private parseFunction(name: string): Node {
    let power: Node | null = null;
    let base: Node | null = null;
    for (let round = 0; round < 2; round++) {
      if (this.isOp('^')) {
        this.pos++;
        power = this.readScript();
      } else if (this.isOp('_')) {
        this.pos++;
        base = this.readScript();
      }
    }
    if (power && power.k === 'neg' && power.arg.k === 'num' && power.arg.text === '1' && TRIG_INVERSE[name]) {
      name = TRIG_INVERSE[name]!;
      power = null;
    }
    let args: Node[];
    if (this.isOp('(')) {
      this.pos++;
      args = this.parseItems();
      this.expectOp(')');
    } else if (this.isOp('{')) {
      this.pos++;
      args = [this.groupUntil('}')];
    } else {
      // \sin 2x = sin(2x); \sin x \cos x = sin(x) cos(x).
      let arg = this.parseSignedPower();
      for (
        let tok = this.peek();
        this.startsImplicitFactor(tok) && !(tok?.t === 'cmd' && FUNCTIONS.has(tok.v));
        tok = this.peek()
      ) {
        if (tok?.t === 'op' && tok.v === '(') break;
        arg = { k: 'mul', factors: [arg, this.parsePower()] };
      }
      args = [arg];
    }
    if (base) args = [args[0]!, base];
    const call: Node = { k: 'fn', name, args };
    return power ? { k: 'pow', base: call, exp: power } : call;
  }

  private parseEnvironment(env: string): Node {
    const rows: Node[][] = [[]];
    for (;;) {
      this.budget.tick();
      const tok = this.peek();
      if (tok === undefined) throw new ParseError('unclosed environment');
      if (tok.t === 'end') {
        this.pos++;
        break;
      }
      if (tok.t === 'op' && tok.v === '&') {
        this.pos++;
        continue;
      }
      if (tok.t === 'op' && tok.v === '\\\\') {
        this.pos++;
        rows.push([]);
        continue;
      }
      rows[rows.length - 1]!.push(this.parseRelation());
    }
    while (rows.length > 0 && rows[rows.length - 1]!.length === 0) rows.pop();
    return { k: 'matrix', env, rows };
  }
}

const isIntegerLiteral = (n: Node): boolean => n.k === 'num' && /^\d+$/.test(n.text);

/** Parses one answer; throws ParseError/LexError on text that is not a readable expression. */
export function parseLatex(src: string, budget: Budget): Node {
  const tokens = tokenize(src, budget);
  if (tokens.length === 0) throw new ParseError('empty');
  return new Parser(tokens, budget).parseAnswer();
}

/** A compact printed form, used for subscripts and for debugging. */
export function show(n: Node): string {
  switch (n.k) {
    case 'num':
      return n.text;
    case 'sym':
      return n.name;
    case 'add':
      return `(${n.terms.map(show).join(' + ')})`;
    case 'neg':
      return `-${show(n.arg)}`;
    case 'mul':
      return `(${n.factors.map(show).join('*')})`;
    case 'div':
      return `(${show(n.num)})/(${show(n.den)})`;
    case 'pow':
      return `(${show(n.base)})^(${show(n.exp)})`;
    case 'pm':
      return `${n.sign === 1 ? '±' : '∓'}${show(n.arg)}`;
    case 'fn':
      return `${n.name}(${n.args.map(show).join(', ')})`;
    case 'pct':
      return `${show(n.arg)}%`;
    case 'based':
      return `${n.digits}_${n.base}`;
    case 'text':
      return `"${n.text}"`;
    case 'seq':
      return `${n.open}${n.items.map(show).join(', ')}${n.close}`;
    case 'matrix':
      return `[${n.rows.map((r) => r.map(show).join(' & ')).join('; ')}]`;
    case 'rel':
      return n.parts.map((p, i) => (i === 0 ? show(p) : ` ${n.ops[i - 1]} ${show(p)}`)).join('');
    case 'setop':
      return n.args.map(show).join(` ${n.op} `);
    case 'list':
      return n.items.map(show).join(', ');
    case 'ellipsis':
      return '…';
  }
}
