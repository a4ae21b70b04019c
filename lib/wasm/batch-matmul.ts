/**
 * BatchMatMul / _FusedMatMul for wasm that always reach XNNPACK.
 *
 * wasm's own kernel uses XNNPACK's fully-connected operator only for a single un-transposed
 * product (batch 1, transposeA = transposeB = false). Everything else, including BOTH products
 * in the gradient of a matMul (dA = dy·Bᵀ, dB = Aᵀ·dy), falls back to a scalar triple loop that
 * is 5-20x slower. Here the transposes are materialised with wasm's Transpose and batch
 * dimensions are folded into rows where that is exact (B not batched), so the product runs on
 * the fast path; truly batched×batched products still use the shipped loop.
 */
import * as tf from '@tensorflow/tfjs';
import { KernelScope, TensorInfo, withScope } from './ops';

/**
 * XNNPACK's fully-connected operator is cached by the weights' tensor id alone (not its
 * shape): the same buffer used as B with another [K, N] would reuse an operator built for the
 * wrong sizes. Remember the [K, N] each buffer was used with; on a conflict, use an alias.
 */
const weightsShape = new WeakMap<object, string>();

function weightsFor(s: KernelScope, b: TensorInfo, K: number, N: number): TensorInfo {
  const sig = `${K}x${N}`;
  const seen = weightsShape.get(b.dataId);
  if (seen === undefined) {
    weightsShape.set(b.dataId, sig);
    return s.reshape(b, [1, K, N]);
  }
  return seen === sig ? s.reshape(b, [1, K, N]) : s.alias(b, [1, K, N]);
}

interface Args {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

function swapLast2(shape: number[]): number[] {
  const p = shape.map((_, i) => i);
  const r = shape.length;
  p[r - 2] = r - 1;
  p[r - 1] = r - 2;
  return p;
}

function matMulImpl(kernelName: string, { inputs, backend, attrs }: Args): TensorInfo {
  const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
  const { transposeA, transposeB } = attrs as unknown as tf.BatchMatMulAttrs;
  const rest = { ...(attrs ?? {}) };
  const shippedDirect = (): TensorInfo =>
    withScope(backend, (s) => s.run(kernelName, inputs, rest));
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return shippedDirect();
  const rA = a.shape.length;
  const rB = b.shape.length;
  const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
  if (batchB !== 1) {
    // Batched right-hand side: only the shipped kernel handles it (broadcast included).
    return shippedDirect();
  }
  if (kernelName !== tf.BatchMatMul && batchA !== 1) return shippedDirect();
  const M = transposeA ? a.shape[rA - 1] : a.shape[rA - 2];
  const K = transposeA ? a.shape[rA - 2] : a.shape[rA - 1];
  const N = transposeB ? b.shape[rB - 2] : b.shape[rB - 1];
  const outShape = [
    ...tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2)),
    M,
    N,
  ];
  // Two ways onto the fast path (XNNPACK fully connected: out = a · W, W packed per call):
  //   1. a = A [M,K], W = B [K,N]                 (transposing A and/or B as needed)
  //   2. outᵀ = Bᵀ·Aᵀ: a = Bᵀ [N,K], W = Aᵀ [K,M], then transpose the small [N,M] result.
  // Packing W costs ~2x a transpose per element (measured), so with K large and M ≪ N (e.g.
  // codesᵀ·dy in a projection's gradient) the second way is several times cheaper.
  const cost1 = (transposeA ? M * K : 0) + (transposeB ? K * N : 0) + 2 * K * N;
  const cost2 = (transposeB ? 0 : K * N) + (transposeA ? 0 : M * K) + 2 * K * M + M * N;
  // (A plain un-transposed product keeps the shipped route: XNNPACK caches its packed weights
  // across calls while B lives, which serves repeated products with fixed weights.)
  const swap = kernelName === tf.BatchMatMul && batchA === 1 && (transposeA || transposeB) && cost2 < cost1;
  return withScope(backend, (s) => {
    if (swap) {
      // a = Bᵀ as [N, K]: B itself when transposeB, else its transpose.
      const bt = transposeB ? b : s.transpose(b, swapLast2(b.shape));
      // W = Aᵀ as [K, M]: A itself when transposeA, else its transpose.
      const at = transposeA ? a : s.transpose(a, swapLast2(a.shape));
      const outT = s.run(kernelName, { a: s.reshape(bt, [1, N, K]), b: weightsFor(s, at, K, M) }, { transposeA: false, transposeB: false });
      return s.reshape(s.transpose(s.reshape(outT, [N, M]), [1, 0]), outShape);
    }
    const a1 = transposeA ? s.transpose(a, swapLast2(a.shape)) : a;
    const b1 = transposeB ? s.transpose(b, swapLast2(b.shape)) : b;
    // Fold A's batch into rows: [batchA*M, K] @ [K, N] is exact because B is shared.
    const a2 = s.reshape(a1, [1, batchA * M, K]);
    const b2 = weightsFor(s, b1, K, N);
    const out = s.run(kernelName, { ...inputs, a: a2, b: b2 }, { ...rest, transposeA: false, transposeB: false });
    return s.reshape(out, outShape);
  });
}

export function batchMatMulKernel(args: Args): TensorInfo {
  return matMulImpl(tf.BatchMatMul, args);
}

export function fusedMatMulKernel(args: Args): TensorInfo {
  return matMulImpl(tf._FusedMatMul, args);
}

export const batchMatMulConfig: tf.KernelConfig = {
  kernelName: tf.BatchMatMul,
  backendName: 'wasm',
  kernelFunc: batchMatMulKernel as unknown as tf.KernelFunc,
};

export const fusedMatMulConfig: tf.KernelConfig = {
  kernelName: tf._FusedMatMul,
  backendName: 'wasm',
  kernelFunc: fusedMatMulKernel as unknown as tf.KernelFunc,
};
