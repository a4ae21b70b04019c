/**
 * vq-notebooks: vector quantization in TensorFlow.js — what notebooks see as `vq.*`, and the
 * package's main entry (Node). It is lib/core.ts (what runs wherever TensorFlow.js runs) plus what
 * needs Node: the native and multi-threaded wasm backends, MNIST, checkpoint files, PNG images
 * and the notebooks' helpers (lib/notebook). test/public-api.test.ts lists every public name;
 * internals and test hooks are lib/internal.ts's.
 *
 * Layers: nn/, train/ (the training loop), data/, checkpoint/ and display/ at the bottom;
 * quantizer/ on nn/ and train/; vqvae/ takes any quantizer through quantizer/protocol.ts (its
 * Bottleneck), and vqvae/ and prior/ train on train/; notebook/ combines them for the notebooks
 * (names under data/, progress, logs). node/ holds the Node side of backend, wasm and display.
 * test/layout.test.ts checks it.
 */
import './backend'; // initBackend's Node host: tfjs-node(-gpu), wasm on several threads, $VQ_BACKEND
import './node/tslab'; // displays reach the tslab kernel

export * from './core';
export { setWasmThreads } from './node/wasm-threads';
export type { MnistData, MnistSplit, MnistOptions } from './data/index';
export type { Checkpointable } from './checkpoint/index';
export { imageGridPng, showPng } from './node/png';
export type { GridOptions } from './node/png';
export * from './notebook/index';
