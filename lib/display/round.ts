/**
 * Rounding for displayed data: figures and tables carry numbers rounded to a few significant
 * digits, so committed outputs are small and identical across runs that differ only in the
 * last float bits.
 */

/** Round x to `digits` significant digits (integers, NaN and ±Infinity are returned as is). */
export function roundSig(x: number, digits = 5): number {
  if (!Number.isFinite(x) || Number.isInteger(x) || x === 0) return x;
  return Number(x.toPrecision(digits));
}

/** Deep copy of a JSON-like value with every number rounded and typed arrays made plain arrays. */
export function roundDeep(value: unknown, digits = 5): unknown {
  if (typeof value === 'number') return roundSig(value, digits);
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return Array.from(value as unknown as ArrayLike<number>, (v) => roundSig(Number(v), digits));
  }
  if (Array.isArray(value)) return value.map((v) => roundDeep(v, digits));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = roundDeep(v, digits);
    return out;
  }
  return value;
}

/** Format a number for printed, compared output: fixed decimals, no '-0'. */
export function fmt(x: number, decimals = 3): string {
  const s = x.toFixed(decimals);
  return /^-0\.?0*$/.test(s) ? s.slice(1) : s;
}
