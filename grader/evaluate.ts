// Values of scalar expressions: exactly as rationals when only rational arithmetic is involved, else as
// complex doubles with variables bound to seeded random values. Unsupported pieces evaluate to NaN (not
// comparable), never throw; division by zero has no exact value and is ±Infinity/NaN numerically.
import type { Budget } from './budget';
import type { Node } from './ast';
import * as Q from './rational';
import type { Rational } from './rational';
import {
  cabs,
  cacos,
  cadd,
  casin,
  catan,
  ccos,
  ccosh,
  cdiv,
  cexp,
  clog,
  cmul,
  cneg,
  cpow,
  csin,
  csinh,
  csqrt,
  ctan,
  ctanh,
  type Complex,
} from './complex';

const NAN: Complex = { re: NaN, im: 0 };
const ONE: Complex = { re: 1, im: 0 };

/** Exact value of a numeric literal text ("12", "1.25", ".5", "1.5e-3"). */
export function literalValue(text: string, budget?: Budget): Rational | null {
  let mantissa = text;
  let exponent = 0;
  const e = Math.max(text.indexOf('e'), text.indexOf('E'));
  if (e >= 0) {
    mantissa = text.slice(0, e);
    exponent = Number(text.slice(e + 1));
    if (!Number.isInteger(exponent) || Math.abs(exponent) > 4000) return null;
  }
  const base = Q.fromDecimal(mantissa, budget);
  if (base === null || exponent === 0) return base;
  const scale = Q.powInt(Q.fromInt(10), BigInt(exponent), budget);
  return Q.mul(base, scale, budget);
}

/** True when the node is a number written with a decimal point or exponent (possibly signed). */
export function isDecimalLiteral(n: Node): boolean {
  if (n.k === 'neg') return isDecimalLiteral(n.arg);
  return n.k === 'num' && (n.text.includes('.') || n.text.includes('e') || n.text.includes('E'));
}

/** Exact rational value, or null when the expression is not a rational constant (or is too large). */
export function exactValue(n: Node, budget: Budget): Rational | null {
  try {
    return exact(n, budget, 0);
  } catch (err) {
    if (err instanceof Q.TooBig || err instanceof RangeError) return null;
    throw err;
  }
}

function exact(n: Node, budget: Budget, depth: number): Rational | null {
  budget.tick();
  budget.checkDepth(depth);
  const d = depth + 1;
  switch (n.k) {
    case 'num':
      return literalValue(n.text, budget);
    case 'neg': {
      const a = exact(n.arg, budget, d);
      return a && Q.neg(a);
    }
    case 'add': {
      let sum = Q.fromInt(0);
      for (const t of n.terms) {
        const v = exact(t, budget, d);
        if (v === null) return null;
        sum = Q.add(sum, v, budget);
      }
      return sum;
    }
    case 'mul': {
      let product = Q.fromInt(1);
      for (const f of n.factors) {
        const v = exact(f, budget, d);
        if (v === null) return null;
        product = Q.mul(product, v, budget);
      }
      return product;
    }
    case 'div': {
      const a = exact(n.num, budget, d);
      const b = a && exact(n.den, budget, d);
      return a && b && Q.div(a, b, budget);
    }
    case 'pct': {
      const a = exact(n.arg, budget, d);
      return a && Q.div(a, Q.fromInt(100), budget);
    }
    case 'pow':
      return exactPow(n.base, n.exp, budget, d);
    case 'fn':
      return exactFunction(n.name, n.args, budget, d);
    default:
      return null;
  }
}

function exactPow(baseNode: Node, expNode: Node, budget: Budget, depth: number): Rational | null {
  const exponent = exact(expNode, budget, depth);
  if (exponent === null) return null;
  const base = exact(baseNode, budget, depth);
  if (base === null) return null;
  if (Q.isInteger(exponent)) return Q.powInt(base, exponent.num, budget);
  // b^(p/q) is exact when b is a perfect q-th power.
  if (exponent.den > 64n) return null;
  const root = Q.exactRoot(base, Number(exponent.den), budget);
  return root && Q.powInt(root, exponent.num, budget);
}

const MAX_EXACT_FACTORIAL = 1000n;

function exactFunction(name: string, args: Node[], budget: Budget, depth: number): Rational | null {
  const values: Rational[] = [];
  for (const a of args) {
    const v = exact(a, budget, depth);
    if (v === null) return null;
    values.push(v);
  }
  const [x, y] = values;
  if (x === undefined) return null;
  switch (name) {
    case 'sqrt':
      return Q.exactRoot(x, 2, budget);
    case 'root': {
      if (y === undefined || !Q.isInteger(y) || y.num < 1n || y.num > 64n) return null;
      return Q.exactRoot(x, Number(y.num), budget);
    }
    case 'abs':
      return x.num < 0n ? Q.neg(x) : x;
    case 'floor':
    case 'ceil': {
      const q = x.num / x.den;
      const floor = x.num < 0n && x.num % x.den !== 0n ? q - 1n : q;
      const exactInt = x.num % x.den === 0n;
      return Q.fromInt(name === 'floor' || exactInt ? floor : floor + 1n);
    }
    case 'fact': {
      if (!Q.isInteger(x) || x.num < 0n || x.num > MAX_EXACT_FACTORIAL) return null;
      let p = 1n;
      for (let k = 2n; k <= x.num; k++) {
        budget.tick();
        p *= k;
      }
      return Q.rat(p, 1n);
    }
    case 'binom': {
      if (y === undefined || !Q.isInteger(x) || !Q.isInteger(y) || x.num < 0n || x.num > 100000n) return null;
      const n = x.num;
      let k = y.num;
      if (k < 0n || k > n) return Q.fromInt(0);
      if (k > n - k) k = n - k;
      let c = 1n;
      for (let j = 1n; j <= k; j++) {
        budget.tick();
        c = (c * (n - k + j)) / j;
        if ((j & 63n) === 0n && Q.bitLength(c) > Q.MAX_BITS) throw new Q.TooBig();
      }
      return Q.rat(c, 1n);
    }
    case 'gcd':
    case 'lcm': {
      if (!values.every(Q.isInteger)) return null;
      let acc = values[0]!.num;
      for (const v of values.slice(1)) {
        const g = Q.gcd(acc, v.num, budget);
        acc = name === 'gcd' ? g : g === 0n ? 0n : (acc * v.num) / g;
        if (Q.bitLength(acc) > Q.MAX_BITS) throw new Q.TooBig();
      }
      return Q.rat(acc < 0n ? -acc : acc, 1n);
    }
    case 'max':
    case 'min': {
      let best = values[0]!;
      for (const v of values.slice(1)) {
        const diff = Q.sub(v, best, budget).num;
        if ((name === 'max' && diff > 0n) || (name === 'min' && diff < 0n)) best = v;
      }
      return best;
    }
    default:
      return null;
  }
}

export type Environment = ReadonlyMap<string, Complex>;

/** Complex double value with variables taken from `env`; NaN for anything that is not a scalar. */
export function numericValue(n: Node, env: Environment, budget: Budget): Complex {
  return numeric(n, env, budget, 0);
}

function numeric(n: Node, env: Environment, budget: Budget, depth: number): Complex {
  budget.tick();
  budget.checkDepth(depth);
  const d = depth + 1;
  switch (n.k) {
    case 'num': {
      const v = Number(n.text.startsWith('.') ? '0' + n.text : n.text);
      return { re: v, im: 0 };
    }
    case 'sym':
      return symbolValue(n.name, env);
    case 'neg':
      return cneg(numeric(n.arg, env, budget, d));
    case 'add':
      return n.terms.reduce<Complex>((acc, t) => cadd(acc, numeric(t, env, budget, d)), { re: 0, im: 0 });
    case 'mul':
      return n.factors.reduce<Complex>((acc, f) => cmul(acc, numeric(f, env, budget, d)), ONE);
    case 'div':
      return cdiv(numeric(n.num, env, budget, d), numeric(n.den, env, budget, d));
    case 'pow':
      return cpow(numeric(n.base, env, budget, d), numeric(n.exp, env, budget, d));
    case 'pct':
      return cdiv(numeric(n.arg, env, budget, d), { re: 100, im: 0 });
    case 'pm': {
      const v = numeric(n.arg, env, budget, d);
      return n.sign === 1 ? v : cneg(v);
    }
    case 'based': {
      const v = basedValue(n.digits, n.base);
      return v === null ? NAN : { re: v, im: 0 };
    }
    case 'fn':
      return numericFunction(
        n.name,
        n.args.map((a) => numeric(a, env, budget, d)),
        budget,
      );
    default:
      return NAN;
  }
}

function symbolValue(name: string, env: Environment): Complex {
  switch (name) {
    case 'pi':
      return { re: Math.PI, im: 0 };
    case 'e':
      return { re: Math.E, im: 0 };
    case 'i':
      return { re: 0, im: 1 };
    case 'infty':
      return { re: Infinity, im: 0 };
    default:
      return env.get(name) ?? NAN;
  }
}

/** Value of digits written in base b (2 ≤ b ≤ 36), or null when a digit is not valid in that base. */
export function basedValue(digits: string, baseText: string): number | null {
  const base = Number(baseText);
  if (!Number.isInteger(base) || base < 2 || base > 36) return null;
  let v = 0;
  for (const ch of digits) {
    const digit = parseInt(ch, 36);
    if (!(digit < base)) return null;
    v = v * base + digit;
  }
  return v;
}

const isRealInteger = (z: Complex): boolean => z.im === 0 && Number.isInteger(z.re);

function numericFunction(name: string, args: Complex[], budget: Budget): Complex {
  const [x, y] = args;
  if (x === undefined) return NAN;
  switch (name) {
    case 'sqrt':
      return csqrt(x);
    case 'root': {
      if (y === undefined || !isRealInteger(y) || y.re < 1) return NAN;
      if (x.im === 0 && x.re < 0 && y.re % 2 === 1) return { re: -Math.pow(-x.re, 1 / y.re), im: 0 };
      return cpow(x, { re: 1 / y.re, im: 0 });
    }
    case 'sin':
      return csin(x);
    case 'cos':
      return ccos(x);
    case 'tan':
      return ctan(x);
    case 'cot':
      return cdiv(ccos(x), csin(x));
    case 'sec':
      return cdiv(ONE, ccos(x));
    case 'csc':
      return cdiv(ONE, csin(x));
    case 'arcsin':
      return casin(x);
    case 'arccos':
      return cacos(x);
    case 'arctan':
      return catan(x);
    case 'arccot':
      return catan(cdiv(ONE, x));
    case 'sinh':
      return csinh(x);
    case 'cosh':
      return ccosh(x);
    case 'tanh':
      return ctanh(x);
    case 'ln':
      return clog(x);
    case 'log':
      return y === undefined ? clog(x) : cdiv(clog(x), clog(y));
    case 'exp':
      return cexp(x);
    case 'abs':
      return { re: cabs(x), im: 0 };
    case 'sgn':
      return x.im === 0 ? { re: Math.sign(x.re), im: 0 } : NAN;
    case 'floor':
      return x.im === 0 ? { re: Math.floor(x.re), im: 0 } : NAN;
    case 'ceil':
      return x.im === 0 ? { re: Math.ceil(x.re), im: 0 } : NAN;
    case 'fact': {
      if (x.im !== 0) return NAN;
      if (isRealInteger(x)) {
        if (x.re < 0) return NAN;
        if (x.re > 170) return { re: Infinity, im: 0 };
        let p = 1;
        for (let k = 2; k <= x.re; k++) p *= k;
        return { re: p, im: 0 };
      }
      // x! = Γ(x + 1) for the non-integer values that random evaluation points give (2n)!.
      return { re: gamma(x.re + 1), im: 0 };
    }
    case 'binom': {
      if (y === undefined || x.im !== 0 || y.im !== 0) return NAN;
      if (!isRealInteger(x) || !isRealInteger(y)) {
        // C(x, y) = Γ(x+1) / (Γ(y+1) Γ(x−y+1))
        return { re: gamma(x.re + 1) / (gamma(y.re + 1) * gamma(x.re - y.re + 1)), im: 0 };
      }
      let k = y.re;
      const n = x.re;
      if (k < 0 || k > n) return { re: 0, im: 0 };
      if (k > n - k) k = n - k;
      if (k > 10000) return { re: Infinity, im: 0 };
      let c = 1;
      for (let j = 1; j <= k; j++) {
        budget.tick();
        c = (c * (n - k + j)) / j;
      }
      return { re: Math.round(c), im: 0 };
    }
    case 'gcd':
    case 'lcm': {
      if (!args.every(isRealInteger)) return NAN;
      let acc = Math.abs(args[0]!.re);
      for (const v of args.slice(1)) {
        let a = acc;
        let b = Math.abs(v.re);
        while (b !== 0) [a, b] = [b, a % b];
        acc = name === 'gcd' ? a : a === 0 ? 0 : (acc / a) * Math.abs(v.re);
      }
      return { re: acc, im: 0 };
    }
    case 'max':
    case 'min':
      if (!args.every((a) => a.im === 0)) return NAN;
      return { re: (name === 'max' ? Math.max : Math.min)(...args.map((a) => a.re)), im: 0 };
    default:
      return NAN;
  }
}

/** Lanczos coefficients for g = 7, n = 9 (Numerical Recipes / Godfrey); relative error about 1e-15. */
const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** The gamma function on the reals: Γ(n) = (n−1)!; reflection Γ(x)Γ(1−x) = π / sin(πx) below 1/2. */
export function gamma(x: number): number {
  if (Number.isInteger(x) && x <= 0) return NaN;
  if (x < 0.5) return Math.PI / (Math.sin(Math.PI * x) * gamma(1 - x));
  if (x > 171.7) return Infinity;
  const z = x - 1;
  let sum = LANCZOS[0]!;
  for (let k = 1; k < LANCZOS.length; k++) sum += LANCZOS[k]! / (z + k);
  const t = z + LANCZOS_G + 0.5;
  // t^(z+½)·e^(−t) in log space so Γ(171) does not overflow on the way.
  return Math.sqrt(2 * Math.PI) * Math.exp((z + 0.5) * Math.log(t) - t) * sum;
}
