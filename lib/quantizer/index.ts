/** Quantizers: VectorQuantizer (VQ-VAE, with EMA / restarts / cosine / k-means) and FSQ. */
export { VectorQuantizer, FORWARD_OPTIONS } from './vq';
export type { VQOutput, VQForwardOptions } from './vq';
export { FSQ, FSQ_OPTIONS } from './fsq';
export type { FSQOptions, FSQOutput } from './fsq';
export { VQ_OPTIONS, EMA_OPTIONS } from './options';
export type { VectorQuantizerOptions, EmaOptions, CodebookInit, CodebookDistance, ResolvedVQOptions } from './options';
export { CodebookStats, perplexityOf } from './stats';
export type { BatchStats } from './stats';
export { CodebookEma } from './ema';
export { stopGradient, straightThrough, roundSte, lookupRows } from './ste';
export { squaredDistances, l2Normalize } from './distance';
export { kmeans, KMEANS_OPTIONS } from './kmeans';
export type { KMeansOptions } from './kmeans';
