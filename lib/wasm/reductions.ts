/**
 * Identity for wasm: tensor.clone(), and the value of every customGrad / straight-through
 * estimator, runs Identity, and the shipped wasm kernel copies the whole buffer. Tensors are
 * immutable, so like the cpu and webgl backends we share it (one more reference, exactly as
 * wasm's own Reshape does). String tensors still go to the shipped kernel.
 *
 * (Tried and dropped: Sum over leading axes — every bias gradient — as ones·x on XNNPACK's
 * fully-connected operator. XNNPACK repacks x as weights on every call, which costs as much as
 * the transpose the shipped Sum does.)
 */
import * as tf from '@tensorflow/tfjs';
import { asWasm, TensorInfo, withScope } from './ops';

interface Args {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

export function identityKernel({ inputs, backend }: Args): TensorInfo {
  const { x } = inputs as { x: TensorInfo };
  const b = asWasm(backend);
  if (x.dtype === 'string') return withScope(backend, (s) => s.run(tf.Identity, inputs));
  b.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
}

export const identityConfig: tf.KernelConfig = {
  kernelName: tf.Identity,
  backendName: 'wasm',
  kernelFunc: identityKernel as unknown as tf.KernelFunc,
};
