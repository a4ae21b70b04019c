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

function uniformVar(shape: number[], bound: number, rand: () => number): tf.Variable {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tidy(() => tf.variable(tf.tensor(uniformArray(n, -bound, bound, rand), shape), true));
}

export type Pad = number | [[0, 0], [number, number], [number, number], [0, 0]];

/** TensorFlow's 'same' padding along one axis of size n: [before, after], the odd one after. */
function samePadding(n: number, k: number, s: number): [number, number] {
  const total = Math.max((Math.ceil(n / s) - 1) * s + k - n, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

const samePair = (a: [number, number], b: [number, number]) => a[0] === b[0] && a[1] === b[1];

/**
 * The kernel a backend may register for conv2d + bias (+ ReLU) in one call, with its gradient
 * (lib/native registers it for TensorFlow, as `_FusedConv2D`). Inputs x [N, H, W, C], filter
 * [kh, kw, C, outC], bias [outC]; attrs { strides: number, pad: 'same' | 'valid', relu: boolean }.
 */
export const FUSED_CONV2D = 'VqFusedConv2D';

/**
 * conv2d(x, filter) + bias, then ReLU when `relu`: one kernel call where the backend has
 * FUSED_CONV2D (one pass over the output instead of three), else the three ops.
 */
export function conv2dBias(x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D, stride: number, pad: 'same' | 'valid', relu: boolean): tf.Tensor4D {
  if (x.dtype === 'float32' && tf.getKernel(FUSED_CONV2D, tf.getBackend())) {
    return tf.engine().runKernel(FUSED_CONV2D, { x, filter, bias }, { strides: stride, pad, relu }) as tf.Tensor4D;
  }
  return tf.tidy(() => {
    const y = tf.add(tf.conv2d(x, filter, stride, pad), bias) as tf.Tensor4D;
    return relu ? tf.relu(y) : y;
  });
}

/**
 * The kernel a backend may register for x·W + b in one call, with its gradient (lib/native: TensorFlow's
 * `_FusedMatMul`). Inputs a [N, K], b [K, M], bias [M]; no attrs.
 */
export const FUSED_MATMUL = 'VqFusedMatMul';

/** a [N, K] · b [K, M] + bias [M] → [N, M]: one kernel call where the backend has FUSED_MATMUL, else two ops. */
export function matMulBias(a: tf.Tensor2D, b: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  if (a.dtype === 'float32' && tf.getKernel(FUSED_MATMUL, tf.getBackend())) {
    return tf.engine().runKernel(FUSED_MATMUL, { a, b, bias }, {}) as tf.Tensor2D;
  }
  return tf.tidy(() => tf.add(tf.matMul(a, b), bias) as tf.Tensor2D);
}

/**
 * conv2d with explicit (PyTorch-style) padding on every backend. The native TensorFlow backend
 * accepts only 'valid' and 'same', so we pass those where they mean this padding and pad the input
 * explicitly otherwise. x [N, H, W, C], filter [kh, kw, C, outC] → [N, ⌊(H + pT + pB − kh)/s⌋ + 1, …, outC].
 * With `bias` [outC]: conv2dBias (+ bias, then ReLU when `relu`).
 */
export function conv2dPadded(x: tf.Tensor4D, filter: tf.Tensor4D, stride: number, pad: Pad, bias?: tf.Tensor1D, relu = false): tf.Tensor4D {
  const [, h, w] = x.shape;
  const [kh, kw] = filter.shape;
  const [rows, cols]: [number, number][] = typeof pad === 'number' ? [[pad, pad], [pad, pad]] : [pad[1], pad[2]];
  const conv = (input: tf.Tensor4D, mode: 'same' | 'valid'): tf.Tensor4D =>
    bias ? conv2dBias(input, filter, bias, stride, mode, relu) : tf.conv2d(input, filter, stride, mode);
  if (rows[0] + rows[1] + cols[0] + cols[1] === 0) return conv(x, 'valid');
  if (samePair(rows, samePadding(h, kh, stride)) && samePair(cols, samePadding(w, kw, stride))) return conv(x, 'same');
  return tf.tidy(() => conv(tf.pad(x, [[0, 0], rows, cols, [0, 0]]), 'valid'));
}

/**
 * PyTorch's ConvTranspose2d(k, stride s, padding p) on every backend: the gradient of a conv whose
 * input is [oh, ow]. 'same' where that conv's padding is TensorFlow's 'same', else a 'valid'
 * transpose cropped by p on each side. x [N, h, w, inC], filter [k, k, outC, inC] → [N, oh, ow, outC].
 */
export function conv2dTransposePadded(x: tf.Tensor4D, filter: tf.Tensor4D, outShape: [number, number, number, number], stride: number, pad: number): tf.Tensor4D {
  const [, h, w] = x.shape;
  const [n, oh, ow, c] = outShape;
  const k = filter.shape[0];
  if (pad === 0 && oh === (h - 1) * stride + k && ow === (w - 1) * stride + k) return tf.conv2dTranspose(x, filter, outShape, stride, 'valid');
  const same = samePair(samePadding(oh, k, stride), [pad, pad]) && samePair(samePadding(ow, filter.shape[1], stride), [pad, pad]);
  if (same && Math.ceil(oh / stride) === h && Math.ceil(ow / stride) === w) return tf.conv2dTranspose(x, filter, outShape, stride, 'same');
  return tf.tidy(() => {
    const full = tf.conv2dTranspose(x, filter, [n, (h - 1) * stride + k, (w - 1) * stride + filter.shape[1], c], stride, 'valid');
    return tf.slice(full, [0, pad, pad, 0], [n, oh, ow, c]);
  });
}

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
    return tf.tidy(() => conv2dPadded(x, filter, this.stride, pad, this.bias as tf.Tensor1D));
  }
  /** relu(apply(x)), in one kernel call where the backend has one (conv2dBias). */
  applyRelu(x: tf.Tensor4D, filter: tf.Tensor4D = this.weight as tf.Tensor4D, pad: Pad = this.pad): tf.Tensor4D {
    return tf.tidy(() => conv2dPadded(x, filter, this.stride, pad, this.bias as tf.Tensor1D, true));
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
    return tf.tidy(() => {
      const y = conv2dTransposePadded(x, this.weight as tf.Tensor4D, [n, oh, ow, this.outC], this.stride, this.pad);
      return tf.add(y, this.bias) as tf.Tensor4D;
    });
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

/**
 * A learned linear map y = x·W + b (kernel W [fanIn, fanOut], bias b [fanOut]), initialised as
 * torch.nn.Linear: both U(±1/√fanIn), kernel drawn first, then bias, from `rng` (lib/rng's Rng). The projections
 * in and out of FSQ and LFQ.
 */
/** A linear map's weights, as FSQ's and LFQ's `projectIn` / `projectOut` expose them. */
export interface LinearWeights {
  readonly kernel: tf.Variable; // [fanIn, fanOut]
  readonly bias: tf.Variable; // [fanOut]
}

export class Linear implements ParamHolder, LinearWeights {
  readonly kernel: tf.Variable; // [fanIn, fanOut]
  readonly bias: tf.Variable; // [fanOut]
  constructor(readonly fanIn: number, readonly fanOut: number, rng: { uniform(n: number, lo: number, hi: number): Float32Array }) {
    const s = 1 / Math.sqrt(fanIn);
    this.kernel = tf.tidy(() => tf.variable(tf.tensor2d(rng.uniform(fanIn * fanOut, -s, s), [fanIn, fanOut])));
    this.bias = tf.tidy(() => tf.variable(tf.tensor1d(rng.uniform(fanOut, -s, s))));
  }
  /** x [N, fanIn] → x·W + b [N, fanOut] */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    return matMulBias(x, this.kernel as tf.Tensor2D, this.bias as tf.Tensor1D);
  }
  namedVariables(prefix = ''): Map<string, tf.Variable> {
    return new Map([[`${prefix}kernel`, this.kernel], [`${prefix}bias`, this.bias]]);
  }
  dispose(): void {
    tf.dispose([this.kernel, this.bias]);
  }
}
