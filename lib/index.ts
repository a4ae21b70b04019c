/**
 * vq-notebooks: vector quantization in TensorFlow.js.
 * Re-exports the `tf` namespace it uses so that callers build tensors on the same engine.
 */
import * as tf from '@tensorflow/tfjs';
export { tf };
export * from './backend';
export * from './quantizer/index';
export * from './vqvae/index';
export * from './display/index';
export * from './claims';
export { Rng, mulberry32 } from './rng';
export { setWasmThreads, requestedWasmThreads, wasmThreadsChosen, wasmThreadsInUse, registerWasmKernels, WASM_KERNELS } from './wasm/index';
