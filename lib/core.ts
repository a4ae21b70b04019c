/**
 * vq-notebooks/core: the part of the library that runs wherever TensorFlow.js runs (a page, a
 * worker, Node) — quantizers, the VQ-VAE and the PixelCNN prior, their training loop, display
 * data, backend selection among wasm, webgl and cpu. It imports nothing from `node:*` or a
 * Node-only package, transitively (test/core-bundle.test.ts bundles it for the browser).
 * The package's main entry (lib/index.ts, `vq.*` in the notebooks) is this plus what needs Node.
 */
import * as tf from '@tensorflow/tfjs';

/** TensorFlow.js itself, the instance the library computes with: build tensors with it. */
export { tf };

// Backends
export { initBackend, backendInfo } from './backend-core';
export type { BackendChoice, BackendAttempt, BackendInfo } from './backend-core';
export { wasmThreadsInUse } from './wasm/index';

// Quantizers
export {
  VectorQuantizer, FSQ, ResidualVQ, LFQ, SimVQ, FactorizedVQ, trainQuantizer, kmeans, LinearAutoencoder, evaluateQuantizer,
  perplexityOf, squaredDistances, stopGradient, straightThrough, roundSte,
} from './quantizer/index';
export type {
  Quantizer, QuantizerOutput, QuantizerConfig, CodebookHealth, VQForwardOptions, VQOutput,
  VectorQuantizerOptions, EmaOptions, CodebookInit, CodebookDistance, VQGradient, EntropyForm,
  FSQOptions, FSQOutput, FSQBound, ResidualVQOptions, ResidualVQOutput, LFQOptions, LFQOutput,
  SimVQOptions, SimVQOutput, FactorizedVQOptions, KMeansOptions,
  TrainQuantizerOptions, TrainQuantizerResult, TrainStepInfo, EvaluateQuantizerOptions, QuantizerScores,
} from './quantizer/index';
export { usageOf } from './metrics';

// The VQ-VAE and the PixelCNN prior
export { VQVAE, VQVAETrainer, evaluateVQVAE, encodeDataset, bottleneckVariables } from './vqvae/index';
export type { VQVAEOptions, VQVAEConfig, VQVAEForward, VQVAELoss, Bottleneck, BottleneckOutput, StepMetrics } from './vqvae/index';
export { GatedPixelCNN, PixelCNNTrainer } from './prior/index';
export type { PixelCNNOptions, PixelCNNConfig, PixelCNNTrainerOptions, PriorStepMetrics } from './prior/index';

// Training
export { TrainerBase, TrainingDivergedError } from './train/index';
export type { TrainProgress, TrainerOptions, FitOptions, StepResult } from './train/index';
export { InterruptedError, signalInterrupt } from './interrupt';
export { Rng, mulberry32 } from './rng';

// Display
export { plot, figure, showFigure, showTable, showHtml, showMarkdown, displayBundle, Progress, formatDuration, elapsed, fmt } from './display/index';
export type { Figure, Trace, Layout, FigureOptions, MimeBundle, Cell, ProgressFields, ProgressOptions } from './display/index';
