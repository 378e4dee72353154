// Complex double arithmetic for the numeric equivalence test: answers may contain i, and square roots of
// negative values must not turn into NaN before both sides are compared. Principal branches throughout.

export interface Complex {
  readonly re: number;
  readonly im: number;
}

export const complex = (re: number, im = 0): Complex => ({ re, im });
export const I: Complex = { re: 0, im: 1 };

export const cadd = (a: Complex, b: Complex): Complex => ({ re: a.re + b.re, im: a.im + b.im });
export const csub = (a: Complex, b: Complex): Complex => ({ re: a.re - b.re, im: a.im - b.im });
export const cneg = (a: Complex): Complex => ({ re: -a.re, im: -a.im });
export const cmul = (a: Complex, b: Complex): Complex =>
  b.im === 0 && a.im === 0
    ? { re: a.re * b.re, im: 0 }
    : { re: a.re * b.re - a.im * b.im, im: a.re * b.im + a.im * b.re };

export function cdiv(a: Complex, b: Complex): Complex {
  if (a.im === 0 && b.im === 0) return { re: a.re / b.re, im: 0 };
  // Smith's algorithm avoids overflow in |b|^2.
  if (Math.abs(b.re) >= Math.abs(b.im)) {
    const r = b.im / b.re;
    const d = b.re + b.im * r;
    return { re: (a.re + a.im * r) / d, im: (a.im - a.re * r) / d };
  }
  const r = b.re / b.im;
  const d = b.re * r + b.im;
  return { re: (a.re * r + a.im) / d, im: (a.im * r - a.re) / d };
}

export const cabs = (a: Complex): number => Math.hypot(a.re, a.im);
export const isReal = (a: Complex): boolean => a.im === 0;
export const isFiniteComplex = (a: Complex): boolean => Number.isFinite(a.re) && Number.isFinite(a.im);

export function cexp(a: Complex): Complex {
  const m = Math.exp(a.re);
  return a.im === 0 ? { re: m, im: 0 } : { re: m * Math.cos(a.im), im: m * Math.sin(a.im) };
}

export function clog(a: Complex): Complex {
  if (a.im === 0 && a.re > 0) return { re: Math.log(a.re), im: 0 };
  return { re: Math.log(cabs(a)), im: Math.atan2(a.im, a.re) };
}

export function csqrt(a: Complex): Complex {
  if (a.im === 0) return a.re >= 0 ? { re: Math.sqrt(a.re), im: 0 } : { re: 0, im: Math.sqrt(-a.re) };
  const m = cabs(a);
  const re = Math.sqrt((m + a.re) / 2);
  const im = Math.sign(a.im) * Math.sqrt((m - a.re) / 2);
  return { re, im };
}

/** a^b, principal value; real bases with real exponents stay real where the real power exists. */
export function cpow(a: Complex, b: Complex): Complex {
  if (a.im === 0 && b.im === 0 && (a.re >= 0 || Number.isInteger(b.re))) {
    return { re: Math.pow(a.re, b.re), im: 0 };
  }
  if (b.im === 0 && Number.isInteger(b.re) && Math.abs(b.re) <= 64) {
    // Repeated squaring keeps integer powers of complex numbers exact-ish (i^2 = -1 exactly).
    let n = Math.abs(b.re);
    let result: Complex = { re: 1, im: 0 };
    let base = a;
    while (n > 0) {
      if (n & 1) result = cmul(result, base);
      base = cmul(base, base);
      n >>= 1;
    }
    return b.re < 0 ? cdiv({ re: 1, im: 0 }, result) : result;
  }
  if (a.re === 0 && a.im === 0) return { re: 0, im: 0 };
  return cexp(cmul(b, clog(a)));
}

export function csin(a: Complex): Complex {
  if (a.im === 0) return { re: Math.sin(a.re), im: 0 };
  return { re: Math.sin(a.re) * Math.cosh(a.im), im: Math.cos(a.re) * Math.sinh(a.im) };
}

export function ccos(a: Complex): Complex {
  if (a.im === 0) return { re: Math.cos(a.re), im: 0 };
  return { re: Math.cos(a.re) * Math.cosh(a.im), im: -Math.sin(a.re) * Math.sinh(a.im) };
}

export const ctan = (a: Complex): Complex => cdiv(csin(a), ccos(a));

export function csinh(a: Complex): Complex {
  // sinh z = -i sin(iz)
  return cmul({ re: 0, im: -1 }, csin(cmul(I, a)));
}

export function ccosh(a: Complex): Complex {
  // cosh z = cos(iz)
  return ccos(cmul(I, a));
}

export const ctanh = (a: Complex): Complex => cdiv(csinh(a), ccosh(a));

export function casin(a: Complex): Complex {
  if (a.im === 0 && Math.abs(a.re) <= 1) return { re: Math.asin(a.re), im: 0 };
  // asin z = -i log(iz + sqrt(1 - z^2))
  const root = csqrt(csub({ re: 1, im: 0 }, cmul(a, a)));
  return cmul({ re: 0, im: -1 }, clog(cadd(cmul(I, a), root)));
}

export function cacos(a: Complex): Complex {
  if (a.im === 0 && Math.abs(a.re) <= 1) return { re: Math.acos(a.re), im: 0 };
  return csub({ re: Math.PI / 2, im: 0 }, casin(a));
}

export function catan(a: Complex): Complex {
  if (a.im === 0) return { re: Math.atan(a.re), im: 0 };
  // atan z = (i/2) log((i + z) / (i - z))
  const ratio = cdiv(cadd(I, a), csub(I, a));
  return cmul({ re: 0, im: 0.5 }, clog(ratio));
}
