/**
 * Options of the VectorQuantizer, declared once: each entry's check, default and doc comment.
 * The options type (VectorQuantizerOptions), the resolved type (ResolvedVQOptions), the
 * allowed names and the checks (all run before any tensor work) come from this table.
 */
import { MAX_CODEBOOK_SIZE, MAX_TENSOR_VALUES, OptionsOf, ResolvedOf, checkNumber, is, resolveOptions } from '../validate';

/** How a VectorQuantizer's codebook starts: uniform, normal, or k-means on the first batch. */
export type CodebookInit = 'uniform' | 'normal' | 'kmeans';
/** The distance a VectorQuantizer looks codes up with. */
export type CodebookDistance = 'euclidean' | 'cosine';
/** How the gradient crosses the quantizer: straight-through copy, or the rotation trick (rotation.ts). */
export type VQGradient = 'ste' | 'rotation';
/**
 * 'batch': −H(p̄), the batch-average entropy only (ginka-generator's entropy VQ).
 * 'sample-and-batch': mean_n H(p_n) − H(p̄), the standard form (MaskGIT / MAGVIT-v2 LFQ): each
 * sample's soft assignment sharp, the batch's average spread.
 */
export type EntropyForm = 'batch' | 'sample-and-batch';

/** Options of the EMA codebook update. */
export const EMA_OPTIONS = {
  /** Decay d of the moving averages, in [0, 1). Default 0.99. */
  decay: { check: (v: number, name: string): number => checkNumber(name, v, 0, 1, true), default: 0.99 },
  /** Laplace smoothing ε of the cluster sizes (≥ 0). Default 1e-5. */
  epsilon: { check: is.number(0), default: 1e-5 },
};
/** VectorQuantizer's `ema: { … }`: the codebook follows exponential moving averages instead of gradients. */
export type EmaOptions = OptionsOf<typeof EMA_OPTIONS>;

export const VQ_OPTIONS = {
  /** K, the number of codes (2 … 2^24: one code would quantize everything to it, and tfjs's oneHot needs depth ≥ 2). */
  codebookSize: { check: is.int(2, MAX_CODEBOOK_SIZE) },
  /** Length of each vector and code (≥ 1). */
  dim: { check: is.int(1) },
  /** β in loss = codebookWeight·codebookLoss + β·commitLoss + entropyWeight·entropyLoss (≥ 0). Default 0.25. */
  commitmentWeight: { check: is.number(0), default: 0.25 },
  /**
   * Weight of the codebook loss (≥ 0). Default 1. 0 drops it, as ginka-generator's entropy VQ
   * does (its codebook then learns from the entropy term alone).
   */
  codebookWeight: { check: is.number(0), default: 1 },
  /**
   * Weight of the soft-assignment entropy term (≥ 0), as in ginka-generator's VectorQuantizer
   * (github.com/unanmed/ginka-generator). Default 0 (reported, not trained).
   */
  entropyWeight: { check: is.number(0), default: 0 },
  /** Which entropy term entropyLoss is (see EntropyForm). Default 'batch'. */
  entropyForm: { check: is.oneOf<EntropyForm>('batch', 'sample-and-batch'), default: 'batch' as EntropyForm },
  /** Temperature T (> 0) of softmax(−d / T) in the entropy term. Default 1. */
  entropyTemperature: { check: is.positive, default: 1 },
  /** 'uniform': U(−1/K, 1/K) as in DL-Demos and ginka-generator; 'normal': N(0, 1); 'kmeans': k-means on the first batch. Default 'uniform'. */
  init: { check: is.oneOf<CodebookInit>('uniform', 'normal', 'kmeans'), default: 'uniform' as CodebookInit },
  /** 'cosine' l2-normalises vectors and codes before the squared distance. Default 'euclidean'. */
  distance: { check: is.oneOf<CodebookDistance>('euclidean', 'cosine'), default: 'euclidean' as CodebookDistance },
  /**
   * 'ste': the straight-through estimator (gradient at z_q copied to z); 'rotation': the rotation
   * trick (Fifty et al. 2024), the gradient passed through sg(λR) with λR e = z_q. The forward
   * values are identical. Default 'ste'.
   */
  gradient: { check: is.oneOf<VQGradient>('ste', 'rotation'), default: 'ste' as VQGradient },
  /** Train the codebook by exponential moving averages instead of gradients (`{}` or `true` for the defaults). Default off. */
  ema: {
    check: (v: EmaOptions | boolean, name: string): { decay: number; epsilon: number } | null => {
      if (v === false) return null;
      return resolveOptions(name, EMA_OPTIONS, v === true ? {} : v, '.');
    },
    default: null as { decay: number; epsilon: number } | null,
  },
  /**
   * Re-seed codes whose EMA usage count (vectors per batch, averaged with ema.decay, or 0.99
   * without ema) falls below this (> 0) from random vectors of the current batch (Jukebox).
   * A re-seeded code starts at exactly this count, so unless it wins vectors in the next batch
   * its count decays below the threshold and it is re-seeded again — as in Jukebox, where an
   * unused code is re-drawn every step until it is used. When more codes are dead than the batch
   * has rows, rows are reused. Runs in training-mode forwards. Default off (null).
   */
  deadCodeThreshold: { check: is.positive as (v: number, name: string) => number | null, default: null as number | null },
  /** Random seed for init, k-means and restarts; the same seed gives the same codebook and indices. */
  seed: { check: is.seed, optional: true as const },
  /** Check each input to forward for NaN/Infinity (one reduction and one read). Default true. */
  checkFinite: { check: is.boolean, default: true },
  /** Batches in the window of `stats` (windowed perplexity, dead-code count). Default 100. */
  statsWindow: { check: is.int(1), default: 100 },
};

/** Options of new VectorQuantizer(options) (see VQ_OPTIONS). */
export type VectorQuantizerOptions = OptionsOf<typeof VQ_OPTIONS>;
export type ResolvedVQOptions = ResolvedOf<typeof VQ_OPTIONS>;

/** Check every option and fill in the defaults; throws naming the option at fault. */
export function resolveVQOptions(opts: VectorQuantizerOptions): ResolvedVQOptions {
  const o = resolveOptions('VectorQuantizer', VQ_OPTIONS, opts);
  if (o.codebookSize * o.dim > MAX_TENSOR_VALUES) {
    throw new Error(`VectorQuantizer: codebookSize × dim must be at most ${MAX_TENSOR_VALUES} (2^28 values), got ${o.codebookSize} × ${o.dim}`);
  }
  return o;
}
