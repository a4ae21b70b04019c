/**
 * Lloyd's k-means with k-means++ seeding, used by `init: 'kmeans'` to place the codebook on
 * the first batch (as vector-quantize-pytorch's `kmeans_init`). Seeded through `Rng`.
 */
import * as tf from '@tensorflow/tfjs';
import { l2Normalize, squaredDistances } from './distance';
import { Rng } from '../rng';
import { OptionsOf, checkInt, describe, is, resolveOptions } from '../validate';

export const KMEANS_OPTIONS = {
  /** Lloyd iterations (≥ 0). Default 10. */
  iters: { check: is.int(0, 10000), default: 10 },
  /** Spherical k-means: centroids renormalised to unit length after each step (for cosine distance). Default false. */
  cosine: { check: is.boolean, default: false },
};
/** Options of kmeans(x, k, options) (see KMEANS_OPTIONS). */
export type KMeansOptions = OptionsOf<typeof KMEANS_OPTIONS>;

/**
 * k-means++ seeding (Arthur & Vassilvitskii 2007): the first centre is a random row, each next
 * one a row drawn with probability ∝ its squared distance to the nearest centre so far.
 * Runs in JS on x's values (N·k·d operations, once).   x: [N, d] values, row-major → k row numbers
 */
export function kmeansPlusPlus(values: ArrayLike<number>, n: number, d: number, k: number, rng: Rng): number[] {
  const best = new Float64Array(n).fill(Infinity);
  const rows = [rng.int(n)];
  while (rows.length < k) {
    const c = rows[rows.length - 1];
    let total = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (values[i * d + j] - values[c * d + j]) ** 2;
      if (s < best[i]) best[i] = s;
      total += best[i];
    }
    if (total === 0) { rows.push(rng.int(n)); continue; } // fewer distinct rows than k
    let r = rng.next() * total;
    let pick = n - 1;
    for (let i = 0; i < n; i++) { r -= best[i]; if (r < 0) { pick = i; break; } }
    rows.push(pick);
  }
  return rows;
}

/**
 * x: [N, d] → centroids [k, d]: k-means++ seeding, then Lloyd iterations; a centroid that
 * attracts no row keeps its previous position.
 */
export function kmeans(x: tf.Tensor2D, k: number, rng: Rng, opts: KMeansOptions = {}): tf.Tensor2D {
  const { iters, cosine } = resolveOptions('kmeans(x, k, rng, options)', KMEANS_OPTIONS, opts);
  if (!(x instanceof tf.Tensor) || x.rank !== 2 || x.shape[0] < 1) throw new Error(`kmeans(x) must be a tensor [N, d] with N ≥ 1, got ${describe(x)}`);
  checkInt('kmeans(k)', k, 1);
  if (!(rng instanceof Rng)) throw new Error(`kmeans(rng) must be an Rng, got ${describe(rng)}`);
  const [n, d] = x.shape;
  const rows = kmeansPlusPlus(x.dataSync(), n, d, k, rng);
  let c = tf.tidy(() => tf.gather(x, tf.tensor1d(rows, 'int32')) as tf.Tensor2D); // [k, d]
  for (let it = 0; it < iters; it++) {
    const next = tf.tidy(() => {
      const idx = tf.argMin(squaredDistances(x, c), 1); // [N]
      const onehot = tf.cast(tf.oneHot(idx, k), 'float32'); // [N, k]
      const counts = tf.reshape(tf.sum(onehot, 0), [k, 1]); // [k, 1]
      const sums = tf.matMul(onehot, x, true, false); // [k, d]
      const hit = tf.cast(tf.greater(counts, 0), 'float32'); // [k, 1]
      const mean = tf.div(sums, tf.maximum(counts, 1));
      const moved = tf.add(tf.mul(hit, mean), tf.mul(tf.sub(1, hit), c)) as tf.Tensor2D;
      return cosine ? l2Normalize(moved) : moved;
    });
    c.dispose();
    c = next;
  }
  return c;
}
