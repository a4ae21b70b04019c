/**
 * Finite Scalar Quantization (Mentzer et al. 2023, "Finite Scalar Quantization: VQ-VAE Made
 * Simple"), following lucidrains' FSQ (github.com/lucidrains/vector-quantize-pytorch): each of d channels is bounded to L_i
 * levels and rounded; the codebook is implicit, ∏ L_i codes, and nothing is learned except
 * the optional projections in and out.
 */
import * as tf from '@tensorflow/tfjs';
import { perplexityAndUsage } from './distance';
import { Rng } from '../rng';
import { CodebookStats } from './stats';
import { roundSte } from './ste';
import { checkForwardInput, VQForwardOptions } from './checks';
import type { Quantizer, QuantizerConfig } from './protocol';
import type { LinearWeights } from '../nn/layers';
import { Projections } from './projections';
import {
  MAX_CODEBOOK_SIZE, MAX_TENSOR_VALUES, OptionsOf, ResolvedOf, assertAlive, assertBackend, checkIndices, checkVectors, describe, is,
  resolveOptions,
} from '../validate';

/**
 * 'paper': h·tanh(z + s) − o, then round (Mentzer et al. 2023 and its reference code): odd L gives
 * −⌊L/2⌋ … ⌊L/2⌋, even L one more level below zero than above. With L = 2 the lower level needs
 * z < −atanh(0.5 / 0.5005) ≈ −3.8, so a 2-level channel is stuck at 0 on ordinary inputs; the
 * constructor refuses L = 2 under this bound.
 * 'symmetric': round(((L − 1)/2)·tanh(z) + (L − 1)/2) − (L − 1)/2, divided by (L − 1)/2: L levels
 * spread symmetrically over [−1, 1] (−1, −1/3, 1/3, 1 for L = 4; ±1 for L = 2, split at z = 0), the
 * symmetry-preserving bound of arXiv 2411.19842 §3.2. For odd L it differs from 'paper' only by ε.
 */
export type FSQBound = 'paper' | 'symmetric';

/**
 * Levels: a non-empty array of integers ≥ 2 whose product (the codebook size) is at most 2^24.
 * (A 2 is refused later under bound 'paper'; the message names both rules at once.)
 */
function checkLevels(v: number[], name: string): number[] {
  if (!Array.isArray(v) || v.length === 0 || !v.every((l) => Number.isInteger(l) && l >= 2)) {
    throw new Error(`${name} must be a non-empty array of integers >= 3, or >= 2 with bound: 'symmetric' ` +
      `(2 levels are stuck at one level under the paper's bound), got ${describe(v)}`);
  }
  const size = v.reduce((a, b) => a * b, 1);
  if (size > MAX_CODEBOOK_SIZE) {
    throw new Error(`${name} must give at most ${MAX_CODEBOOK_SIZE} codes (2^24), got ${v.join(' × ')} = ${size}`);
  }
  return [...v];
}

export const FSQ_OPTIONS = {
  /** Levels L_i per channel, each an integer ≥ 3, or ≥ 2 under bound 'symmetric', at most 2^24 codes in all, e.g. FSQ.levelsFor(1024) = [8, 5, 5, 5]. */
  levels: { check: checkLevels },
  /** How a channel is bounded before rounding (see FSQBound). Default 'paper'. */
  bound: { check: is.oneOf<FSQBound>('paper', 'symmetric'), default: 'paper' as FSQBound },
  /** Input/output width; when ≠ levels.length·numCodebooks, learned linear projections map in and out. Default levels.length·numCodebooks. */
  dim: { check: is.int(1), optional: true as const },
  /** Independent FSQ groups per vector (vector-quantize-pytorch's `num_codebooks`). Default 1. */
  numCodebooks: { check: is.int(1), default: 1 },
  /** Random seed of the projections' init. */
  seed: { check: is.seed, optional: true as const },
  /** Check each input to forward for NaN/Infinity. Default true. */
  checkFinite: { check: is.boolean, default: true },
  /** Batches in the window of `stats`. Default 100. */
  statsWindow: { check: is.int(1), default: 100 },
};
/** Options of new FSQ(options) (see FSQ_OPTIONS). */
export type FSQOptions = OptionsOf<typeof FSQ_OPTIONS>;

/** A type alias so that it is a tf.TensorContainer (tf.dispose(out), tf.tidy(() => fsq.forward(z))). */
export type FSQOutput = {
  /** Codes (projected out when dim ≠ levels·numCodebooks), straight-through gradient.   [..., dim] */
  quantized: tf.Tensor;
  /** int32 code indices: [...] when numCodebooks = 1, else [..., numCodebooks]. */
  indices: tf.Tensor;
  /** The codes in [−1, 1] before the output projection.   [..., levels.length·numCodebooks] */
  codes: tf.Tensor;
  /** 0: FSQ adds no loss of its own (the protocol's auxiliary loss).   [] */
  loss: tf.Scalar;
  /** exp(−Σ p log p) of this batch's code frequencies (all groups pooled).   [] */
  perplexity: tf.Scalar;
  /** Fraction of the codebookSize codes used in this batch.   [] */
  usage: tf.Scalar;
};

/** Mentzer et al. 2023, Table 1 (levels recommended for a target codebook size). */
const RECOMMENDED: Record<number, number[]> = {
  256: [8, 6, 5], 1024: [8, 5, 5, 5], 4096: [7, 5, 5, 5, 5], 16384: [8, 8, 8, 6, 5], 65536: [8, 8, 8, 5, 5, 5],
};

/** Finite scalar quantization (Mentzer et al. 2023): each dimension bounded and rounded to a few levels; an implicit grid codebook, nothing to learn. */
export class FSQ implements Quantizer<FSQOutput> {
  /** d = levels.length, channels per group. */
  readonly codebookDim: number;
  /** levels.length · numCodebooks. */
  readonly effectiveDim: number;
  /** Input/output width: options.dim, or levels.length·numCodebooks when left out. */
  readonly dim: number;
  /** ∏ L_i. */
  readonly codebookSize: number;
  /** cumprod([1, L_0, L_1, ...]) without its last entry: the mixed-radix place values. */
  readonly basis: readonly number[];
  private readonly proj: Projections;
  readonly stats: CodebookStats;
  /** The options as given, checked, defaults filled in: the one place the class reads them from. */
  readonly options: ResolvedOf<typeof FSQ_OPTIONS>;
  /** Check inputs to forward for NaN/Infinity (switch off for speed). */
  checkFinite: boolean;
  private disposed = false;

  /**
   * Levels for a target codebook size. 2^8, 2^10, 2^12, 2^14 and 2^16: the paper's (Mentzer
   * et al. 2023, Table 1). Below 2^8 the paper gives none; for 2^1 … 2^7 this returns ours: the
   * fewest channels of at most 8 levels (the paper's largest), every level a power of two so
   * that the grid has exactly `targetSize` codes, the bits spread as evenly as possible, larger
   * levels first: 32 → [8, 4], 64 → [8, 8], 128 → [8, 4, 4]. Never a 2-level channel (stuck under
   * the paper's bound, see FSQBound): 2 throws, and no other size needs one.
   */
  static levelsFor(targetSize: number): number[] {
    const l = RECOMMENDED[targetSize];
    if (l) return [...l];
    if (targetSize === 2) {
      throw new Error('FSQ.levelsFor(2): the only 2-code grid is one channel of 2 levels, which the paper\'s bound leaves ' +
        'stuck at one level (inputs must fall below about −3.8 to reach the other); use ' +
        "new FSQ({ levels: [2], bound: 'symmetric' }) for a working 1-bit channel");
    }
    const bits = Number.isInteger(targetSize) && targetSize >= 2 && targetSize <= 128 ? Math.log2(targetSize) : NaN;
    if (!Number.isInteger(bits)) {
      throw new Error(`FSQ.levelsFor(targetSize): expected 256, 1024, 4096, 16384 or 65536 ` +
        `(2^8 ... 2^16, Mentzer et al. 2023 Table 1) or a power of two from 2 to 128, got ${describe(targetSize)}`);
    }
    const d = Math.ceil(bits / 3);
    return Array.from({ length: d }, (_, i) => 2 ** (Math.floor(bits / d) + (i < bits % d ? 1 : 0)));
  }

  constructor(options: FSQOptions) {
    const opts = (this.options = resolveOptions('FSQ', FSQ_OPTIONS, options));
    const levels = opts.levels;
    if (opts.bound === 'paper' && levels.includes(2)) {
      throw new Error(`FSQ: levels must be integers >= 3, or >= 2 with bound: 'symmetric', got ${describe(levels)}: the paper's ` +
        "bound (the default) leaves a 2-level channel stuck at one level (inputs must fall below about −3.8 to reach the other)");
    }
    this.codebookDim = levels.length;
    this.effectiveDim = this.codebookDim * opts.numCodebooks;
    this.dim = opts.dim ?? this.effectiveDim;
    if (this.dim !== this.effectiveDim && this.dim * this.effectiveDim > MAX_TENSOR_VALUES) {
      throw new Error(`FSQ: dim × levels.length·numCodebooks must be at most ${MAX_TENSOR_VALUES} (2^28 values), got ${this.dim} × ${this.effectiveDim}`);
    }
    this.codebookSize = levels.reduce((a, b) => a * b, 1);
    this.basis = levels.map((_, i) => levels.slice(0, i).reduce((a, b) => a * b, 1));
    this.checkFinite = opts.checkFinite;
    assertBackend('FSQ');
    this.stats = new CodebookStats(this.codebookSize, opts.statsWindow);
    this.proj = new Projections(this.dim, this.effectiveDim, new Rng(opts.seed));
  }

  /** The learned projection dim → levels.length·numCodebooks (null when they are equal). */
  get projectIn(): LinearWeights | null { return this.proj.in; }
  /** The learned projection back to dim (null when they are equal). */
  get projectOut(): LinearWeights | null { return this.proj.out; }

  /** Levels L_i per channel (options.levels). */
  get levels(): readonly number[] {
    return this.options.levels;
  }

  /** Independent FSQ groups per vector (options.numCodebooks). */
  get numCodebooks(): number {
    return this.options.numCodebooks;
  }

  /** Indices per vector: numCodebooks. */
  get indicesPerVector(): number {
    return this.options.numCodebooks;
  }

  /**
   * What a checkpoint must agree on: the levels in order, numCodebooks, dim (projections), and the
   * bound when not the default 'paper' (so checkpoints saved before it was checked still load).
   */
  get config(): QuantizerConfig {
    const o = this.options;
    return {
      type: 'FSQ', codebookSize: this.codebookSize, dim: this.dim, levels: [...o.levels], numCodebooks: o.numCodebooks,
      ...(o.bound !== 'paper' ? { bound: o.bound } : {}),
    };
  }

  /**
   * bound(z) = tanh(z + shift)·half_l − offset, with half_l = (L − 1)(1 + ε)/2, ε = 1e-3,
   * offset = 0.5 for even L (else 0), shift = atanh(offset / half_l), so bound(0) = 0 (vector-quantize-pytorch).
   * z: [..., levels.length] → same shape, channel i in (−half_l − offset, half_l − offset).
   */
  bound(z: tf.Tensor): tf.Tensor {
    this.assertAlive();
    checkVectors('FSQ.bound(z)', z, this.codebookDim);
    if (this.options.bound === 'symmetric') {
      // ((L − 1)/2)·tanh(z): rounding bound + (L − 1)/2 gives the digits 0 … L − 1, split symmetrically about z = 0.
      return tf.tidy(() => tf.mul(tf.tanh(z), tf.tensor1d(this.halfWidth())));
    }
    const eps = 1e-3;
    const halfL = this.levels.map((L) => ((L - 1) * (1 + eps)) / 2);
    const offset = this.levels.map((L) => (L % 2 === 0 ? 0.5 : 0));
    const shift = offset.map((o, i) => Math.atanh(o / halfL[i]));
    return tf.tidy(() =>
      tf.sub(tf.mul(tf.tanh(tf.add(z, tf.tensor1d(shift))), tf.tensor1d(halfL)), tf.tensor1d(offset)));
  }

  /** round_ste(bound(z)) / ⌊L/2⌋: codes in [−1, 1], gradient of bound passed through the rounding. [..., d] */
  quantize(z: tf.Tensor): tf.Tensor {
    this.assertAlive();
    checkVectors('FSQ.quantize(z)', z, this.codebookDim);
    return tf.tidy(() => this.codesAndDigits(z).codes);
  }

  /**
   * The codes and, from the same rounding, the digits in [0, L_i) as float32 integers (what
   * codesToIndices recovers from the codes by c·hw + hw and a second rounding: the same values,
   * two kernels fewer in forward).   z [..., d] → both [..., d]
   */
  private codesAndDigits(z: tf.Tensor): { codes: tf.Tensor; digits: tf.Tensor } {
    const hw = tf.tensor1d(this.halfWidth());
    if (this.options.bound === 'symmetric') {
      const digits = roundSte(tf.add(this.bound(z), hw)); // (L − 1)/2 = hw
      return { codes: tf.div(tf.sub(digits, hw), hw), digits };
    }
    const r = roundSte(this.bound(z)); // integers in [−⌊L/2⌋, ⌊L/2⌋] (hw = ⌊L/2⌋)
    return { codes: tf.div(r, hw), digits: tf.add(r, hw) };
  }

  /**
   * Σ_i (c_i·⌊L_i/2⌋ + ⌊L_i/2⌋)·basis_i: codes [..., d] → int32 indices [...]. Throws when a code
   * is off the grid (c_i·⌊L_i/2⌋ + ⌊L_i/2⌋ not an integer in [0, L_i), within 1e-3); reads the codes.
   */
  codesToIndices(codes: tf.Tensor): tf.Tensor {
    this.assertAlive();
    const name = 'FSQ.codesToIndices(codes)';
    checkVectors(name, codes, this.codebookDim);
    const hw = this.halfWidth();
    const d = this.codebookDim;
    const values = codes.dataSync();
    for (let i = 0; i < values.length; i++) {
      const c = i % d;
      const digit = values[i] * hw[c] + hw[c];
      const r = Math.round(digit);
      if (!(Math.abs(digit - r) <= 1e-3 && r >= 0 && r < this.levels[c])) {
        const grid = Array.from({ length: this.levels[c] }, (_, k) => (k - hw[c]) / hw[c]).map((g) => Number(g.toFixed(4)));
        throw new Error(`${name} must hold codes on the grid (channel ${c}: ${grid.join(', ')}), found ${values[i]} at flat position ${i}`);
      }
    }
    return this.gridIndices(codes);
  }

  /** codesToIndices without the grid check (for codes made by quantize).   [..., d] → [...] */
  private gridIndices(codes: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const hw = tf.tensor1d(this.halfWidth());
      return this.digitsToIndices(tf.round(tf.add(tf.mul(codes, hw), hw)));
    });
  }

  /** Σ_i digit_i·basis_i: float32 integer digits [..., d] in [0, L_i) → int32 indices [...]. */
  private digitsToIndices(digits: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.sum(tf.mul(tf.cast(digits, 'int32'), tf.tensor1d(this.basis as number[], 'int32')), -1));
  }

  /** Inverse of codesToIndices: digit_i = ⌊index / basis_i⌋ mod L_i, code = (digit − ⌊L/2⌋)/⌊L/2⌋. [...] → [..., d] */
  indicesToCodes(indices: tf.Tensor | number | number[] | number[][]): tf.Tensor {
    this.assertAlive();
    const idx = checkIndices('FSQ.indicesToCodes(indices)', indices, this.codebookSize);
    const out = tf.tidy(() => {
      const i = tf.expandDims(idx, -1); // [..., 1]
      const digits = tf.mod(tf.floorDiv(i, tf.tensor1d(this.basis as number[], 'int32')), tf.tensor1d(this.levels as number[], 'int32'));
      const hw = tf.tensor1d(this.halfWidth());
      return tf.div(tf.sub(tf.cast(digits, 'float32'), hw), hw);
    });
    idx.dispose();
    return out;
  }

  /** Every code in index order.   [codebookSize, levels.length] */
  implicitCodebook(): tf.Tensor2D {
    const all = tf.range(0, this.codebookSize, 1, 'int32');
    const out = this.indicesToCodes(all) as tf.Tensor2D;
    all.dispose();
    return out;
  }

  /** Indices ([...] or [..., numCodebooks]) → output vectors [..., dim] (codes, projected out). */
  decode(indices: tf.Tensor | number | number[] | number[][]): tf.Tensor {
    const codes = this.indicesToCodes(indices); // [..., (c,) d]
    if (this.numCodebooks > 1 && (codes.rank < 2 || codes.shape[codes.rank - 2] !== this.numCodebooks)) {
      const shape = codes.shape.slice(0, -1);
      codes.dispose();
      throw new Error(`FSQ.decode(indices) must have shape [..., ${this.numCodebooks}] (last axis = numCodebooks), got [${shape.join(', ')}]`);
    }
    const out = tf.tidy(() => {
      const lead = this.numCodebooks === 1 ? codes.shape.slice(0, -1) : codes.shape.slice(0, -2);
      const flat = tf.reshape(codes, [-1, this.effectiveDim]) as tf.Tensor2D;
      return tf.reshape(this.proj.toOuter(flat), [...lead, this.dim]);
    });
    codes.dispose();
    return out;
  }

  /** z: [..., dim] → FSQOutput (loss 0: nothing to learn but the projections). Training mode (default) records `stats`. */
  forward(z: tf.Tensor, opts: VQForwardOptions = {}): FSQOutput {
    this.assertAlive();
    const training = checkForwardInput('FSQ', z, this.dim, opts, this.checkFinite);
    const lead = z.shape.slice(0, -1);
    const c = this.numCodebooks;
    return tf.tidy(() => {
      const flat = tf.reshape(z, [-1, this.dim]) as tf.Tensor2D; // [N, dim]
      const n = flat.shape[0];
      const h = tf.reshape(this.proj.toInner(flat), [n, c, this.codebookDim]); // [N, c, d]
      const { codes, digits } = this.codesAndDigits(h); // [N, c, d] each
      const idx = this.digitsToIndices(digits); // [N, c]
      const codesFlat = tf.reshape(codes, [n, this.effectiveDim]) as tf.Tensor2D; // [N, c·d]
      const out = this.proj.toOuter(codesFlat); // [N, dim]
      const counts = tf.bincount(tf.reshape(idx, [-1]) as tf.Tensor1D, tf.tensor1d([], 'float32'), this.codebookSize);
      const { perplexity, usage } = perplexityAndUsage(tf.div(counts, n * c) as tf.Tensor1D);
      if (training) this.stats.update(idx);
      return {
        quantized: tf.reshape(out, z.shape),
        indices: tf.reshape(idx, c === 1 ? lead : [...lead, c]),
        codes: tf.reshape(codesFlat, [...lead, this.effectiveDim]),
        loss: tf.scalar(0),
        perplexity, usage,
      };
    });
  }

  /** The projections' variables ([] when dim = levels.length·numCodebooks). */
  trainableVariables(): tf.Variable[] {
    return [...this.namedVariables().values()];
  }

  /** "projectIn.kernel", "projectIn.bias", "projectOut.kernel", "projectOut.bias" (none without projections). */
  namedVariables(): Map<string, tf.Variable> {
    this.assertAlive();
    return this.proj.namedVariables();
  }

  /** Nothing to reset after a checkpoint load. */
  restored(): void {}

  /** Frees the projections. The quantizer cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.proj.dispose();
  }

  private assertAlive(): void {
    assertAlive('FSQ', this.disposed);
  }

  /** ⌊L_i/2⌋ per channel. */
  private halfWidth(): number[] {
    return this.levels.map((L) => (this.options.bound === 'symmetric' ? (L - 1) / 2 : Math.floor(L / 2)));
  }
}
