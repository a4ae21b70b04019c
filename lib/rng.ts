/**
 * Seeded randomness, drawn in JS so that init, shuffling, restarts and sampling give the same
 * numbers on every backend (tf.random* streams differ by backend).
 */

/** mulberry32 (Tommy Ettinger, public domain) from a raw 32-bit state: floats in [0, 1). */
function mulberry32State(state: number): () => number {
  let a = state >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A mulberry32 generator for `seed` (mixed with the golden-ratio constant first). */
export function mulberry32(seed: number): () => number {
  if (!Number.isFinite(seed)) throw new Error(`seed must be a finite number, got ${seed}`);
  return mulberry32State((Math.floor(seed) ^ 0x9e3779b9) >>> 0);
}

/** A seeded generator with the draws the quantizers need (init, k-means++, restarts). */
export class Rng {
  /** Uniform in [0, 1): mulberry32 on the state `seed >>> 0`. */
  readonly next: () => number;

  /** @param seed any integer; undefined draws one from Math.random (not reproducible). */
  constructor(seed?: number) {
    if (seed !== undefined && (typeof seed !== 'number' || !Number.isFinite(seed))) throw new Error(`Rng(seed) must be a finite number, got ${String(seed)}`);
    this.next = mulberry32State((seed ?? Math.floor(Math.random() * 2 ** 32)) >>> 0);
  }

  /** `n` draws from U(lo, hi). */
  uniform(n: number, lo: number, hi: number): Float32Array {
    return uniformArray(n, lo, hi, this.next);
  }

  /** `n` draws from N(mean, std²) by Box–Muller. */
  normal(n: number, mean = 0, std = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i += 2) {
      const u = 1 - this.next(); // (0, 1]: log(u) is finite
      const r = Math.sqrt(-2 * Math.log(u));
      const a = 2 * Math.PI * this.next();
      out[i] = mean + std * r * Math.cos(a);
      if (i + 1 < n) out[i + 1] = mean + std * r * Math.sin(a);
    }
    return out;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /**
   * `k` row numbers out of `n`: distinct (partial Fisher–Yates) when k ≤ n, otherwise every
   * row once in random order and then the rest drawn with replacement.
   */
  sample(n: number, k: number): number[] {
    const perm = Array.from({ length: n }, (_, i) => i);
    const m = Math.min(k, n);
    for (let i = 0; i < m; i++) {
      const j = i + this.int(n - i);
      [perm[i], perm[j]] = [perm[j], perm[i]];
    }
    const out = perm.slice(0, m);
    while (out.length < k) out.push(this.int(n));
    return out;
  }
}

/** n draws from U(lo, hi). */
export function uniformArray(n: number, lo: number, hi: number, rand: () => number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rand();
  return out;
}

/** A seeded permutation of 0..n-1 (Fisher–Yates). */
export function permutation(n: number, rand: () => number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/** Index drawn from the categorical distribution `probs` (need not sum exactly to 1). */
export function sampleCategorical(probs: ArrayLike<number>, rand: () => number): number {
  let total = 0;
  for (let i = 0; i < probs.length; i++) total += probs[i];
  let u = rand() * total;
  for (let i = 0; i < probs.length; i++) {
    u -= probs[i];
    if (u < 0) return i;
  }
  return probs.length - 1;
}

/** Derive a child seed from a seed and a label, so that sub-modules get distinct streams. */
export function childSeed(seed: number, label: number): number {
  return (Math.imul(seed | 0, 0x85ebca6b) ^ Math.imul(label + 1, 0xc2b2ae35)) >>> 0;
}
