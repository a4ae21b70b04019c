/**
 * Tweaks for the native TensorFlow backend ('tensorflow', from @tensorflow/tfjs-node or
 * tfjs-node-gpu), the counterpart of lib/wasm for that backend.
 *
 * The gradient of relu. tfjs-core differentiates relu as dy · step(x), and tfjs-node runs `step`
 * as five TensorFlow ops (IsNan, Greater, Fill ×2, Select) on the full activation: in a VQ-VAE
 * training step that was ~45 of ~210 ms. TensorFlow has the fused op for it, ReluGrad
 * (dy · (x > 0)), which PyTorch's threshold_backward also is. We register a kernel that runs it
 * and point relu's gradient at it while the native backend is active. The one difference is at
 * NaN inputs (step(NaN) = NaN, ReluGrad gives 0), where the forward value is already NaN.
 *
 * conv2d + bias (+ ReLU) in one call (lib/nn's FUSED_CONV2D): TensorFlow's `_FusedConv2D`, the op
 * its graph optimizer fuses these into, whose CPU kernel adds the bias and applies the ReLU as it
 * writes the output: one pass instead of three (conv, add, relu). Its gradient: ReluGrad on the
 * output (y > 0 exactly where the pre-activation is > 0), then Conv2DBackpropInput / Filter, and
 * BiasAddGrad for the bias (one pass; tfjs's sum over [N, H, W] took ~3x as long). The forward
 * values equal conv, add, relu's bit for bit in our measurements on these shapes, or differ in
 * the last float bit (oneDNN may pick another algorithm for the fused primitive); BiasAddGrad
 * sums in another order than tfjs's Sum. `_FusedConv2D`'s fused_ops and TArgs are list
 * attributes, which tfjs-node's binding sets only as patched by scripts/native-build.mjs: with
 * an unpatched binding the probe below fails and the three separate ops run as before.
 *
 * x·W + b in one call (lib/nn's FUSED_MATMUL, the Linear layers of FSQ, LFQ and the factorized
 * VQ): `_FusedMatMul` with BiasAdd; its gradient is two MatMuls and BiasAddGrad. On FSQ's
 * [65,536, 4]·[4, 64] + b: 2.7 ms instead of 3.9 (2 threads); the bias gradient 0.8 ms instead of 1.6.
 */
import * as tf from '@tensorflow/tfjs';
import { FUSED_CONV2D, FUSED_MATMUL } from '../nn/layers';

type TFEOpAttr = { name: string; type: number; value: unknown };
interface NativeBackend {
  binding: { TF_ATTR_TYPE: number; TF_ATTR_INT: number; TF_ATTR_STRING: number; TF_ATTR_BOOL: number; TF_ATTR_FLOAT: number; TF_FLOAT: number };
  executeSingleOutput(name: string, attrs: TFEOpAttr[], inputs: tf.TensorInfo[]): tf.Tensor;
}

const RELU_GRAD = 'VqReluGrad';
const BIAS_ADD_GRAD = 'VqBiasAddGrad';

interface FusedConvAttrs { strides: number; pad: 'same' | 'valid'; relu: boolean }

/** `_FusedConv2D(x, filter, [bias])` with BiasAdd (+ Relu), NHWC. */
function fusedConv2d(b: NativeBackend, x: tf.TensorInfo, filter: tf.TensorInfo, bias: tf.TensorInfo, a: FusedConvAttrs): tf.TensorInfo {
  const B = b.binding;
  const attrs: TFEOpAttr[] = [
    { name: 'T', type: B.TF_ATTR_TYPE, value: B.TF_FLOAT },
    { name: 'TArgs', type: B.TF_ATTR_TYPE, value: [B.TF_FLOAT] }, // a list: needs the patched binding
    { name: 'num_args', type: B.TF_ATTR_INT, value: 1 },
    { name: 'strides', type: B.TF_ATTR_INT, value: [1, a.strides, a.strides, 1] },
    { name: 'padding', type: B.TF_ATTR_STRING, value: a.pad.toUpperCase() },
    { name: 'explicit_paddings', type: B.TF_ATTR_INT, value: [] },
    { name: 'data_format', type: B.TF_ATTR_STRING, value: 'NHWC' },
    { name: 'dilations', type: B.TF_ATTR_INT, value: [1, 1, 1, 1] },
    { name: 'use_cudnn_on_gpu', type: B.TF_ATTR_BOOL, value: true },
    { name: 'fused_ops', type: B.TF_ATTR_STRING, value: a.relu ? ['BiasAdd', 'Relu'] : ['BiasAdd'] },
    { name: 'epsilon', type: B.TF_ATTR_FLOAT, value: 0 },
    { name: 'leakyrelu_alpha', type: B.TF_ATTR_FLOAT, value: 0 },
  ];
  return b.executeSingleOutput('_FusedConv2D', attrs, [x, filter, bias]) as unknown as tf.TensorInfo;
}

/** `_FusedMatMul(a, b, [bias])` with BiasAdd: a [N, K] · b [K, M] + bias [M]. */
function fusedMatMul(b: NativeBackend, a: tf.TensorInfo, w: tf.TensorInfo, bias: tf.TensorInfo): tf.TensorInfo {
  const B = b.binding;
  const attrs: TFEOpAttr[] = [
    { name: 'T', type: B.TF_ATTR_TYPE, value: B.TF_FLOAT },
    { name: 'transpose_a', type: B.TF_ATTR_BOOL, value: false },
    { name: 'transpose_b', type: B.TF_ATTR_BOOL, value: false },
    { name: 'num_args', type: B.TF_ATTR_INT, value: 1 },
    { name: 'fused_ops', type: B.TF_ATTR_STRING, value: ['BiasAdd'] }, // a list: needs the patched binding
    { name: 'epsilon', type: B.TF_ATTR_FLOAT, value: 0 },
    { name: 'leakyrelu_alpha', type: B.TF_ATTR_FLOAT, value: 0 },
  ];
  return b.executeSingleOutput('_FusedMatMul', attrs, [a, w, bias]) as unknown as tf.TensorInfo;
}

/**
 * Whether this binding runs `_FusedConv2D` and gets conv + bias + relu right: one small case
 * against the separate ops. False with tfjs-node's own binding (it cannot set list attributes).
 */
function fusedConvWorks(): boolean {
  try {
    return tf.tidy(() => {
      const x = tf.tensor4d([1, -2, 3, 0.5, -1, 2, 0, 1, -3], [1, 3, 3, 1]);
      const w = tf.tensor4d([0.5, -1, 2, 1], [2, 2, 1, 1]);
      const bias = tf.tensor1d([-0.25]);
      const want = tf.relu(tf.add(tf.conv2d(x, w, 1, 'valid'), bias));
      const got = tf.engine().makeTensorFromTensorInfo(
        fusedConv2d(tf.backend() as unknown as NativeBackend, x, w, bias, { strides: 1, pad: 'valid', relu: true }));
      const m = tf.tensor2d([1, -2, 3, 0.5, -1, 2], [2, 3]);
      const mw = tf.tensor2d([0.5, -1, 2, 1, 0, -0.5], [3, 2]);
      const mb = tf.tensor1d([0.25, -1]);
      const wantM = tf.add(tf.matMul(m, mw), mb);
      const gotM = tf.engine().makeTensorFromTensorInfo(fusedMatMul(tf.backend() as unknown as NativeBackend, m, mw, mb));
      const close = (a: tf.Tensor, b: tf.Tensor) => tf.util.arraysEqual(a.shape, b.shape) && tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] < 1e-6;
      return close(got, want) && close(gotM, wantM);
    });
  } catch {
    return false;
  }
}

/**
 * Register the native kernels and gradients above (idempotent). Checked by kernel, not by a flag:
 * when tfjs-node-gpu loads without a GPU, initBackend unregisters every 'tensorflow' kernel before
 * tfjs-node registers the backend again, and these must come back with it.
 */
export function registerNativeKernels(): void {
  if (tf.getKernel(RELU_GRAD, 'tensorflow')) return;
  tf.registerKernel({
    kernelName: RELU_GRAD,
    backendName: 'tensorflow',
    kernelFunc: ({ inputs, backend }) => {
      const b = backend as unknown as NativeBackend;
      const { dy, x } = inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
      const attrs = [{ name: 'T', type: b.binding.TF_ATTR_TYPE, value: b.binding.TF_FLOAT }];
      return b.executeSingleOutput('ReluGrad', attrs, [dy, x]) as unknown as tf.TensorInfo;
    },
  });
  tf.registerGradient({
    kernelName: 'Relu',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved as [tf.Tensor];
      const d = dy as tf.Tensor;
      return {
        x: () => tf.getBackend() === 'tensorflow' && x.dtype === 'float32'
          ? (tf.engine().runKernel(RELU_GRAD, { dy: d, x }) as tf.Tensor)
          : tf.mul(d, tf.cast(tf.step(x), 'float32')), // tfjs-core's own gradient
      };
    },
  });
  if (!fusedConvWorks()) return;
  tf.registerKernel({
    kernelName: BIAS_ADD_GRAD,
    backendName: 'tensorflow',
    kernelFunc: ({ inputs, backend }) => {
      const b = backend as unknown as NativeBackend;
      const attrs = [
        { name: 'T', type: b.binding.TF_ATTR_TYPE, value: b.binding.TF_FLOAT },
        { name: 'data_format', type: b.binding.TF_ATTR_STRING, value: 'NHWC' },
      ];
      return b.executeSingleOutput('BiasAddGrad', attrs, [(inputs as { dy: tf.TensorInfo }).dy]) as unknown as tf.TensorInfo;
    },
  });
  tf.registerKernel({
    kernelName: FUSED_CONV2D,
    backendName: 'tensorflow',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, filter, bias } = inputs as { x: tf.TensorInfo; filter: tf.TensorInfo; bias: tf.TensorInfo };
      return fusedConv2d(backend as unknown as NativeBackend, x, filter, bias, attrs as unknown as FusedConvAttrs);
    },
  });
  tf.registerGradient({
    kernelName: FUSED_CONV2D,
    inputsToSave: ['x', 'filter'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter, y] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
      const { strides, pad, relu } = attrs as unknown as FusedConvAttrs;
      const e = tf.engine();
      const d = relu ? (e.runKernel(RELU_GRAD, { dy: dy as tf.Tensor, x: y }) as tf.Tensor4D) : (dy as tf.Tensor4D);
      const conv = { strides, pad, dataFormat: 'NHWC' };
      return {
        x: () => e.runKernel('Conv2DBackpropInput', { dy: d, filter }, { ...conv, inputShape: x.shape }) as tf.Tensor,
        filter: () => e.runKernel('Conv2DBackpropFilter', { x, dy: d }, { ...conv, filterShape: filter.shape }) as tf.Tensor,
        bias: () => e.runKernel(BIAS_ADD_GRAD, { dy: d }) as tf.Tensor,
      };
    },
  });
  tf.registerKernel({
    kernelName: FUSED_MATMUL,
    backendName: 'tensorflow',
    kernelFunc: ({ inputs, backend }) => {
      const { a, b, bias } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo; bias: tf.TensorInfo };
      return fusedMatMul(backend as unknown as NativeBackend, a, b, bias);
    },
  });
  tf.registerGradient({
    kernelName: FUSED_MATMUL,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved) => {
      const [a, b] = saved as [tf.Tensor2D, tf.Tensor2D];
      const d = dy as tf.Tensor2D;
      return {
        a: () => tf.matMul(d, b, false, true), // [N, M] · [K, M]ᵀ
        b: () => tf.matMul(a, d, true, false), // [N, K]ᵀ · [N, M]
        bias: () => tf.engine().runKernel(BIAS_ADD_GRAD, { dy: d }) as tf.Tensor,
      };
    },
  });
}
