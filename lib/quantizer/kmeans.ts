/**
 * Lloyd's k-means, used by `init: 'kmeans'` to place the codebook on the first batch
 * (as in Jukebox / vector-quantize-pytorch's `kmeans_init`). Seeded through `Rng`.
 */
import * as tf from '@tensorflow/tfjs';
import { l2Normalize, squaredDistances } from './distance';
import { Rng } from './rng';

export interface KMeansOptions {
  /** Lloyd iterations (default 10). */
  iters?: number;
  /** Spherical k-means: centroids renormalised to unit length after each step (for cosine distance). */
  cosine?: boolean;
}

/**
 * x: [N, d] → centroids [k, d]. Starts from k distinct random rows of x (with repeats only
 * when N < k); a centroid that attracts no row keeps its previous position.
 */
export function kmeans(x: tf.Tensor2D, k: number, rng: Rng, opts: KMeansOptions = {}): tf.Tensor2D {
  const iters = opts.iters ?? 10;
  const rows = rng.sample(x.shape[0], k);
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
      return opts.cosine ? l2Normalize(moved) : moved;
    });
    c.dispose();
    c = next;
  }
  return c;
}
