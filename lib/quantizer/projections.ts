/**
 * The learned linear maps around a quantizer's code space: dim → inner before quantizing and
 * inner → dim after, as vector-quantize-pytorch's `project_in` / `project_out` (nn.Linear with
 * bias, torch's initialisation U(±1/√fanIn)). FSQ and LFQ have them only when dim differs from
 * their code width; FactorizedVQ always has them (its lookup space is the point).
 */
import * as tf from '@tensorflow/tfjs';
import { Linear } from '../nn/layers';

export class Projections {
  /** dim → inner, null without projections.   kernel [dim, inner], bias [inner] */
  readonly in: Linear | null;
  /** inner → dim, null without projections.   kernel [inner, dim], bias [dim] */
  readonly out: Linear | null;

  /** Both maps when `always` or dim ≠ inner, drawn from `rng` in that order (in, then out). */
  constructor(readonly dim: number, readonly inner: number, rng: { uniform(n: number, lo: number, hi: number): Float32Array }, always = false) {
    const on = always || dim !== inner;
    this.in = on ? new Linear(dim, inner, rng) : null;
    this.out = on ? new Linear(inner, dim, rng) : null;
  }

  /** x [..., dim] → [..., inner]; x itself without projections. */
  toInner(x: tf.Tensor): tf.Tensor {
    return applyLast(this.in, x);
  }

  /** x [..., inner] → [..., dim]; x itself without projections. */
  toOuter(x: tf.Tensor): tf.Tensor {
    return applyLast(this.out, x);
  }

  /** "projectIn.kernel", "projectIn.bias", "projectOut.kernel", "projectOut.bias" (none without projections). */
  namedVariables(): Map<string, tf.Variable> {
    return new Map([...(this.in?.namedVariables('projectIn.') ?? []), ...(this.out?.namedVariables('projectOut.') ?? [])]);
  }

  dispose(): void {
    this.in?.dispose();
    this.out?.dispose();
  }
}

/** l applied to the last axis: x [..., l.fanIn] → [..., l.fanOut] (2-D x without reshapes); x without l. */
function applyLast(l: Linear | null, x: tf.Tensor): tf.Tensor {
  if (!l) return x;
  if (x.rank === 2) return l.apply(x as tf.Tensor2D);
  return tf.tidy(() => tf.reshape(l.apply(tf.reshape(x, [-1, l.fanIn]) as tf.Tensor2D), [...x.shape.slice(0, -1), l.fanOut]));
}
