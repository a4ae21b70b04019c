/**
 * Minimal parameter holders for convolutions built from raw tf ops and our own tf.Variables
 * (no tf.layers): the weights are plain named variables, easy to save and to differentiate
 * with tf.variableGrads. Layout is NHWC throughout.
 *
 * Init follows PyTorch's defaults (torch.nn.modules.conv `_ConvNd.reset_parameters`):
 * kaiming_uniform_(a=√5) on the weight and U(±1/√fan_in) on the bias, which both come to
 * U(−1/√fan_in, 1/√fan_in), with fan_in computed from PyTorch's weight layout.
 */
import * as tf from '@tensorflow/tfjs';
import { uniformArray } from '../rng';

/** A module that owns named variables. */
export interface ParamHolder {
  /** name → variable, in a stable order. */
  namedVariables(prefix?: string): Map<string, tf.Variable>;
}

export function checkInt(name: string, v: unknown, min = 1): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new Error(`${name}: expected an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Throws on option names outside `allowed` (typos must not be silently ignored). */
export function checkKeys(where: string, o: object, allowed: string[]): void {
  if (o === null || typeof o !== 'object') throw new Error(`${where}: expected an options object, got ${String(o)}`);
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw new Error(`${where}: unknown option "${k}" (expected ${allowed.join(', ')})`);
  }
}

function uniformVar(shape: number[], bound: number, rand: () => number): tf.Variable {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tidy(() => tf.variable(tf.tensor(uniformArray(n, -bound, bound, rand), shape), true));
}

export type Pad = number | [[0, 0], [number, number], [number, number], [0, 0]];

/** 2-D convolution: weight [kh, kw, inC, outC], bias [outC]; y = conv(x, W) + b. */
export class Conv2D implements ParamHolder {
  readonly weight: tf.Variable; // [kh, kw, inC, outC]
  readonly bias: tf.Variable; // [outC]
  constructor(
    readonly inC: number,
    readonly outC: number,
    readonly k: number,
    readonly stride: number,
    readonly pad: number,
    rand: () => number,
  ) {
    // PyTorch Conv2d weight is [outC, inC, kh, kw]: fan_in = inC·kh·kw.
    const bound = 1 / Math.sqrt(inC * k * k);
    this.weight = uniformVar([k, k, inC, outC], bound, rand);
    this.bias = uniformVar([outC], bound, rand);
  }
  /** x [N, H, W, inC] → [N, ⌊(H + 2p − k)/s⌋ + 1, …, outC]; `filter` overrides the weight (masks). */
  apply(x: tf.Tensor4D, filter: tf.Tensor4D = this.weight as tf.Tensor4D, pad: Pad = this.pad): tf.Tensor4D {
    return tf.add(tf.conv2d(x, filter, this.stride, pad), this.bias) as tf.Tensor4D;
  }
  namedVariables(prefix = ''): Map<string, tf.Variable> {
    return new Map([[`${prefix}weight`, this.weight], [`${prefix}bias`, this.bias]]);
  }
}

/** Transposed convolution (PyTorch ConvTranspose2d semantics): weight [kh, kw, outC, inC]. */
export class ConvTranspose2D implements ParamHolder {
  readonly weight: tf.Variable; // [kh, kw, outC, inC]
  readonly bias: tf.Variable; // [outC]
  constructor(
    readonly inC: number,
    readonly outC: number,
    readonly k: number,
    readonly stride: number,
    readonly pad: number,
    rand: () => number,
  ) {
    // PyTorch ConvTranspose2d weight is [inC, outC, kh, kw] and its fan_in is taken from
    // dim 1: fan_in = outC·kh·kw (torch.nn.init._calculate_fan_in_and_fan_out).
    const bound = 1 / Math.sqrt(outC * k * k);
    this.weight = uniformVar([k, k, outC, inC], bound, rand);
    this.bias = uniformVar([outC], bound, rand);
  }
  /** x [N, H, W, inC] → [N, (H − 1)·s − 2p + k, …, outC]. */
  apply(x: tf.Tensor4D): tf.Tensor4D {
    const [n, h, w] = x.shape;
    const oh = (h - 1) * this.stride - 2 * this.pad + this.k;
    const ow = (w - 1) * this.stride - 2 * this.pad + this.k;
    const y = tf.conv2dTranspose(x, this.weight as tf.Tensor4D, [n, oh, ow, this.outC], this.stride, this.pad);
    return tf.add(y, this.bias) as tf.Tensor4D;
  }
  namedVariables(prefix = ''): Map<string, tf.Variable> {
    return new Map([[`${prefix}weight`, this.weight], [`${prefix}bias`, this.bias]]);
  }
}

/** Merge named-variable maps of children under `prefix/`. */
export function collect(children: [string, ParamHolder][], prefix = ''): Map<string, tf.Variable> {
  const out = new Map<string, tf.Variable>();
  for (const [name, child] of children) {
    for (const [k, v] of child.namedVariables(`${prefix}${name}/`)) out.set(k, v);
  }
  return out;
}
