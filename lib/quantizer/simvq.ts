/**
 * SimVQ (Zhu et al. 2024, "Addressing Representation Collapse in Vector Quantized Models with
 * One Linear Layer", arXiv 2411.02038), after vector-quantize-pytorch's `sim_vq.py`: the
 * codebook is a frozen random matrix C [K, f] (N(0, 1/f)) times a learned linear map W [f, dim],
 * codes = C·W. Only W trains, and every step moves all codes at once (the whole span of C·W),
 * not only the ones selected in the batch — the paper's remedy for codebook collapse.
 *
 *   k(n)        = argmin_k ‖z_n − (C W)_k‖²
 *   codebookLoss = mean((sg(z) − C W[k])²)     (trains W)
 *   commitLoss   = mean((z − sg(C W[k]))²)     (trains the encoder)
 *   loss         = codebookLoss + β·commitLoss   (vector-quantize-pytorch: input_to_quantize_commit_loss_weight β = 0.25, commitment_weight 1)
 *
 * The gradient crosses the quantizer by the rotation trick by default (as vector-quantize-pytorch's
 * SimVQ, `rotation_trick = True`), or by the straight-through estimator.
 *
 * Deliberate differences: W is stored as the kernel [f, dim] (x·W, torch keeps weight = Wᵀ);
 * the frozen C is drawn from lib/rng (not torch.randn); channels-last only; only the linear
 * transform (no MLP `codebook_transform`).
 */
import * as tf from '@tensorflow/tfjs';
import { perplexityAndUsage, squaredDistances } from './distance';
import { Rng } from '../rng';
import { rotateTo } from './rotation';
import { CodebookStats } from './stats';
import { lookupRows, stopGradient, straightThrough } from './ste';
import { VQGradient } from './options';
import { assertFiniteAndBounded, checkForwardInput, VQForwardOptions } from './checks';
import { checkMemory, simvqPeakBytes } from './memory';
import type { Quantizer, QuantizerConfig } from './protocol';
import {
  MAX_CODEBOOK_SIZE, MAX_TENSOR_VALUES, OptionsOf, ResolvedOf, assertAlive, assertBackend, checkIndices, checkVectors, is,
  resolveOptions,
} from '../validate';

/** Options of SimVQ, declared once (names, checks, defaults, docs). */
export const SIMVQ_OPTIONS = {
  /** K, the number of codes (2 … 2^24). */
  codebookSize: { check: is.int(2, MAX_CODEBOOK_SIZE) },
  /** Vector width (≥ 1). */
  dim: { check: is.int(1) },
  /** f, the width of the frozen codebook C [K, f]. Default dim. */
  frozenDim: { check: is.int(1), optional: true as const },
  /** β ≥ 0 in loss = codebookLoss + β·commitLoss. Default 0.25. */
  commitmentWeight: { check: is.number(0), default: 0.25 },
  /** 'rotation' (as vector-quantize-pytorch's SimVQ) or 'ste'. Default 'rotation'. */
  gradient: { check: is.oneOf<VQGradient>('ste', 'rotation'), default: 'rotation' as VQGradient },
  /** Random seed of C and of W's init. */
  seed: { check: is.seed, optional: true as const },
  /** Check each input to forward for NaN/Infinity. Default true. */
  checkFinite: { check: is.boolean, default: true },
  /** Batches in the window of `stats`. Default 100. */
  statsWindow: { check: is.int(1), default: 100 },
};
/** Options of new SimVQ(options) (see SIMVQ_OPTIONS). */
export type SimVQOptions = OptionsOf<typeof SIMVQ_OPTIONS>;

/** A type alias so that it is a tf.TensorContainer. */
export type SimVQOutput = {
  /** (C W)[k] in value; rotation-trick or straight-through gradient to z.   [..., dim] */
  quantized: tf.Tensor;
  /** int32 nearest-code indices.   [...] */
  indices: tf.Tensor;
  /** mean((z − sg(q))²), unweighted.   [] */
  commitLoss: tf.Scalar;
  /** mean((sg(z) − q)²): W's loss.   [] */
  codebookLoss: tf.Scalar;
  /** codebookLoss + β·commitLoss.   [] */
  loss: tf.Scalar;
  /** exp(−Σ p log p) of this batch's code frequencies.   [] */
  perplexity: tf.Scalar;
  /** Fraction of codes used in this batch.   [] */
  usage: tf.Scalar;
};

/** SimVQ (Zhu et al. 2024): a frozen random codebook reparameterised by one learned linear map, so every code moves together. */
export class SimVQ implements Quantizer<SimVQOutput> {
  /** f: options.frozenDim, or dim when left out. */
  readonly frozenDim: number;
  /** One index per vector. */
  readonly indicesPerVector = 1;
  /** C, frozen.   [K, frozenDim], a non-trainable variable (so checkpoints keep it) */
  readonly frozenCodebook: tf.Variable<tf.Rank.R2>;
  /** W, the only trained weights.   [frozenDim, dim] */
  readonly transform: tf.Variable<tf.Rank.R2>;
  readonly stats: CodebookStats;
  /** The options as given, checked, defaults filled in: the one place the class reads them from. */
  readonly options: ResolvedOf<typeof SIMVQ_OPTIONS>;
  /** Check inputs to forward for NaN/Infinity (switch off for speed). */
  checkFinite: boolean;
  private disposed = false;

  constructor(options: SimVQOptions) {
    const o = 'SimVQ';
    const opts = (this.options = resolveOptions(o, SIMVQ_OPTIONS, options));
    this.frozenDim = opts.frozenDim ?? opts.dim;
    if (this.codebookSize * Math.max(this.frozenDim, this.dim) > MAX_TENSOR_VALUES || this.frozenDim * this.dim > MAX_TENSOR_VALUES) {
      throw new Error(`${o}: codebookSize × frozenDim, codebookSize × dim and frozenDim × dim must be at most ${MAX_TENSOR_VALUES} (2^28 values), ` +
        `got ${this.codebookSize}, ${this.frozenDim}, ${this.dim}`);
    }
    this.checkFinite = opts.checkFinite;
    assertBackend(o);
    this.stats = new CodebookStats(this.codebookSize, opts.statsWindow);
    const rng = new Rng(opts.seed);
    const K = this.codebookSize, f = this.frozenDim;
    // vector-quantize-pytorch: torch.randn(K, f) · f^−½; W as nn.Linear(f, dim, bias=False): U(±1/√f)
    const c = rng.normal(K * f, 0, 1 / Math.sqrt(f));
    const s = 1 / Math.sqrt(f);
    const w = rng.uniform(f * this.dim, -s, s);
    this.frozenCodebook = tf.tidy(() => tf.variable(tf.tensor2d(c, [K, f]), false)) as tf.Variable<tf.Rank.R2>;
    this.transform = tf.tidy(() => tf.variable(tf.tensor2d(w, [f, this.dim]), true)) as tf.Variable<tf.Rank.R2>;
  }

  /** K, the number of codes (options.codebookSize). */
  get codebookSize(): number { return this.options.codebookSize; }
  /** Vector width (options.dim). */
  get dim(): number { return this.options.dim; }
  /** β (options.commitmentWeight). */
  get commitmentWeight(): number { return this.options.commitmentWeight; }
  /** The gradient estimator (options.gradient). */
  get gradient(): VQGradient { return this.options.gradient; }

  /**
   * What a checkpoint must agree on: K, dim, and frozenDim when it differs from dim (the shapes of C
   * and W say so too). β and the gradient estimator only steer training.
   */
  get config(): QuantizerConfig {
    return {
      type: 'SimVQ', codebookSize: this.codebookSize, dim: this.dim,
      ...(this.frozenDim !== this.dim ? { frozenDim: this.frozenDim } : {}),
    };
  }

  /** [W]: the frozen codebook never trains. */
  trainableVariables(): tf.Variable[] {
    this.assertAlive();
    return [this.transform];
  }

  /** "frozenCodebook" (C, not trainable) and "transform" (W). */
  namedVariables(): Map<string, tf.Variable> {
    this.assertAlive();
    return new Map<string, tf.Variable>([['frozenCodebook', this.frozenCodebook], ['transform', this.transform]]);
  }

  /** Nothing to reset after a checkpoint load. */
  restored(): void {}

  /** The implicit codebook C·W (with W's gradient).   [K, dim]; caller disposes */
  codes(): tf.Tensor2D {
    this.assertAlive();
    return tf.matMul(this.frozenCodebook, this.transform);
  }

  /** z: [..., dim] → SimVQOutput. Training mode (default) records `stats`; nothing else has state. */
  forward(z: tf.Tensor, opts: VQForwardOptions = {}): SimVQOutput {
    this.assertAlive();
    const training = checkForwardInput('SimVQ', z, this.dim, opts, this.checkFinite);
    const lead = z.shape.slice(0, -1);
    this.checkMemory('SimVQ.forward(z)', z.size / this.dim);
    return tf.tidy(() => {
      const x = tf.reshape(z, [-1, this.dim]) as tf.Tensor2D; // [N, dim]
      const e = this.codes(); // [K, dim], gradient to W
      const idx = tf.argMin(squaredDistances(stopGradient(x), stopGradient(e)), 1) as tf.Tensor1D; // [N]
      const onehot = tf.cast(tf.oneHot(idx, this.codebookSize), 'float32') as tf.Tensor2D; // [N, K]
      const q = tf.matMul(onehot, e); // [N, dim], gradient to W
      const codebookLoss = tf.mean(tf.square(tf.sub(stopGradient(x), q))) as tf.Scalar;
      const commitLoss = tf.mean(tf.square(tf.sub(x, stopGradient(q)))) as tf.Scalar;
      const loss = tf.add(codebookLoss, tf.mul(commitLoss, this.commitmentWeight)) as tf.Scalar;
      const { perplexity, usage } = perplexityAndUsage(tf.mean(onehot, 0) as tf.Tensor1D);
      if (training) this.stats.update(idx);
      // value q either way; neither estimator passes a gradient to q (W learns from codebookLoss)
      const out = this.gradient === 'rotation' ? rotateTo(x, q) : straightThrough(x, q);
      return { quantized: tf.reshape(out, z.shape), indices: tf.reshape(idx, lead), commitLoss, codebookLoss, loss, perplexity, usage };
    });
  }

  /** Nearest-code indices: [..., dim] → int32 [...]. No gradient. */
  encode(z: tf.Tensor): tf.Tensor {
    this.assertAlive();
    checkVectors('SimVQ.encode(z)', z, this.dim);
    if (this.checkFinite) assertFiniteAndBounded('SimVQ.encode(z)', z, this.dim);
    this.checkMemory('SimVQ.encode(z)', z.size / this.dim);
    return tf.tidy(() => tf.reshape(
      tf.argMin(squaredDistances(tf.reshape(z, [-1, this.dim]) as tf.Tensor2D, this.codes()), 1), z.shape.slice(0, -1)));
  }

  /** Code vectors of indices [...] → [..., dim] (rows of C·W, no gradient). */
  decode(indices: tf.Tensor | number | number[] | number[][]): tf.Tensor {
    this.assertAlive();
    const idx = checkIndices('SimVQ.decode(indices)', indices, this.codebookSize);
    const out = tf.tidy(() => tf.reshape(lookupRows(this.codes(), tf.reshape(idx, [-1])), [...idx.shape, this.dim]));
    idx.dispose();
    return out;
  }

  /** Frees C and W. The quantizer cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.frozenCodebook.dispose();
    this.transform.dispose();
  }

  private assertAlive(): void {
    assertAlive('SimVQ', this.disposed);
  }

  /** Throws "out of memory … pass at most N vectors" before a forward over N vectors would overflow the backend. */
  private checkMemory(where: string, N: number): void {
    const K = this.codebookSize;
    checkMemory(where, N, `${N.toLocaleString('en-US')} vectors × ${K.toLocaleString('en-US')} codes (dim ${this.dim})`,
      (m) => simvqPeakBytes(m, K, this.dim, this.frozenDim));
  }
}
