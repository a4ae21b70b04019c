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

/** What `assignCodes` returns. */
export interface CodeAssignment {
  /** argmin_k ||x_n − e_k||², int32, no gradient.   [N] */
  indices: tf.Tensor1D;
  /** p̄ = mean_n softmax(−d_n / T), with a gradient to x and e.   [K] */
  softUsage: tf.Tensor1D;
}

/**
 * The distance → argmin / soft-assignment path of the VQ layer as one op with a hand-written
 * gradient, so that a training step keeps ONE [N, K] tensor (the softmax p) alive for the
 * backward pass instead of every intermediate of d = ||x||² + ||e||² − 2x·eᵀ, −d/T and softmax
 * (autodiff kept ~10 of them, and ~14 more arose in its backward). Values are those of
 * squaredDistances + argMin + mean(softmax(−d / T), 0), computed by the same ops.
 *
 * Gradient of p̄ (g = ∂L/∂p̄ [K], p = softmax(−d/T) [N, K]):
 *   G = ∂L/∂d = p ⊙ (c − p·c) with c = −g / (N·T)            [N, K]
 *   ∂L/∂x = 2 (x ⊙ rowsum(G) − G e),  ∂L/∂e = 2 (e ⊙ colsum(G) − Gᵀ x).
 *
 * x: [N, D], e: [K, D], temperature T > 0.
 */
export function assignCodes(x: tf.Tensor2D, e: tf.Tensor2D, temperature: number): CodeAssignment {
  const [N] = x.shape;
  const [K] = e.shape;
  let indices: tf.Tensor1D | null = null;
  const op = tf.customGrad((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xi, ei] = inputs as [tf.Tensor2D, tf.Tensor2D];
    const save = inputs[2] as tf.GradSaveFunc;
    const d = squaredDistances(xi, ei); // [N, K]
    indices = tf.keep(tf.argMin(d, 1) as tf.Tensor1D); // [N]; handed out beside the op's value
    const negD = tf.neg(d); // [N, K]
    d.dispose();
    const s = tf.div(negD, temperature); // [N, K]
    negD.dispose();
    const p = tf.softmax(s) as tf.Tensor2D; // [N, K]
    s.dispose();
    save([xi, ei, p]); // (kept only while a gradient is being recorded)
    return {
      value: tf.mean(p, 0) as tf.Tensor1D, // [K]
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, es, ps] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
        return tf.tidy(() => {
          const c = tf.mul(dy, -1 / (N * temperature)); // [K]
          const r = tf.matMul(ps, tf.reshape(c, [K, 1])); // [N, 1]
          const diff = tf.sub(c, r); // [N, K]
          const G = tf.mul(ps, diff) as tf.Tensor2D; // [N, K]
          diff.dispose();
          const rowSum = tf.sum(G, 1, true); // [N, 1]
          const colSum = tf.reshape(tf.sum(G, 0), [K, 1]); // [K, 1]
          const dx = tf.mul(tf.sub(tf.mul(xs, rowSum), tf.matMul(G, es)), 2); // [N, D]
          const de = tf.mul(tf.sub(tf.mul(es, colSum), tf.matMul(G, xs, true, false)), 2); // [K, D]
          return [dx, de];
        });
      },
    };
  });
  const softUsage = op(x, e) as tf.Tensor1D;
  // The kept indices are handed to the caller's scope: a clone is tracked by the enclosing tidy.
  const out = (indices as unknown as tf.Tensor1D).clone();
  (indices as unknown as tf.Tensor1D).dispose();
  return { indices: out, softUsage };
}

/**
 * Bytes a VQ layer's forward (and backward, `withGradient`) needs at its peak for N vectors of
 * dim D against K codes (float32): 6 [N, K] tensors' worth, on top of the [N, D] / [K, D]
 * activations and their gradients. Measured with tf.profile at N 4,096, K 1,024, D 64 (wasm):
 * peak 5.2 [N, K] for the forward, 5.7 for forward + backward (the autodiff path before
 * assignCodes: 20.8).
 */
export function vqPeakBytes(N: number, K: number, D: number, withGradient: boolean): number {
  return 4 * (6 * N * K + (withGradient ? 8 : 4) * (N * D + K * D) + 4 * N);
}
