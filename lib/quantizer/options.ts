/** Options of the quantizers, with their defaults and checks (all run before any tensor work). */
import { checkInt, checkNumber, checkOneOf, checkOptionNames } from './validate';

export type CodebookInit = 'uniform' | 'normal' | 'kmeans';
export type CodebookDistance = 'euclidean' | 'cosine';

export interface EmaOptions {
  /** Decay d of the moving averages, in [0, 1). Default 0.99. */
  decay?: number;
  /** Laplace smoothing ε of the cluster sizes. Default 1e-5. */
  epsilon?: number;
}

export interface VectorQuantizerOptions {
  /** K, the number of codes (≥ 1). */
  codebookSize: number;
  /** Length of each vector and code (≥ 1). */
  dim: number;
  /** β in loss = codebookLoss + β·commitLoss + entropyWeight·entropyLoss. Default 0.25. */
  commitmentWeight?: number;
  /** Weight of the soft-assignment entropy term (seed 000). Default 0 (reported, not trained). */
  entropyWeight?: number;
  /** Temperature T of softmax(−d / T) in the entropy term. Default 1. */
  entropyTemperature?: number;
  /** 'uniform': U(−1/K, 1/K) as in the seeds; 'normal': N(0, 1); 'kmeans': k-means on the first batch. Default 'uniform'. */
  init?: CodebookInit;
  /** 'cosine' l2-normalises vectors and codes before the squared distance. Default 'euclidean'. */
  distance?: CodebookDistance;
  /** Train the codebook by exponential moving averages instead of gradients (`{}` or `true` for the defaults). */
  ema?: EmaOptions | boolean;
  /**
   * Re-seed codes whose EMA usage count (vectors per batch, averaged with ema.decay, or 0.99
   * without ema) falls below this (> 0) from random vectors of the current batch (Jukebox).
   * A re-seeded code starts at exactly this count, so unless it wins vectors in the next batch
   * its count decays below the threshold and it is re-seeded again — as in Jukebox, where an
   * unused code is re-drawn every step until it is used. When more codes are dead than the batch
   * has rows, rows are reused. Runs in training-mode forwards.
   */
  deadCodeThreshold?: number;
  /** Seed for init, k-means and restarts; the same seed gives the same codebook and indices. */
  seed?: number;
  /** Check each input to forward for NaN/Infinity (one reduction and one read). Default true. */
  checkFinite?: boolean;
  /** Batches in the window of `stats` (windowed perplexity, dead-code count). Default 100. */
  statsWindow?: number;
}

export interface ResolvedVQOptions {
  codebookSize: number;
  dim: number;
  commitmentWeight: number;
  entropyWeight: number;
  entropyTemperature: number;
  init: CodebookInit;
  distance: CodebookDistance;
  ema: { decay: number; epsilon: number } | null;
  deadCodeThreshold: number | null;
  seed: number | undefined;
  checkFinite: boolean;
  statsWindow: number;
}

const VQ_KEYS = [
  'codebookSize', 'dim', 'commitmentWeight', 'entropyWeight', 'entropyTemperature', 'init',
  'distance', 'ema', 'deadCodeThreshold', 'seed', 'checkFinite', 'statsWindow',
] as const;

/** Check every option and fill in the defaults; throws naming the option at fault. */
export function resolveVQOptions(opts: VectorQuantizerOptions): ResolvedVQOptions {
  const o = 'VectorQuantizer';
  checkOptionNames(o, opts, VQ_KEYS);
  const codebookSize = checkInt(`${o}: codebookSize`, opts.codebookSize, 1);
  const dim = checkInt(`${o}: dim`, opts.dim, 1);
  let ema: ResolvedVQOptions['ema'] = null;
  if (opts.ema !== undefined && opts.ema !== false) {
    const e = opts.ema === true ? {} : opts.ema;
    checkOptionNames(`${o}: option 'ema'`, e, ['decay', 'epsilon']);
    ema = {
      decay: checkNumber(`${o}: ema.decay`, e.decay ?? 0.99, 0, 1, true),
      epsilon: checkNumber(`${o}: ema.epsilon`, e.epsilon ?? 1e-5, 0),
    };
  }
  const threshold = opts.deadCodeThreshold;
  if (threshold !== undefined && !(typeof threshold === 'number' && Number.isFinite(threshold) && threshold > 0)) {
    throw new Error(`${o}: deadCodeThreshold must be a finite number > 0, got ${String(threshold)}`);
  }
  const temperature = checkNumber(`${o}: entropyTemperature`, opts.entropyTemperature ?? 1, 0);
  if (temperature === 0) throw new Error(`${o}: entropyTemperature must be > 0, got 0`);
  if (opts.seed !== undefined) checkInt(`${o}: seed`, opts.seed, -(2 ** 53));
  if (opts.checkFinite !== undefined && typeof opts.checkFinite !== 'boolean') {
    throw new Error(`${o}: checkFinite must be a boolean, got ${String(opts.checkFinite)}`);
  }
  return {
    codebookSize,
    dim,
    commitmentWeight: checkNumber(`${o}: commitmentWeight`, opts.commitmentWeight ?? 0.25, 0),
    entropyWeight: checkNumber(`${o}: entropyWeight`, opts.entropyWeight ?? 0, 0),
    entropyTemperature: temperature,
    init: checkOneOf(`${o}: init`, opts.init ?? 'uniform', ['uniform', 'normal', 'kmeans'] as const),
    distance: checkOneOf(`${o}: distance`, opts.distance ?? 'euclidean', ['euclidean', 'cosine'] as const),
    ema,
    deadCodeThreshold: threshold ?? null,
    seed: opts.seed,
    checkFinite: opts.checkFinite ?? true,
    statsWindow: checkInt(`${o}: statsWindow`, opts.statsWindow ?? 100, 1),
  };
}
