/**
 * Seeded randomness for reproducible init, shuffling and sampling (the same numbers on every
 * backend, unlike tf.random* whose streams differ by backend).
 */

/** Mulberry32 (Tommy Ettinger, public domain): a 32-bit-state PRNG giving floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  if (!Number.isFinite(seed)) throw new Error(`seed: expected a finite number, got ${seed}`);
  let a = (Math.floor(seed) ^ 0x9e3779b9) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
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
