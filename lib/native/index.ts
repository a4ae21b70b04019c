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
 */
import * as tf from '@tensorflow/tfjs';

type TFEOpAttr = { name: string; type: number; value: unknown };
interface NativeBackend {
  binding: { TF_ATTR_TYPE: number; TF_FLOAT: number };
  executeSingleOutput(name: string, attrs: TFEOpAttr[], inputs: tf.TensorInfo[]): tf.Tensor;
}

const RELU_GRAD = 'VqReluGrad';
let registered = false;

/** Register the native kernels and gradients above (idempotent). */
export function registerNativeKernels(): void {
  if (registered) return;
  registered = true;
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
}
