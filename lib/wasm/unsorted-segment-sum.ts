/**
 * UnsortedSegmentSum for wasm (missing in tfjs-backend-wasm 4.22). It is the gradient of
 * `tf.gather`, so without it a gather from a trainable table (a codebook lookup by index,
 * an embedding) cannot be trained on wasm.
 *
 *   out[k, ...] = sum_{i : ids[i] == k} x[i, ...]      (ids outside [0, numSegments) dropped)
 *
 * A single pass over x on the JS side, reading and writing the wasm heap directly.
 */
import * as tf from '@tensorflow/tfjs';
import { heapF32, heapI32, TensorInfo, withScope } from './ops';

interface Args {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

export function unsortedSegmentSumKernel({ inputs, backend, attrs }: Args): TensorInfo {
  const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const { numSegments } = attrs as unknown as tf.UnsortedSegmentSumAttrs;
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new Error(`UnsortedSegmentSum(wasm): dtype ${x.dtype} is not supported`);
  }
  if (segmentIds.dtype !== 'int32') {
    throw new Error('UnsortedSegmentSum(wasm): segmentIds must be int32');
  }
  const idRank = segmentIds.shape.length;
  for (let i = 0; i < idRank; i++) {
    if (segmentIds.shape[i] !== x.shape[i]) {
      throw new Error(`UnsortedSegmentSum(wasm): segmentIds shape ${segmentIds.shape} is not a prefix of x shape ${x.shape}`);
    }
  }
  const innerShape = x.shape.slice(idRank);
  const inner = tf.util.sizeFromShape(innerShape);
  const n = tf.util.sizeFromShape(segmentIds.shape);
  return withScope(backend, (s) => {
    const out = s.make([numSegments, ...innerShape], x.dtype);
    const ids = heapI32(s.backend, segmentIds);
    // One loop for both dtypes: only the heap view differs.
    const view = x.dtype === 'float32' ? heapF32 : heapI32;
    const X = view(s.backend, x);
    const O = view(s.backend, out);
    O.fill(0);
    for (let i = 0; i < n; i++) {
      const k = ids[i];
      if (k < 0 || k >= numSegments) continue;
      const src = i * inner;
      const dst = k * inner;
      for (let j = 0; j < inner; j++) O[dst + j] += X[src + j];
    }
    return out;
  });
}

export const unsortedSegmentSumConfig: tf.KernelConfig = {
  kernelName: tf.UnsortedSegmentSum,
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSumKernel as unknown as tf.KernelFunc,
};
