// Exact rational numbers on BigInt, used wherever both answers are plain numbers (integers, decimals,
// fractions, powers with integer exponents), so "0.5" vs "\frac{1}{2}" is decided exactly, not by floats.
// Every result is bounded by MAX_BITS; larger results throw TooBig and the caller falls back to floats.
import type { Budget } from './budget';

/** Largest numerator/denominator size kept exactly (1000! has about 8,530 bits). */
export const MAX_BITS = 10_000;

export class TooBig extends Error {
  constructor() {
    super('exact value too large');
    this.name = 'TooBig';
  }
}

/** A reduced fraction num/den with den > 0. */
export interface Rational {
  readonly num: bigint;
  readonly den: bigint;
}

const ZERO = 0n;
const ONE = 1n;

export function bitLength(n: bigint): number {
  if (n < ZERO) n = -n;
  if (n === ZERO) return 0;
  // toString(16) is linear in the size; values here are capped at MAX_BITS.
  const hex = n.toString(16);
  return (hex.length - 1) * 4 + Math.floor(Math.log2(parseInt(hex[0] ?? '1', 16))) + 1;
}

function guardSize(n: bigint): void {
  if (bitLength(n) > MAX_BITS) throw new TooBig();
}

/** Euclid's algorithm; each iteration is one budget step. */
export function gcd(a: bigint, b: bigint, budget?: Budget): bigint {
  if (a < ZERO) a = -a;
  if (b < ZERO) b = -b;
  while (b !== ZERO) {
    budget?.tick();
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

export function rat(num: bigint, den: bigint = ONE, budget?: Budget): Rational {
  if (den === ZERO) throw new RangeError('division by zero');
  if (den < ZERO) {
    num = -num;
    den = -den;
  }
  guardSize(num);
  guardSize(den);
  const g = gcd(num, den, budget);
  return g === ONE || g === ZERO ? { num, den } : { num: num / g, den: den / g };
}

export function fromInt(n: number | bigint): Rational {
  return { num: BigInt(n), den: ONE };
}

/**
 * Parses an unsigned decimal literal "123", "1.25", ".5", "3." (digits only, at most one point)
 * exactly: "1.25" = 125/100 = 5/4.
 */
export function fromDecimal(text: string, budget?: Budget): Rational | null {
  const dot = text.indexOf('.');
  const intPart = dot < 0 ? text : text.slice(0, dot);
  const fracPart = dot < 0 ? '' : text.slice(dot + 1);
  if (intPart.length + fracPart.length === 0) return null;
  if (intPart.length + fracPart.length > MAX_BITS / 3) throw new TooBig();
  for (const ch of intPart + fracPart) if (ch < '0' || ch > '9') return null;
  const digits = BigInt((intPart || '0') + fracPart);
  return rat(digits, 10n ** BigInt(fracPart.length), budget);
}

export const add = (a: Rational, b: Rational, budget?: Budget): Rational =>
  rat(a.num * b.den + b.num * a.den, a.den * b.den, budget);
export const sub = (a: Rational, b: Rational, budget?: Budget): Rational =>
  rat(a.num * b.den - b.num * a.den, a.den * b.den, budget);
export const mul = (a: Rational, b: Rational, budget?: Budget): Rational =>
  rat(a.num * b.num, a.den * b.den, budget);
export const neg = (a: Rational): Rational => ({ num: -a.num, den: a.den });
export const isZero = (a: Rational): boolean => a.num === ZERO;
export const isInteger = (a: Rational): boolean => a.den === ONE;
export const equals = (a: Rational, b: Rational): boolean => a.num === b.num && a.den === b.den;

export function div(a: Rational, b: Rational, budget?: Budget): Rational {
  if (b.num === ZERO) throw new RangeError('division by zero');
  return rat(a.num * b.den, a.den * b.num, budget);
}

/** a^k for an integer k; refuses results beyond MAX_BITS before computing them. */
export function powInt(a: Rational, k: bigint, budget?: Budget): Rational {
  if (k === ZERO) return fromInt(1);
  if (k < ZERO) {
    if (a.num === ZERO) throw new RangeError('division by zero');
    // a^(-k) = (1/a)^k; the reciprocal keeps the sign on the numerator.
    const reciprocal: Rational = { num: a.num < ZERO ? -a.den : a.den, den: a.num < ZERO ? -a.num : a.num };
    return powInt(reciprocal, -k, budget);
  }
  const absNum = a.num < ZERO ? -a.num : a.num;
  if (absNum <= ONE && a.den === ONE) {
    // 0^k, 1^k and (-1)^k never grow.
    if (a.num === -ONE) return fromInt(k % 2n === ZERO ? 1 : -1);
    return a;
  }
  const bits = Math.max(bitLength(a.num), bitLength(a.den));
  if (k > BigInt(MAX_BITS) || bits * Number(k) > MAX_BITS + bits) throw new TooBig();
  budget?.tick(Number(k) >>> 4);
  return rat(a.num ** k, a.den ** k, budget);
}

/** Integer k-th root of a non-negative bigint when exact, else null (Newton's method on bigints). */
export function exactIntRoot(n: bigint, k: number, budget?: Budget): bigint | null {
  if (n < ZERO) return null;
  if (n < 2n) return n;
  const bits = bitLength(n);
  // Start above the root: 2^(ceil(bits/k)).
  let x = ONE << BigInt(Math.ceil(bits / k));
  const kb = BigInt(k);
  for (;;) {
    budget?.tick();
    const y = ((kb - ONE) * x + n / x ** (kb - ONE)) / kb;
    if (y >= x) break;
    x = y;
  }
  return x ** kb === n ? x : null;
}

/** Exact k-th root of a rational when numerator and denominator are perfect k-th powers. */
export function exactRoot(a: Rational, k: number, budget?: Budget): Rational | null {
  if (k < 1 || k > 64) return null;
  if (a.num < ZERO) {
    if (k % 2 === 0) return null;
    const r = exactRoot(neg(a), k, budget);
    return r ? neg(r) : null;
  }
  const n = exactIntRoot(a.num, k, budget);
  const d = n === null ? null : exactIntRoot(a.den, k, budget);
  return n === null || d === null ? null : { num: n, den: d };
}

/** Nearest double; scales very long numerators/denominators first so the quotient does not overflow. */
export function toNumber(a: Rational): number {
  const nb = bitLength(a.num);
  const db = bitLength(a.den);
  if (nb < 1000 && db < 1000) return Number(a.num) / Number(a.den);
  const sa = Math.max(0, nb - 64);
  const sb = Math.max(0, db - 64);
  return (Number(a.num >> BigInt(sa)) / Number(a.den >> BigInt(sb))) * 2 ** (sa - sb);
}

/** True when the decimal expansion of a terminates (denominator has no prime factor but 2 and 5). */
export function isTerminating(a: Rational): boolean {
  let d = a.den;
  while (d % 2n === ZERO) d /= 2n;
  while (d % 5n === ZERO) d /= 5n;
  return d === ONE;
}

/** round(a * 10^places) as a bigint, halves away from zero. */
export function roundScaled(a: Rational, places: number): bigint {
  const scaled = a.num * 10n ** BigInt(places);
  const q = scaled / a.den;
  const r = scaled % a.den;
  const twice = 2n * (r < ZERO ? -r : r);
  if (twice >= a.den) return scaled < ZERO ? q - ONE : q + ONE;
  return q;
}

export function toString(a: Rational): string {
  return a.den === ONE ? a.num.toString() : `${a.num}/${a.den}`;
}
