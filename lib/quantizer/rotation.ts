/**
 * The rotation trick (Fifty et al. 2024, "Restructuring Vector Quantization with the Rotation
 * Trick", arXiv 2410.06424): instead of copying the gradient at q to e unchanged (the
 * straight-through estimator), pass it through the rotation + rescaling that maps e onto q,
 * treating that map as a constant:
 *
 *   q̃ = sg(λ R) e,   λ = ‖q‖ / ‖e‖,   R = I − 2 w wᵀ + 2 q̂ êᵀ,   ê = e/‖e‖, q̂ = q/‖q‖, w = (ê + q̂)/‖ê + q̂‖
 *
 * (section 4.2: R is two Householder reflections, R ê = q̂, applied in O(d) without forming R).
 * As a row vector, vector-quantize-pytorch's `efficient_rotation_trick_transform(u, q, e)` is
 *   e − 2 (e·w) w + 2 (e·u) q̂       (u = ê; u, q̂, w detached)
 * and `rotate_to(src, tgt)` multiplies it by sg(‖tgt‖ / ‖src‖), with
 * `safe_div(a, b) = a / max(b, 1e-6)` and w = `F.normalize(u + q̂, eps = 1e-6)`.
 *
 * So the output is linear in e with a stopped-gradient matrix: ∂L/∂e = λ Rᵀ g =
 *   λ (g − 2 (g·w) w + 2 (g·q̂) ê),
 * and nothing flows to q (vector-quantize-pytorch detaches the target too; the codebook
 * learns from the codebook loss, as with the STE).
 *
 * Deliberate difference: vector-quantize-pytorch returns λ R e computed in floating point,
 * which equals q only up to rounding; here the forward value is exactly q (like
 * `straightThrough`), so switching STE ↔ rotation changes gradients and nothing else.
 */
import * as tf from '@tensorflow/tfjs';

type Inputs = Array<tf.Tensor | tf.GradSaveFunc>;

const EPS = 1e-6;

/** x / max(‖x‖, eps) per row, with the norm kept.   x: [N, d] → ([N, d], [N, 1]) */
function unitRows(x: tf.Tensor2D): { unit: tf.Tensor2D; norm: tf.Tensor2D } {
  const norm = tf.norm(x, 'euclidean', 1, true) as tf.Tensor2D; // [N, 1]
  return { unit: tf.div(x, tf.maximum(norm, EPS)) as tf.Tensor2D, norm };
}

/** value q, gradient (λ Rᵀ dy → e, 0 → q); e, q: [N, d] */
const rotateOp = tf.customGrad((...inputs: Inputs) => {
  const [e, q, save] = inputs as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
  save([e, q]);
  return {
    value: q.clone(),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [es, qs] = saved as [tf.Tensor2D, tf.Tensor2D];
      const g = dy as tf.Tensor2D; // [N, d]
      const { unit: u, norm: ne } = unitRows(es); // ê, ‖e‖
      const { unit: qh, norm: nq } = unitRows(qs); // q̂, ‖q‖
      const w = unitRows(tf.add(u, qh) as tf.Tensor2D).unit; // [N, d]
      const lambda = tf.div(nq, tf.maximum(ne, EPS)); // [N, 1]
      const gw = tf.sum(tf.mul(g, w), 1, true); // [N, 1]
      const gq = tf.sum(tf.mul(g, qh), 1, true); // [N, 1]
      const rt = tf.add(tf.sub(g, tf.mul(tf.mul(gw, w), 2)), tf.mul(tf.mul(gq, u), 2)); // Rᵀ g
      return [tf.mul(rt, lambda), tf.zerosLike(qs)];
    },
  };
});

/**
 * Rotation-trick estimator: value exactly `q`, gradient to `e` through sg(λR) (see above).
 * e, q: [..., d] of one shape (the encoder output and its quantized vector).
 */
export function rotateTo(e: tf.Tensor, q: tf.Tensor): tf.Tensor {
  if (!tf.util.arraysEqual(e.shape, q.shape) || e.rank < 1) {
    throw new Error(`rotateTo(e, q): shapes must match and have rank >= 1, got [${e.shape}] and [${q.shape}]`);
  }
  const d = e.shape[e.rank - 1];
  return tf.tidy(() => {
    const out = rotateOp(tf.reshape(e, [-1, d]), tf.reshape(q, [-1, d]));
    return tf.reshape(out, e.shape);
  });
}

/**
 * The rotated-and-rescaled e, λ R e, computed as vector-quantize-pytorch does (for tests and
 * for showing that it equals q up to rounding). No custom gradient.   e, q: [N, d] → [N, d]
 */
export function rotationTransform(e: tf.Tensor2D, q: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const { unit: u, norm: ne } = unitRows(e);
    const { unit: qh, norm: nq } = unitRows(q);
    const w = unitRows(tf.add(u, qh) as tf.Tensor2D).unit;
    const ew = tf.sum(tf.mul(e, w), 1, true);
    const eu = tf.sum(tf.mul(e, u), 1, true);
    const re = tf.add(tf.sub(e, tf.mul(tf.mul(ew, w), 2)), tf.mul(tf.mul(eu, qh), 2));
    return tf.mul(re, tf.div(nq, tf.maximum(ne, EPS))) as tf.Tensor2D;
  });
}
