/**
 * Lookup-free quantization (Yu et al. 2023, "Language Model Beats Diffusion — Tokenizer is Key
 * to Visual Generation", MAGVIT-v2, arXiv 2310.05737), after vector-quantize-pytorch's
 * `lookup_free_quantization.py`: each of d = log2 K channels is quantized to its sign,
 * q_i = s·sign(z_i) ∈ {−s, s} (z_i = 0 → −s), so the codebook {−s, s}^d is implicit and the
 * index is the bits read most significant first: index = Σ_i [z_i > 0]·2^(d−1−i).
 *
 * Its entropy loss (MAGVIT-v2 eq. 5) pushes each vector to be confident about its code and the
 * batch to use all codes: with p(k | z) = softmax_k(2·invT·z·c_k) over the K codes c_k
 * (2 z·c_k is −‖z − c_k‖² up to a constant),
 *   entropyLoss = mean_n H(p(· | z_n)) − γ · H(mean_n p(· | z_n)),   H(p) = −Σ p log max(p, 1e-5).
 * loss = entropyWeight · entropyLoss + commitmentWeight · mean((z − sg(q))²).
 * The entropy term needs the [N, K] matrix p (N vectors × K codes): mind the memory for large K.
 *
 * Deliberate differences from vector-quantize-pytorch: the losses are computed in every mode
 * (there they are 0 outside training; here `training` only gates `stats`); no
 * `frac_per_sample_entropy`, spherical (BSQ), soft clamp, orthogonal rotation or
 * num_codebooks > 1; layout is channels-last ([..., dim], NHWC) only.
 */
import * as tf from '@tensorflow/tfjs';
import { perplexityAndUsage } from './distance';
import { Rng } from '../rng';
import { CodebookStats } from './stats';
import { straightThrough } from './ste';
import { checkForwardInput, VQForwardOptions } from './checks';
import { checkMemory, lfqPeakBytes } from './memory';
import type { Quantizer, QuantizerConfig } from './protocol';
import type { LinearWeights } from '../nn/layers';
import { Projections } from './projections';
import {
  MAX_CODEBOOK_SIZE, MAX_TENSOR_VALUES, OptionsOf, ResolvedOf, assertAlive, assertBackend, checkIndices, checkInt,
  checkVectors, describe, is, resolveOptions,
} from '../validate';

/** K: a power of two from 2 to 2^24. */
function checkPowerOfTwo(v: number, name: string): number {
  const k = checkInt(name, v, 2, MAX_CODEBOOK_SIZE);
  if (!Number.isInteger(Math.log2(k))) throw new Error(`${name} must be a power of two from 2 to 2^24, got ${describe(v)}`);
  return k;
}

/** Options of LFQ, declared once (names, checks, defaults, docs). */
export const LFQ_OPTIONS = {
  /** K = 2^d codes, a power of two from 2 to 2^24 (d = log2 K channels). Give this or `dim`. */
  codebookSize: { check: checkPowerOfTwo, optional: true as const },
  /** Input/output width. Default log2(codebookSize); when different, learned projections map in and out. */
  dim: { check: is.int(1), optional: true as const },
  /** s > 0: codes are {−s, s}^d. Default 1. */
  codebookScale: { check: is.positive, default: 1 },
  /** Weight of the entropy loss (≥ 0). Default 0.1 (vector-quantize-pytorch). */
  entropyWeight: { check: is.number(0), default: 0.1 },
  /** γ ≥ 0, weight of the batch (codebook) entropy inside the entropy loss. Default 1. */
  diversityGamma: { check: is.number(0), default: 1 },
  /** invT > 0 in softmax(2·invT·z·c). Default 100 (vector-quantize-pytorch's inv_temperature). */
  inverseTemperature: { check: is.positive, default: 100 },
  /** β ≥ 0 of the commitment loss mean((z − sg(q))²). Default 0 (vector-quantize-pytorch); MAGVIT-v2 uses 0.25. */
  commitmentWeight: { check: is.number(0), default: 0 },
  /** Random seed of the projections' init. */
  seed: { check: is.seed, optional: true as const },
  /** Check each input to forward for NaN/Infinity. Default true. */
  checkFinite: { check: is.boolean, default: true },
  /** Batches in the window of `stats`. Default 100. */
  statsWindow: { check: is.int(1), default: 100 },
};
/** Options of new LFQ(options) (see LFQ_OPTIONS). */
export type LFQOptions = OptionsOf<typeof LFQ_OPTIONS>;

/** A type alias so that it is a tf.TensorContainer (tf.dispose(out), tf.tidy(() => lfq.forward(z))). */
export type LFQOutput = {
  /** Codes (projected out when dim ≠ codebookDim), straight-through gradient to the projected z.   [..., dim] */
  quantized: tf.Tensor;
  /** int32 indices, bits most significant first.   [...] */
  indices: tf.Tensor;
  /** The codes in {−s, s}^d before the output projection.   [..., codebookDim] */
  codes: tf.Tensor;
  /** mean_n H(p_n), the per-sample entropy (nats).   [] */
  perSampleEntropy: tf.Scalar;
  /** H(mean_n p_n), the batch ("codebook") entropy (nats).   [] */
  codebookEntropy: tf.Scalar;
  /** perSampleEntropy − γ·codebookEntropy, unweighted.   [] */
  entropyLoss: tf.Scalar;
  /** mean((z − sg(q))²) over the projected z, unweighted.   [] */
  commitLoss: tf.Scalar;
  /** entropyWeight·entropyLoss + commitmentWeight·commitLoss.   [] */
  loss: tf.Scalar;
  /** exp(−Σ p log p) of this batch's hard code frequencies.   [] */
  perplexity: tf.Scalar;
  /** Fraction of codes used in this batch.   [] */
  usage: tf.Scalar;
};

type Inputs = Array<tf.Tensor | tf.GradSaveFunc>;

/**
 * value where(z > 0, s, −s), gradient zero (tf.greater has no gradient in tfjs). The scale is a
 * JS constant of the op, not an input: an input scalar made inside a tidy would be disposed
 * before backprop, which the native backend's zerosLike reads.
 */
function makeSignOp(s: number): (z: tf.Tensor) => tf.Tensor {
  return tf.customGrad((...inputs: Inputs) => {
    const z = inputs[0] as tf.Tensor;
    return {
      value: tf.where(tf.greater(z, 0), tf.fill(z.shape, s), tf.fill(z.shape, -s)),
      gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
    };
  }) as (z: tf.Tensor) => tf.Tensor;
}

/** Clamped-log entropy along the last axis, as vector-quantize-pytorch: −Σ p log max(p, 1e-5). */
function entropy(p: tf.Tensor): tf.Tensor {
  return tf.neg(tf.sum(tf.mul(p, tf.log(tf.maximum(p, 1e-5))), -1));
}

/** Lookup-free quantization (MAGVIT-v2): the sign of each dimension is one bit of the code; entropy loss keeps codes in use. */
export class LFQ implements Quantizer<LFQOutput> {
  /** K = 2^codebookDim. */
  readonly codebookSize: number;
  /** d = log2 K, the number of bits (channels quantized). */
  readonly codebookDim: number;
  /** Input/output width: options.dim, or d when left out. */
  readonly dim: number;
  /** One index per vector. */
  readonly indicesPerVector = 1;
  private readonly proj: Projections;
  readonly stats: CodebookStats;
  /** The options as given, checked, defaults filled in: the one place the class reads them from. */
  readonly options: ResolvedOf<typeof LFQ_OPTIONS>;
  /** Check inputs to forward for NaN/Infinity (switch off for speed). */
  checkFinite: boolean;
  private readonly signOp: (z: tf.Tensor) => tf.Tensor;
  private disposed = false;

  constructor(options: LFQOptions) {
    const o = 'LFQ';
    const opts = (this.options = resolveOptions(o, LFQ_OPTIONS, options));
    if (opts.codebookSize === undefined && opts.dim === undefined) {
      throw new Error(`${o}: codebookSize or dim is required (without codebookSize, codebookSize = 2^dim)`);
    }
    const bits = opts.codebookSize !== undefined ? Math.log2(opts.codebookSize) : opts.dim!;
    if (opts.codebookSize === undefined && bits > 24) {
      throw new Error(`${o}: dim without codebookSize gives 2^dim codes, at most 2^24: dim must be at most 24, got ${bits}`);
    }
    this.codebookDim = bits;
    this.codebookSize = 2 ** bits;
    this.dim = opts.dim ?? bits;
    if (this.dim !== bits && this.dim * bits > MAX_TENSOR_VALUES) {
      throw new Error(`${o}: dim × log2(codebookSize) must be at most ${MAX_TENSOR_VALUES} (2^28 values), got ${this.dim} × ${bits}`);
    }
    this.signOp = makeSignOp(opts.codebookScale);
    this.checkFinite = opts.checkFinite;
    assertBackend(o);
    this.stats = new CodebookStats(this.codebookSize, opts.statsWindow);
    this.proj = new Projections(this.dim, this.codebookDim, new Rng(opts.seed));
  }

  /** The learned projection dim → d (null when dim = d). */
  get projectIn(): LinearWeights | null { return this.proj.in; }
  /** The learned projection d → dim (null when dim = d). */
  get projectOut(): LinearWeights | null { return this.proj.out; }

  /** s: codes are {−s, s}^d (options.codebookScale). */
  get codebookScale(): number { return this.options.codebookScale; }
  /** options.entropyWeight. */
  get entropyWeight(): number { return this.options.entropyWeight; }
  /** options.diversityGamma. */
  get diversityGamma(): number { return this.options.diversityGamma; }
  /** options.inverseTemperature. */
  get inverseTemperature(): number { return this.options.inverseTemperature; }
  /** options.commitmentWeight. */
  get commitmentWeight(): number { return this.options.commitmentWeight; }

  /**
   * What a checkpoint must agree on: K, dim (projections) and the code scale s when not the
   * default 1 (so checkpoints saved before it was checked still load). The loss weights and the
   * temperature only steer training.
   */
  get config(): QuantizerConfig {
    return {
      type: 'LFQ', codebookSize: this.codebookSize, dim: this.dim,
      ...(this.options.codebookScale !== 1 ? { codebookScale: this.options.codebookScale } : {}),
    };
  }

  /** Place values 2^(d−1−i): channel 0 is the most significant bit.   [d] int32 */
  private mask(): tf.Tensor1D {
    return tf.tensor1d(Array.from({ length: this.codebookDim }, (_, i) => 2 ** (this.codebookDim - 1 - i)), 'int32');
  }

  /** s·sign(z) with z = 0 → −s; zero gradient (safe under tf.grad).   [..., d] → [..., d] */
  signCodes(z: tf.Tensor): tf.Tensor {
    this.assertAlive();
    checkVectors('LFQ.signCodes(z)', z, this.codebookDim);
    return this.signOp(z);
  }

  /** Bits [..., d] (a channel is 1 where > 0) → int32 indices [...]. */
  bitsToIndices(bits: tf.Tensor): tf.Tensor {
    if (!(bits instanceof tf.Tensor) || bits.rank < 1 || bits.shape[bits.rank - 1] !== this.codebookDim) {
      throw new Error(`LFQ.bitsToIndices(bits) must be a tensor of shape [..., ${this.codebookDim}], got ${describe(bits)}`);
    }
    return tf.tidy(() => tf.sum(tf.mul(tf.cast(tf.greater(bits, 0), 'int32'), this.mask()), -1));
  }

  /** int32 indices [...] → bits [..., d] (float32 0/1, most significant first). */
  indicesToBits(indices: tf.Tensor | number | number[] | number[][]): tf.Tensor {
    this.assertAlive();
    const idx = checkIndices('LFQ.indicesToBits(indices)', indices, this.codebookSize);
    const out = tf.tidy(() => tf.cast(tf.mod(tf.floorDiv(tf.expandDims(idx, -1), this.mask()), 2), 'float32'));
    idx.dispose();
    return out;
  }

  /**
   * Codes {−s, s}^d [..., d] → int32 indices [...]. Throws when a code is off the grid (not ±s
   * within 1e-3·s, or NaN), as FSQ.codesToIndices does; reads the codes.
   */
  codesToIndices(codes: tf.Tensor): tf.Tensor {
    this.assertAlive();
    const name = 'LFQ.codesToIndices(codes)';
    checkVectors(name, codes, this.codebookDim);
    const s = this.options.codebookScale;
    const values = codes.dataSync();
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (!(Math.abs(Math.abs(v) - s) <= 1e-3 * s)) {
        throw new Error(`${name} must hold codes on the grid {−${s}, ${s}} (±codebookScale), found ${v} at flat position ${i}`);
      }
    }
    return this.bitsToIndices(codes);
  }

  /** Indices [...] → codes [..., d] in {−s, s}^d (bits·2s − s). */
  indicesToCodes(indices: tf.Tensor | number | number[] | number[][]): tf.Tensor {
    const bits = this.indicesToBits(indices);
    const out = tf.tidy(() => tf.sub(tf.mul(bits, 2 * this.codebookScale), this.codebookScale));
    bits.dispose();
    return out;
  }

  /** Every code in index order.   [K, d] */
  implicitCodebook(): tf.Tensor2D {
    const all = tf.range(0, this.codebookSize, 1, 'int32');
    const out = this.indicesToCodes(all) as tf.Tensor2D;
    all.dispose();
    return out;
  }

  /** Indices [...] → output vectors [..., dim] (codes, projected out). */
  decode(indices: tf.Tensor | number | number[] | number[][]): tf.Tensor {
    this.assertAlive();
    const codes = this.indicesToCodes(indices);
    const out = tf.tidy(() => {
      const lead = codes.shape.slice(0, -1);
      const flat = tf.reshape(codes, [-1, this.codebookDim]) as tf.Tensor2D;
      return tf.reshape(this.proj.toOuter(flat), [...lead, this.dim]);
    });
    codes.dispose();
    return out;
  }

  /** z: [..., dim] → LFQOutput. Training mode (default) records `stats`. */
  forward(z: tf.Tensor, opts: VQForwardOptions = {}): LFQOutput {
    this.assertAlive();
    const training = checkForwardInput('LFQ', z, this.dim, opts, this.checkFinite);
    const lead = z.shape.slice(0, -1);
    const N = z.size / this.dim;
    const K = this.codebookSize;
    checkMemory('LFQ.forward(z)', N, `${N.toLocaleString('en-US')} vectors × ${K.toLocaleString('en-US')} codes (dim ${this.dim}; ` +
      `the entropy term holds [N, K] tensors)`, (m) => lfqPeakBytes(m, K, this.dim, this.codebookDim));
    return tf.tidy(() => {
      const flat = tf.reshape(z, [-1, this.dim]) as tf.Tensor2D; // [N, dim]
      const n = flat.shape[0];
      const x = this.proj.toInner(flat) as tf.Tensor2D; // [N, d]
      const q = this.signCodes(x) as tf.Tensor2D; // [N, d]
      const idx = this.bitsToIndices(q); // [N]
      const st = straightThrough(x, q); // value q, gradient identity to x
      // p(k | x_n) = softmax_k(−(−2 x_n·c_k)·invT)   [N, K]
      const codebook = this.implicitCodebook(); // [K, d]
      const logits = tf.mul(tf.matMul(x, codebook, false, true), 2 * this.inverseTemperature);
      const prob = tf.softmax(logits);
      const perSampleEntropy = tf.mean(entropy(prob)) as tf.Scalar;
      const codebookEntropy = entropy(tf.mean(prob, 0)) as tf.Scalar;
      const entropyLoss = tf.sub(perSampleEntropy, tf.mul(codebookEntropy, this.diversityGamma)) as tf.Scalar;
      const commitLoss = tf.mean(tf.square(tf.sub(x, q))) as tf.Scalar; // q is a constant here: sg(q)
      const loss = tf.add(tf.mul(entropyLoss, this.entropyWeight), tf.mul(commitLoss, this.commitmentWeight)) as tf.Scalar;
      const counts = tf.bincount(idx as tf.Tensor1D, tf.tensor1d([], 'float32'), this.codebookSize);
      const { perplexity, usage } = perplexityAndUsage(tf.div(counts, n) as tf.Tensor1D);
      if (training) this.stats.update(idx);
      return {
        quantized: tf.reshape(this.proj.toOuter(st), z.shape),
        indices: tf.reshape(idx, lead),
        codes: tf.reshape(q, [...lead, this.codebookDim]),
        perSampleEntropy, codebookEntropy, entropyLoss, commitLoss, loss, perplexity, usage,
      };
    });
  }

  /** The projections' variables ([] when dim = codebookDim). */
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
    assertAlive('LFQ', this.disposed);
  }
}
