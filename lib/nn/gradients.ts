/**
 * Gradients of reductions without a tensor of ones, on every backend.
 *
 * tfjs-core differentiates `mean(x)` as (dy · ones(x.shape)) / n and `sum(x)` as dy · ones(x.shape).
 * `ones` is made in JavaScript (a Float32Array of x.size ones, copied to the backend), then two
 * passes run over it. At x [65,536, 64] that was 28 ms of a 47 ms FSQ training step on tfjs-node
 * (1 thread; 23 ms of 42 on 2); broadcasting dy (one Tile) takes 1.2 ms. The values are the same
 * bit for bit: dy · 1 = dy, so both give dy / n (mean) and dy (sum) in every element.
 *
 * PyTorch's mean_backward is the same broadcast (grad.expand(shape) / n).
 *
 * The broadcast is a Tile, except on wasm, whose Tile kernel is a slow generic loop (25 ms for
 * [256, 28, 28, 1], 50 ms for [12,544, 32]): there it is fill(1) · v (0.2 and 0.4 ms), the same
 * values again (1 · v = v). tfjs-core's ones made in JavaScript took 1.0 and 1.9 ms on wasm.
 */
import * as tf from '@tensorflow/tfjs';

/** v (shape `kept`, 1 on the reduced axes) broadcast to `shape`. */
function broadcast(v: tf.Tensor, shape: number[]): tf.Tensor {
  return tf.getBackend() === 'wasm' ? tf.mul(tf.fill(shape, 1), v) : tf.broadcastTo(v, shape);
}

/** x's shape with the reduced `axes` set to 1: where dy [reduced shape] broadcasts back from. */
function keptShape(x: tf.Tensor, axis: number | number[] | undefined): number[] {
  const axes = tf.util.parseAxisParam(axis as number | number[], x.shape); // null (all axes) is what tf.mean(x) records
  return x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

let registered = false;

/**
 * mean's or sum's gradient: dy [reduced shape] reshaped to x's rank (1 on the reduced axes),
 * divided by the elements averaged into each output for mean, broadcast back to x's shape.
 */
function reductionGradient(kernelName: 'Mean' | 'Sum'): tf.GradConfig {
  return {
    kernelName,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as [tf.Tensor];
      const kept = keptShape(x, (attrs as { axis?: number | number[] }).axis);
      const n = x.size / kept.reduce((a, b) => a * b, 1); // elements averaged into each output of mean
      return {
        x: () => {
          const d = tf.reshape(dy as tf.Tensor, kept);
          return broadcast(kernelName === 'Mean' ? tf.div(d, n) : d, x.shape);
        },
      };
    },
  };
}

/** Register the gradients above for every backend (idempotent); initBackend calls it. */
export function registerReductionGradients(): void {
  if (registered) return;
  registered = true;
  tf.registerGradient(reductionGradient('Mean'));
  tf.registerGradient(reductionGradient('Sum'));
}
