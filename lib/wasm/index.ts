/**
 * Extra kernels that make training possible (and fast) on the wasm backend.
 *
 * Browser-safe; its threaded build under Node is lib/node/wasm-threads.ts.
 *
 * Registered for 'wasm' by `registerWasmKernels()` (initBackend calls it when wasm is chosen):
 *  - Conv2DBackpropFilter  (missing in tfjs-backend-wasm 4.22: no conv layer could train)
 *  - Conv2DBackpropInput   (replaces wasm's scalar-loop version; also conv2dTranspose's forward)
 *  - BatchMatMul, _FusedMatMul (replace: the shipped ones leave XNNPACK for any transposed or
 *                            batched product, i.e. for both products of every matMul gradient)
 *  - UnsortedSegmentSum    (missing: the gradient of tf.gather)
 *  - Sum, Mean             (replace, for leading axes: the shipped ones transpose first)
 *  - Identity              (replace: the shipped one copies the buffer on every clone())
 * and, for every backend, a Conv2D gradient that also handles dilations > 1 (conv2d-grad.ts).
 * Each is composed of kernels wasm runs natively (XNNPACK convolution / fully-connected,
 * Transpose, Slice) or is a single pass over the wasm heap; all intermediates are freed.
 */
import * as tf from '@tensorflow/tfjs';
import * as wasmPkg from '@tensorflow/tfjs-backend-wasm';
import { captureShipped } from './ops';
import { conv2DBackpropFilterConfig } from './conv2d-backprop-filter';
import { conv2DBackpropInputConfig } from './conv2d-backprop-input';
import { batchMatMulConfig, fusedMatMulConfig } from './batch-matmul';
import { unsortedSegmentSumConfig } from './unsorted-segment-sum';
import { identityConfig, meanConfig, sumConfig } from './reductions';

import { registerDilatedConv2DGradient } from './conv2d-grad';

export { registerDilatedConv2DGradient, dilateFilter } from './conv2d-grad';
export { conv2DBackpropFilterKernel } from './conv2d-backprop-filter';
export { conv2DBackpropInputKernel } from './conv2d-backprop-input';

/** The kernels registerWasmKernels installs, and why: one entry per kernel. */
const KERNELS: ReadonlyArray<{ config: tf.KernelConfig; replaces: boolean; why: string }> = [
  { config: conv2DBackpropFilterConfig, replaces: false, why: 'missing in wasm: conv filter gradient' },
  { config: conv2DBackpropInputConfig, replaces: true, why: 'wasm\'s is a scalar loop: conv input gradient / conv2dTranspose' },
  { config: batchMatMulConfig, replaces: true, why: 'wasm leaves XNNPACK for transposed/batched products (matMul gradients)' },
  { config: fusedMatMulConfig, replaces: true, why: 'same as BatchMatMul, for fused (dense-layer) products' },
  { config: unsortedSegmentSumConfig, replaces: false, why: 'missing in wasm: gradient of gather' },
  { config: sumConfig, replaces: true, why: 'wasm transposes the whole tensor to sum leading axes (every bias gradient)' },
  { config: meanConfig, replaces: true, why: 'same as Sum (batch means of [N, K] tensors)' },
  { config: identityConfig, replaces: true, why: 'wasm copies on clone(); tensors are immutable, so share the buffer' },
];

/** The kernels registerWasmKernels installs (by kernel name), and why. */
export const WASM_KERNELS: ReadonlyArray<{ name: string; replaces: boolean; why: string }> =
  KERNELS.map(({ config, replaces, why }) => ({ name: config.kernelName, replaces, why }));

let registered = false;

/**
 * Register the training kernels wasm lacks (and the faster replacements). Safe to call more
 * than once, and before or after the wasm backend is initialised.
 */
export function registerWasmKernels(): void {
  registerDilatedConv2DGradient();
  if (registered) return;
  for (const { config: cfg } of KERNELS) {
    const shipped = captureShipped(cfg.kernelName);
    if (shipped) tf.unregisterKernel(cfg.kernelName, 'wasm');
    // Keep the shipped setup/dispose hooks: they bind the shipped kernel (which ours may call)
    // to each new wasm backend instance.
    tf.registerKernel({
      ...cfg,
      setupFunc: shipped?.setupFunc,
      disposeFunc: shipped?.disposeFunc,
    });
  }
  registered = true;
}

/** Threads XNNPACK actually runs with (after the wasm backend is initialised), else null. */
export function wasmThreadsInUse(): number | null {
  try {
    return wasmPkg.getThreadsCount();
  } catch {
    return null;
  }
}
