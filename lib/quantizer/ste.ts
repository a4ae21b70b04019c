/**
 * Gradient surgery. TensorFlow.js has no `stopGradient`, so each piece is a `tf.customGrad`
 * whose backward pass is the gradient we want. The forward value is always a fresh tensor
 * (never the input object itself).
 */
import * as tf from '@tensorflow/tfjs';
import { describe } from '../validate';

/** Throw unless `x` is a tensor (names the function and argument). */
function checkTensor(name: string, x: unknown): void {
  if (!(x instanceof tf.Tensor)) throw new Error(`${name} must be a tf.Tensor, got ${describe(x)}`);
}

type Inputs = Array<tf.Tensor | tf.GradSaveFunc>;

/** value x, gradient 0 */
const detachOp = tf.customGrad((...inputs: Inputs) => ({
  value: (inputs[0] as tf.Tensor).clone(),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
}));

/** value zq, gradient (dy → z, 0 → zq) */
const straightThroughOp = tf.customGrad((...inputs: Inputs) => ({
  value: (inputs[1] as tf.Tensor).clone(),
  gradFunc: (dy: tf.Tensor) => [dy.clone(), tf.zerosLike(dy)],
}));

/** value round(x), gradient dy */
const roundSteOp = tf.customGrad((...inputs: Inputs) => ({
  value: tf.round(inputs[0] as tf.Tensor),
  gradFunc: (dy: tf.Tensor) => dy.clone(),
}));

/** value table[idx] (rows), no gradient to either input: a lookup that is safe under tf.grad. */
const lookupOp = tf.customGrad((...inputs: Inputs) => {
  const [table, idx] = inputs as [tf.Tensor, tf.Tensor];
  return {
    value: tf.gather(table, idx),
    // float zeros for the int32 indices too: tfjs requires float32 gradients for every input.
    gradFunc: () => [tf.zerosLike(table), tf.zeros(idx.shape, 'float32')],
  };
});

/** value table[idx] (rows); gradient to the table: the rows' gradients summed per index (none to idx). */
const gatherRowsOp = tf.customGrad((...inputs: Inputs) => {
  const [table, idx] = inputs as [tf.Tensor2D, tf.Tensor1D];
  const save = inputs[2] as tf.GradSaveFunc;
  save([idx]);
  return {
    value: tf.gather(table, idx),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [
      tf.unsortedSegmentSum(dy, saved[0] as tf.Tensor1D, table.shape[0]), // [K, d]
      tf.zeros(idx.shape, 'float32'),
    ],
  };
});

/**
 * Rows of `table` [K, d] at int32 `indices` [N] → [N, d], with the gradient of onehot(indices)·table
 * to the table (each row's gradient added to its code's row) and none to the indices, which may
 * depend on a watched tensor (argMin of z). It saves only the [N] indices for the backward pass,
 * where onehot·table kept an [N, K] one-hot; the value is exactly table[indices].
 */
export function gatherRows(table: tf.Tensor2D, indices: tf.Tensor1D): tf.Tensor2D {
  return gatherRowsOp(table, indices) as tf.Tensor2D;
}

/**
 * Rows of `table` [K, d] at int32 `indices` [N] → [N, d], with no gradient. tf.gather's own
 * gradient fails when the indices depend on a watched tensor (e.g. argMin of z under tf.grad).
 */
export function lookupRows(table: tf.Tensor, indices: tf.Tensor): tf.Tensor {
  checkTensor('lookupRows(table)', table);
  checkTensor('lookupRows(indices)', indices);
  if (indices.dtype !== 'int32') throw new Error(`lookupRows(indices) must be an int32 tensor, got dtype ${indices.dtype}`);
  return lookupOp(table, indices);
}

/** sg(x): value x, gradient zero. PyTorch's `.detach()`. */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  checkTensor('stopGradient(x)', x);
  return detachOp(x) as T;
}

/**
 * Straight-through estimator (van den Oord et al. 2017, eq. 3; ginka-generator's `z_e + (z_q - z_e).detach()`).
 * z, zq: [..., d] of one shape. Value: exactly zq (not z + (zq − z), which rounds in float32).
 * Gradient: the upstream gradient passes unchanged to z, and nothing reaches zq.
 */
export function straightThrough(z: tf.Tensor, zq: tf.Tensor): tf.Tensor {
  checkTensor('straightThrough(z)', z);
  checkTensor('straightThrough(zq)', zq);
  if (!tf.util.arraysEqual(z.shape, zq.shape)) {
    throw new Error(`straightThrough(zq) must have the shape of z [${z.shape.join(', ')}], got [${zq.shape.join(', ')}]`);
  }
  return straightThroughOp(z, zq);
}

/** round_ste (lucidrains' vector-quantize-pytorch FSQ): value round(x) (half to even, like torch.round), gradient identity. */
export function roundSte(x: tf.Tensor): tf.Tensor {
  checkTensor('roundSte(x)', x);
  return roundSteOp(x);
}
