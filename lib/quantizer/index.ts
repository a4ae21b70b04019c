/**
 * Quantizers: VectorQuantizer (VQ-VAE, with EMA / restarts / cosine / k-means / rotation trick),
 * FSQ, ResidualVQ (residual VQ or FSQ), LFQ (lookup-free) and SimVQ.
 */
export type { Quantizer, QuantizerOutput, QuantizerConfig, CodebookHealth } from './protocol';
export { FORWARD_OPTIONS, checkForwardInput, maxInputMagnitude } from './checks';
export type { VQForwardOptions } from './checks';
export { VectorQuantizer } from './vq';
export type { VQOutput } from './vq';
export { FSQ, FSQ_OPTIONS } from './fsq';
export type { FSQOptions, FSQOutput, FSQBound } from './fsq';
export { VQ_OPTIONS, EMA_OPTIONS } from './options';
export type { VectorQuantizerOptions, EmaOptions, CodebookInit, CodebookDistance, VQGradient, EntropyForm, ResolvedVQOptions } from './options';
export { ResidualVQ, RESIDUAL_VQ_OPTIONS, resolveResidualOptions } from './residual';
export { checkMemory, checkVQMemory, setNativeMemoryProbe, WASM_HEAP_LIMIT } from './memory';
export type { ResidualVQOptions, ResidualVQOutput } from './residual';
export { LFQ, LFQ_OPTIONS } from './lfq';
export type { LFQOptions, LFQOutput } from './lfq';
export { SimVQ, SIMVQ_OPTIONS } from './simvq';
export type { SimVQOptions, SimVQOutput } from './simvq';
export { rotateTo, rotationTransform } from './rotation';
export { CodebookStats, perplexityOf } from './stats';
export type { BatchStats } from './stats';
export { CodebookEma } from './ema';
export { stopGradient, straightThrough, roundSte, lookupRows } from './ste';
export { squaredDistances, l2Normalize } from './distance';
export { kmeans, KMEANS_OPTIONS } from './kmeans';
export type { KMeansOptions } from './kmeans';
export { trainQuantizer, TRAIN_QUANTIZER_OPTIONS } from './train';
export type { TrainQuantizerOptions, TrainQuantizerResult, TrainStepInfo } from './train';
export { LinearAutoencoder } from './autoencoder';
export { evaluateQuantizer, EVALUATE_QUANTIZER_OPTIONS } from './evaluate';
export type { EvaluateQuantizerOptions, QuantizerScores } from './evaluate';
export { checkQuantizer } from './checks';
export { FactorizedVQ, FACTORIZED_VQ_OPTIONS } from './factorized';
export type { FactorizedVQOptions } from './factorized';
