/**
 * Argument checks for every public entry point of the library, in one wording. Each check
 * runs before any tensor work and throws a plain `Error` whose message names the argument and
 * what was expected: "<owner>: <argument> must be <what>, got <value>".
 *
 * Options are declared once per class as an {@link OptionSpec} table (name → check, default,
 * doc comment); the options type, the resolved type, the allowed names and the checks all
 * come from that one declaration (see {@link OptionsOf}, {@link ResolvedOf}, {@link resolveOptions}).
 */
import * as tf from '@tensorflow/tfjs';

// ---------------------------------------------------------------------------------------------
// Limits

/**
 * Most codes a codebook (VectorQuantizer's K, FSQ's ∏ L_i, the PixelCNN's K) may have: 2^24.
 * The per-code statistics alone take 16 bytes per code, and a forward pass holds [N, K] tensors.
 */
export const MAX_CODEBOOK_SIZE = 2 ** 24;

/** Most values one parameter tensor may hold: 2^28 float32 (1 GiB; the wasm heap is 4 GiB in all). */
export const MAX_TENSOR_VALUES = 2 ** 28;

// ---------------------------------------------------------------------------------------------
// Values

/** A short description of any value for error messages. */
export function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof tf.Tensor) return `a ${v.dtype} tensor of shape [${v.shape.join(', ')}]`;
  if (Array.isArray(v)) return v.length > 8 ? `an array of length ${v.length}` : `[${v.map(describe).join(', ')}]`;
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name} of length ${(v as unknown as ArrayLike<number>).length}`;
  if (typeof v === 'function') return 'a function';
  if (v !== null && typeof v === 'object') return 'an object';
  return String(v);
}

/** An integer in [min, max]. */
export function checkInt(name: string, v: unknown, min = 1, max = Infinity): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    const range = max === Infinity ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new Error(`${name} must be an integer ${range}, got ${describe(v)}`);
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

/** A finite number > 0. */
export function checkPositive(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !(v > 0)) {
    throw new Error(`${name} must be a finite number > 0, got ${describe(v)}`);
  }
  return v;
}

export function checkBoolean(name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new Error(`${name} must be a boolean, got ${describe(v)}`);
  return v;
}

export function checkOneOf<T extends string>(name: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new Error(`${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describe(v)}`);
  }
  return v as T;
}

export function checkFunction<F extends (...args: never[]) => unknown>(name: string, v: unknown): F {
  if (typeof v !== 'function') throw new Error(`${name} must be a function, got ${describe(v)}`);
  return v as F;
}

/** A non-empty string. */
export function checkString(name: string, v: unknown): string {
  if (typeof v !== 'string' || v === '') throw new Error(`${name} must be a non-empty string, got ${describe(v)}`);
  return v;
}

/**
 * A sample of numbers: an array (or typed array) of at least `minLength` numbers, none NaN
 * (±Infinity is allowed). Names the first bad entry.
 */
export function checkNumberArray(name: string, v: unknown, minLength = 1): ArrayLike<number> {
  const arrayLike = Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView));
  if (!arrayLike) throw new Error(`${name} must be an array of numbers, got ${describe(v)}`);
  const xs = v as ArrayLike<unknown>;
  if (xs.length < minLength) {
    const what = minLength === 1 ? 'a non-empty array of numbers' : `an array of at least ${minLength} numbers`;
    throw new Error(`${name} must be ${what}, got ${xs.length === 0 ? 'an empty array' : describe(v)}`);
  }
  for (let i = 0; i < xs.length; i++) {
    if (typeof xs[i] !== 'number' || Number.isNaN(xs[i])) throw new Error(`${name} must hold numbers (not NaN), but [${i}] is ${describe(xs[i])}`);
  }
  return xs as ArrayLike<number>;
}

// ---------------------------------------------------------------------------------------------
// Option tables

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
    throw new Error(`${owner}: unknown option '${key}'${hint}; known options: ${known.join(', ') || 'none'}`);
  }
}

/**
 * One option: `check(value, name)` validates a given value (never undefined) and returns it
 * resolved; `default` is used when the option is left out. An option with neither `default`
 * nor `optional: true` is required.
 */
export interface OptionSpec<In = unknown, Out = In> {
  readonly check: (v: In, name: string) => Out;
  readonly default?: Out;
  readonly optional?: true;
}

export type Spec = Record<string, OptionSpec<never, unknown>>;

type InOf<O> = O extends { check: (v: infer I, name: string) => unknown } ? I : never;
type OutOf<O> = O extends { check: (v: never, name: string) => infer R } ? R : never;
type Required_<O> = O extends { default: unknown } ? false : O extends { optional: true } ? false : true;

/** What callers pass: every option of the table, the required ones required. */
export type OptionsOf<S> = { [K in keyof S]?: InOf<S[K]> } & {
  [K in keyof S as Required_<S[K]> extends true ? K : never]-?: InOf<S[K]>;
};

/** What the class keeps: every option resolved (defaults filled in; undefined for optional ones left out). */
export type ResolvedOf<S> = {
  readonly [K in keyof S]: S[K] extends { optional: true } ? OutOf<S[K]> | undefined : OutOf<S[K]>;
};

/**
 * Check `opts` against the table `spec` (names, then each value) and fill in the defaults.
 * Errors read "<owner>: <name> must be …"; `sep` '.' names nested options ("VectorQuantizer: ema.decay").
 */
export function resolveOptions<S extends Spec>(owner: string, spec: S, opts: unknown, sep = ': '): ResolvedOf<S> {
  checkOptionNames(owner, opts, Object.keys(spec));
  const given = opts as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(spec)) {
    const v = given[key];
    if (v === undefined) {
      if (!('default' in s) && !s.optional) throw new Error(`${owner}${sep}${key} is required`);
      out[key] = s.default;
    } else {
      out[key] = (s.check as (v: unknown, name: string) => unknown)(v, `${owner}${sep}${key}`);
    }
  }
  return out as ResolvedOf<S>;
}

/** The defaults of a table, as a plain object (for docs and notebooks). */
export function defaultsOf<S extends Spec>(spec: S): Partial<ResolvedOf<S>> {
  const out: Record<string, unknown> = {};
  for (const [k, s] of Object.entries(spec)) if ('default' in s) out[k] = s.default;
  return out as Partial<ResolvedOf<S>>;
}

/** Ready-made checks for option tables. */
export const is = {
  int: (min: number, max = Infinity) => (v: number, name: string): number => checkInt(name, v, min, max),
  number: (min: number, max = Infinity, maxExclusive = false) => (v: number, name: string): number => checkNumber(name, v, min, max, maxExclusive),
  positive: (v: number, name: string): number => checkPositive(name, v),
  boolean: (v: boolean, name: string): boolean => checkBoolean(name, v),
  oneOf: <T extends string>(...allowed: T[]) => (v: T, name: string): T => checkOneOf(name, v, allowed),
  /** Any safe integer (random seeds). */
  seed: (v: number, name: string): number => checkInt(name, v, -(2 ** 53)),
  string: (v: string, name: string): string => checkString(name, v),
  function: <F extends (...args: never[]) => unknown>(v: F, name: string): F => checkFunction<F>(name, v),
  /** A non-empty array of integers in [min, max]. */
  intArray: (min: number, max = Infinity) => (v: number[], name: string): number[] => {
    if (!Array.isArray(v) || v.length === 0) throw new Error(`${name} must be a non-empty array of integers, got ${describe(v)}`);
    return v.map((x, i) => checkInt(`${name}[${i}]`, x, min, max));
  },
};

// ---------------------------------------------------------------------------------------------
// Lifecycle

/** Throw when `disposed`: one wording for use after dispose() in every class. */
export function assertAlive(owner: string, disposed: boolean): void {
  if (disposed) throw new Error(`${owner}: used after dispose()`);
}

/**
 * Throw unless a TensorFlow.js backend is set up. Without it tfjs would pick one lazily (wasm
 * without the training kernels of lib/wasm) and fail later with a confusing message.
 */
export function assertBackend(owner: string): void {
  if (!tf.engine().backendName) {
    throw new Error(`${owner}: no TensorFlow.js backend yet: call \`await vq.initBackend()\` first`);
  }
  // wasm started by tfjs itself (tf.ready(), or a tf op before initBackend) lacks lib/wasm's training kernels
  if (tf.getBackend() === 'wasm' && !tf.getKernel('UnsortedSegmentSum', 'wasm')) {
    throw new Error(`${owner}: the wasm backend was started by TensorFlow.js itself (a tf call or tf.ready() before ` +
      `\`await vq.initBackend()\`), without this library's wasm training kernels: call \`await vq.initBackend()\` first`);
  }
}

// ---------------------------------------------------------------------------------------------
// Tensors and arrays

/** The shape of a (nested) array of numbers; throws on ragged rows and on non-numbers. */
export function arrayShape(name: string, v: unknown): number[] {
  if (typeof v === 'number') return [];
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return [(v as unknown as ArrayLike<number>).length];
  if (!Array.isArray(v)) throw new Error(`${name} must hold numbers, got ${describe(v)}`);
  if (v.length === 0) return [0];
  const inner = arrayShape(name, v[0]);
  for (let i = 1; i < v.length; i++) {
    const s = arrayShape(name, v[i]);
    if (s.length !== inner.length || s.some((d, j) => d !== inner[j])) {
      throw new Error(`${name} must be a rectangular array, but row ${i} has shape [${s.join(', ')}] and row 0 [${inner.join(', ')}]`);
    }
  }
  return [v.length, ...inner];
}

/** A float32 tensor of rank ≥ 1, with at least one vector, whose last axis is `dim`. */
export function checkVectors(name: string, z: unknown, dim: number): tf.Tensor {
  if (!(z instanceof tf.Tensor)) {
    throw new Error(`${name} must be a tf.Tensor of shape [..., ${dim}], got ${describe(z)}`);
  }
  assertLive(name, z);
  if (z.dtype !== 'float32') throw new Error(`${name} must be a float32 tensor, got dtype ${z.dtype}`);
  if (z.rank < 1 || z.shape[z.rank - 1] !== dim) {
    throw new Error(`${name} must have shape [..., ${dim}] (last axis = dim = ${dim}), got shape [${z.shape.join(', ')}]`);
  }
  if (z.size === 0) throw new Error(`${name} must hold at least one vector, got shape [${z.shape.join(', ')}]`);
  return z;
}

/**
 * Images [N, H, W, channels] with N ≥ 1 (float32), H and W multiples of `multipleOf`: the one
 * check behind every "expected a tensor [N, H, W, C]".
 */
export function checkImages(name: string, x: unknown, channels: number, multipleOf = 1): tf.Tensor4D {
  if (x instanceof tf.Tensor) assertLive(name, x);
  if (!(x instanceof tf.Tensor) || x.rank !== 4 || x.shape[3] !== channels) {
    // [N, C, H, W] (PyTorch's layout) is the likely mistake when the channels sit on axis 1
    const chw = x instanceof tf.Tensor && x.rank === 4 && x.shape[1] === channels && x.shape[3] !== channels;
    const hint = chw ? `; this looks channels-first [N, C, H, W] (PyTorch's layout): the layout here is channels-last (NHWC), ` +
      `so transpose it first: tf.transpose(x, [0, 2, 3, 1])` : '';
    throw new Error(`${name} must be a tensor [N, H, W, ${channels}], got ${describe(x)}${hint}`);
  }
  if (x.dtype !== 'float32') throw new Error(`${name} must be a float32 tensor, got dtype ${x.dtype}`);
  const [n, h, w] = x.shape;
  if (n < 1) throw new Error(`${name} must hold at least one image, got shape [${x.shape.join(', ')}]`);
  if (h % multipleOf !== 0 || w % multipleOf !== 0 || h === 0 || w === 0) {
    throw new Error(`${name} must have a height and width that are multiples of ${multipleOf}, got shape [${x.shape.join(', ')}]`);
  }
  return x as tf.Tensor4D;
}

/** Throw when `t` was disposed: "<name> is a disposed tensor" (tfjs would fail later with a TypeError about 'backend'). */
export function assertLive(name: string, t: tf.Tensor): void {
  if (t.isDisposed) throw new Error(`${name} is a disposed tensor`);
}

/** Throw when z holds NaN or ±Infinity. Costs one elementwise op, one reduction and one read. */
export function assertFinite(name: string, z: tf.Tensor): void {
  const ok = tf.tidy(() => tf.all(tf.isFinite(z)).dataSync()[0]);
  if (!ok) throw new Error(`${name} must be finite, but it holds NaN or Infinity`);
}

/**
 * Integer code indices in [0, size): a tensor (int32, or float32 holding integers) or a
 * (nested, rectangular) number array. Reads the values to check them. Returns an int32 tensor
 * the caller owns.
 */
export function checkIndices(name: string, indices: unknown, size: number): tf.Tensor {
  let t: tf.Tensor;
  if (indices instanceof tf.Tensor) {
    assertLive(name, indices);
    if (indices.dtype !== 'int32' && indices.dtype !== 'float32') {
      throw new Error(`${name} must be an int32 tensor (or integer numbers), got dtype ${indices.dtype}`);
    }
    t = indices;
  } else if (typeof indices === 'number' || Array.isArray(indices) || ArrayBuffer.isView(indices)) {
    const shape = arrayShape(name, indices);
    t = tf.tensor(indices as number[], shape);
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
