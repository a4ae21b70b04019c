/**
 * Argument checks shared by the quantizers. Every check runs before any tensor work and
 * throws a plain `Error` whose message names the argument and what was expected.
 */
import * as tf from '@tensorflow/tfjs';

/** Levenshtein distance, for "did you mean" hints on misspelled option names. */
function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length];
}

/** Throw on option names outside `known` (typos such as `commitmentWieght` must not pass silently). */
export function checkOptionNames(owner: string, opts: unknown, known: readonly string[]): void {
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new Error(`${owner}: options must be an object, got ${describe(opts)}`);
  }
  for (const key of Object.keys(opts)) {
    if (known.includes(key)) continue;
    const lower = key.toLowerCase();
    const best = known
      .map((k) => {
        const kl = k.toLowerCase();
        const prefix = lower.length >= 3 && (kl.startsWith(lower) || lower.startsWith(kl));
        return { k, d: prefix ? 1 : editDistance(lower, kl) };
      })
      .sort((x, y) => x.d - y.d)[0];
    const hint = best && best.d <= Math.max(2, Math.floor(key.length / 3)) ? ` (did you mean '${best.k}'?)` : '';
    throw new Error(`${owner}: unknown option '${key}'${hint}; known options: ${known.join(', ')}`);
  }
}

export function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof tf.Tensor) return `a ${v.dtype} tensor of shape [${v.shape.join(', ')}]`;
  if (Array.isArray(v)) return `[${v.map(describe).join(', ')}]`;
  return String(v);
}

/** An integer ≥ min. */
export function checkInt(name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new Error(`${name} must be an integer >= ${min}, got ${describe(v)}`);
  }
  return v;
}

/** A finite number in [min, max] (or [min, max) when maxExclusive). */
export function checkNumber(name: string, v: unknown, min: number, max = Infinity, maxExclusive = false): number {
  const ok = typeof v === 'number' && Number.isFinite(v) && v >= min && (maxExclusive ? v < max : v <= max);
  if (!ok) {
    const range = max === Infinity ? `>= ${min}` : `in [${min}, ${max}${maxExclusive ? ')' : ']'}`;
    throw new Error(`${name} must be a finite number ${range}, got ${describe(v)}`);
  }
  return v as number;
}

export function checkOneOf<T extends string>(name: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new Error(`${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describe(v)}`);
  }
  return v as T;
}

/** A float32 tensor of rank ≥ 1, with at least one vector, whose last axis is `dim`. */
export function checkVectors(name: string, z: unknown, dim: number): tf.Tensor {
  if (!(z instanceof tf.Tensor)) {
    throw new Error(`${name} must be a tf.Tensor of shape [..., ${dim}], got ${describe(z)}`);
  }
  if (z.dtype !== 'float32') throw new Error(`${name} must be a float32 tensor, got dtype ${z.dtype}`);
  if (z.rank < 1 || z.shape[z.rank - 1] !== dim) {
    throw new Error(`${name} must have shape [..., ${dim}] (last axis = dim = ${dim}), got shape [${z.shape.join(', ')}]`);
  }
  if (z.size === 0) throw new Error(`${name} must hold at least one vector, got shape [${z.shape.join(', ')}]`);
  return z;
}

/** Throw when z holds NaN or ±Infinity. Costs one elementwise op, one reduction and one read. */
export function checkFinite(name: string, z: tf.Tensor): void {
  const ok = tf.tidy(() => tf.all(tf.isFinite(z)).dataSync()[0]);
  if (!ok) throw new Error(`${name} must be finite, but it holds NaN or Infinity`);
}

/**
 * Integer code indices in [0, size): a tensor (int32, or float32 holding integers) or a
 * (nested) number array. Reads the values to check them. Returns an int32 tensor the caller owns.
 */
export function checkIndices(name: string, indices: unknown, size: number): tf.Tensor {
  let t: tf.Tensor;
  if (indices instanceof tf.Tensor) {
    if (indices.dtype !== 'int32' && indices.dtype !== 'float32') {
      throw new Error(`${name} must be an int32 tensor (or integer numbers), got dtype ${indices.dtype}`);
    }
    t = indices;
  } else if (typeof indices === 'number' || Array.isArray(indices)) {
    t = tf.tensor(indices as number[]);
  } else {
    throw new Error(`${name} must be a tf.Tensor or an array of integers, got ${describe(indices)}`);
  }
  const values = t.dataSync();
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isInteger(v) || v < 0 || v >= size) {
      if (t !== indices) t.dispose();
      throw new Error(`${name} must hold integers in [0, ${size - 1}], found ${v} at flat position ${i}`);
    }
  }
  if (t === indices) return t.dtype === 'int32' ? t.clone() : t.cast('int32');
  const out = t.cast('int32');
  t.dispose();
  return out;
}
