/** Distances between vectors and codes, written with ops every backend can differentiate. */
import * as tf from '@tensorflow/tfjs';
import { describe } from '../validate';

/**
 * Squared Euclidean distances, expanded as in ginka-generator's VectorQuantizer and Sonnet:
 * d = ||z||² + ||e||² − 2 z·eᵀ.   z: [N, d], e: [K, d] → [N, K]
 */
export function squaredDistances(z: tf.Tensor2D, e: tf.Tensor2D): tf.Tensor2D {
  if (!(z instanceof tf.Tensor) || z.rank !== 2) throw new Error(`squaredDistances(z) must be a tensor [N, d], got ${describe(z)}`);
  if (!(e instanceof tf.Tensor) || e.rank !== 2 || e.shape[1] !== z.shape[1]) {
    throw new Error(`squaredDistances(e) must be a tensor [K, ${z.shape[1]}] (the width of z), got ${describe(e)}`);
  }
  return tf.tidy(() => {
    const zz = tf.sum(tf.square(z), 1, true); // [N, 1]
    const ee = tf.reshape(tf.sum(tf.square(e), 1), [1, -1]); // [1, K]
    const ze = tf.matMul(z, e, false, true); // [N, K]
    return tf.sub(tf.add(zz, ee), tf.mul(ze, 2)) as tf.Tensor2D;
  });
}

/** Rows scaled to unit l2 norm: x / sqrt(max(||x||², 1e-12)).   x: [N, d] → [N, d] */
export function l2Normalize<T extends tf.Tensor>(x: T): T {
  if (!(x instanceof tf.Tensor) || x.rank < 1) throw new Error(`l2Normalize(x) must be a tensor [..., d], got ${describe(x)}`);
  return tf.tidy(() => {
    const sq = tf.sum(tf.square(x), -1, true); // [N, 1]
    return tf.mul(x, tf.rsqrt(tf.maximum(sq, 1e-12))) as T;
  });
}

/**
 * Perplexity exp(−Σ_k p_k log(p_k + 1e-10)) and usage (fraction of codes with p_k > 0)
 * of assignment frequencies p [K] (Sonnet VectorQuantizer; ginka-generator uses the same 1e-10).
 */
export function perplexityAndUsage(p: tf.Tensor1D): { perplexity: tf.Scalar; usage: tf.Scalar } {
  return tf.tidy(() => ({
    perplexity: tf.exp(tf.neg(tf.sum(tf.mul(p, tf.log(tf.add(p, 1e-10)))))) as tf.Scalar,
    usage: tf.mean(tf.cast(tf.greater(p, 0), 'float32')) as tf.Scalar,
  }));
}
