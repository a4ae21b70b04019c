/**
 * Identity, Sum and Mean for wasm, replacing shipped kernels that move whole tensors needlessly.
 *
 * - Identity: tensor.clone(), and the value of every customGrad / straight-through estimator,
 *   runs Identity, and the shipped wasm kernel copies the whole buffer. Tensors are immutable,
 *   so like the cpu and webgl backends we share it (one more reference, exactly as wasm's own
 *   Reshape does). String tensors still go to the shipped kernel.
 * - Sum / Mean over leading axes (every bias gradient: dy [B,H,W,C] → [C]; batch means of
 *   [N,K] tensors): the shipped kernels first transpose the whole tensor so that the reduced
 *   axes are innermost, which for power-of-two row lengths is a cache-hostile pass costing
 *   5-10x the reduction. Here: one sequential pass adding rows into a float64 accumulator.
 *   (Tried and dropped: ones·x on XNNPACK's fully-connected operator: it repacks x as weights
 *   on every call, which costs as much as the transpose.)
 * Other reductions go to the shipped kernels.
 */
import * as tf from '@tensorflow/tfjs';
import { asWasm, heapF32, TensorInfo, withScope } from './ops';

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

/** Rows summed at least, for the row-accumulation path (below it the shipped kernel is fine). */
const MIN_ROWS = 8;

/** `${kernel}` over a leading prefix of axes as a row accumulation, or null when not applicable. */
function leadingReduce(kind: 'sum' | 'mean', { inputs, backend, attrs }: Args): TensorInfo | null {
  const { x } = inputs as { x: TensorInfo };
  const { axis, keepDims } = attrs as unknown as tf.SumAttrs;
  if (x.dtype !== 'float32') return null;
  const rank = x.shape.length;
  const axes = tf.util.parseAxisParam(axis, x.shape).slice().sort((a, b) => a - b);
  const r = axes.length;
  if (r === 0 || r >= rank || axes.some((a, i) => a !== i)) return null;
  const R = tf.util.sizeFromShape(x.shape.slice(0, r));
  const C = tf.util.sizeFromShape(x.shape.slice(r));
  if (R < MIN_ROWS || C === 0) return null;
  const outShape = keepDims ? [...x.shape.slice(0, r).map(() => 1), ...x.shape.slice(r)] : x.shape.slice(r);
  return withScope(backend, (s) => {
    const out = s.make(outShape);
    const X = heapF32(s.backend, x);
    const acc = new Float64Array(C);
    // Four rows per pass over the accumulator (measured 2-4x faster than one).
    let i = 0;
    let off = 0;
    const C2 = 2 * C;
    const C3 = 3 * C;
    for (; i + 4 <= R; i += 4, off += 4 * C) {
      for (let c = 0; c < C; c++) acc[c] += X[off + c] + X[off + C + c] + X[off + C2 + c] + X[off + C3 + c];
    }
    for (; i < R; i++, off += C) {
      for (let c = 0; c < C; c++) acc[c] += X[off + c];
    }
    const O = heapF32(s.backend, out);
    if (kind === 'mean') for (let c = 0; c < C; c++) O[c] = acc[c] / R;
    else O.set(acc);
    return out;
  });
}

export function sumKernel(args: Args): TensorInfo {
  return leadingReduce('sum', args) ?? withScope(args.backend, (s) => s.run(tf.Sum, args.inputs, args.attrs));
}

export function meanKernel(args: Args): TensorInfo {
  return leadingReduce('mean', args) ?? withScope(args.backend, (s) => s.run(tf.Mean, args.inputs, args.attrs));
}

export const sumConfig: tf.KernelConfig = {
  kernelName: tf.Sum,
  backendName: 'wasm',
  kernelFunc: sumKernel as unknown as tf.KernelFunc,
};

export const meanConfig: tf.KernelConfig = {
  kernelName: tf.Mean,
  backendName: 'wasm',
  kernelFunc: meanKernel as unknown as tf.KernelFunc,
};

export const identityConfig: tf.KernelConfig = {
  kernelName: tf.Identity,
  backendName: 'wasm',
  kernelFunc: identityKernel as unknown as tf.KernelFunc,
};
