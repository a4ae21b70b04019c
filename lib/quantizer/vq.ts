/**
 * VectorQuantizer: the VQ-VAE bottleneck (van den Oord et al. 2017, "Neural Discrete
 * Representation Learning"), with the semantics of ginka-generator's VectorQuantizer
 * (github.com/unanmed/ginka-generator: distances, straight-through, soft-assignment entropy term) and the usual fixes for codebook collapse: EMA codebook
 * (Sonnet VectorQuantizerEMA), dead-code restarts (Jukebox), cosine distance, k-means init.
 *
 * How a training loop uses it (the codebook and its EMA statistics change only inside
 * `forward(z)` in training mode, the default; `forward(z, { training: false })`,
 * `quantize`, `encode` and `decode` never change anything):
 *
 * ```ts
 * const vq = new VectorQuantizer({ codebookSize: 64, dim: 16, ema: { decay: 0.99 }, deadCodeThreshold: 1, seed: 0 });
 * const opt = tf.train.adam(1e-3);
 * for (let step = 0; step < steps; step++) {
 *   const cost = opt.minimize(() => {
 *     const out = vq.forward(encoder.apply(x) as tf.Tensor); // assigns codes; EMA step + restarts happen here
 *     const recon = tf.losses.meanSquaredError(x, decoder.apply(out.quantized) as tf.Tensor);
 *     return tf.add(recon, out.loss) as tf.Scalar;               // the other outputs are freed by minimize's tidy
 *   }, true);                                                    // varList: the trainable variables (codebook too, without ema)
 *   const loss = cost!.dataSync()[0];
 *   cost!.dispose();
 *   console.log(step, loss, vq.stats.last!.perplexity, vq.stats.summary()); // plain numbers, nothing to dispose
 * }
 * ```
 * `tf.variableGrads(f)` inside `tf.tidy` works the same way. With `ema` the codebook is a
 * non-trainable variable (`vq.trainableVariables()` is empty) and receives no gradient.
 */
import * as tf from '@tensorflow/tfjs';
import { assignCodes, l2Normalize, perplexityAndUsage, squaredDistances } from './distance';
import { checkVQMemory } from './memory';
import { CodebookEma, replaceRows } from './ema';
import { kmeans } from './kmeans';
import { EMA_OPTIONS, ResolvedVQOptions, VectorQuantizerOptions, resolveVQOptions } from './options';
import { Rng } from '../rng';
import { CodebookStats } from './stats';
import { gatherRows, lookupRows, stopGradient, straightThrough } from './ste';
import { rotateTo } from './rotation';
import { assertAlive, assertBackend, checkIndices, checkVectors } from '../validate';
import { VQForwardOptions, assertFiniteAndBounded, checkForwardInput } from './checks';
import type { Quantizer, QuantizerConfig } from './protocol';

/** A type alias (not an interface) so that it is a tf.TensorContainer: tf.dispose(out), tf.tidy(() => vq.forward(z)). */
export type VQOutput = {
  /** z_q with a straight-through (or rotation-trick) gradient to z (to l2-normalised z for cosine).   [..., dim] */
  quantized: tf.Tensor;
  /** argmin_k d(z, e_k), int32.   [...] */
  indices: tf.Tensor;
  /** mean((z − sg(z_q))²), unweighted.   [] */
  commitLoss: tf.Scalar;
  /** mean((sg(z) − z_q)²), unweighted.   [] */
  codebookLoss: tf.Scalar;
  /**
   * Unweighted entropy term, p_n = softmax(−d(z_n, ·) / T), p̄ = mean_n p_n. entropyForm 'batch':
   * Σ_k p̄_k log(p̄_k + 1e-10) = −H(p̄) (ginka-generator); 'sample-and-batch': mean_n H(p_n) − H(p̄).   []
   */
  entropyLoss: tf.Scalar;
  /** codebookWeight·codebookLoss + β·commitLoss + entropyWeight·entropyLoss (under EMA the first term has no gradient).   [] */
  loss: tf.Scalar;
  /** exp(−Σ p log p) of this batch's hard assignment frequencies.   [] */
  perplexity: tf.Scalar;
  /** Fraction of codes used in this batch.   [] */
  usage: tf.Scalar;
};

// (kept here too: callers imported them from vq.ts before lib/quantizer/checks.ts existed)
export { FORWARD_OPTIONS, checkForwardInput } from './checks';
export type { VQForwardOptions } from './checks';

/** Vector quantization with a learned codebook (VQ-VAE; vector-quantize-pytorch's VectorQuantize): nearest code, straight-through or rotation-trick gradient, EMA, dead-code restarts, cosine distance, k-means init. */
export class VectorQuantizer implements Quantizer<VQOutput> {
  /** The options as given, checked, defaults filled in: the one place the class reads them from. */
  readonly options: Readonly<ResolvedVQOptions>;
  /** One index per vector. */
  readonly indicesPerVector = 1;
  /** The codes e_k.   [K, dim]; trainable unless `ema` is set. */
  readonly codebook: tf.Variable<tf.Rank.R2>;
  /** EMA counts (and sums, under `ema`) when `ema` or `deadCodeThreshold` is set, else null. */
  readonly emaState: CodebookEma | null;
  /** Running codebook-health numbers, updated by every training-mode forward. */
  readonly stats: CodebookStats;
  /** Codes re-seeded by the last training-mode forward. */
  lastRestarted: number[] = [];
  /** Check inputs to forward and encode for NaN/Infinity (switch off for speed). */
  checkFinite: boolean;
  private readonly rng: Rng;
  private awaitingKmeans: boolean;
  private disposed = false;

  constructor(options: VectorQuantizerOptions) {
    const o = (this.options = resolveVQOptions(options));
    assertBackend('VectorQuantizer');
    this.checkFinite = o.checkFinite;
    this.rng = new Rng(o.seed);
    const K = o.codebookSize;
    const n = K * o.dim;
    // ginka-generator and DL-Demos: nn.init.uniform_(w, −1/K, 1/K). 'kmeans' starts there until the first batch.
    const values = o.init === 'normal' ? this.rng.normal(n) : this.rng.uniform(n, -1 / K, 1 / K);
    // (tidy frees the initial tensor: tf.variable keeps its own reference to the data)
    this.codebook = tf.tidy(() => tf.variable(tf.tensor2d(values, [K, o.dim]), o.ema === null)) as tf.Variable<tf.Rank.R2>;
    this.awaitingKmeans = o.init === 'kmeans';
    const tracks = o.ema !== null || o.deadCodeThreshold !== null;
    const ema = o.ema ?? { decay: EMA_OPTIONS.decay.default, epsilon: EMA_OPTIONS.epsilon.default }; // restarts alone count with the EMA defaults
    this.emaState = tracks ? new CodebookEma(K, o.dim, ema.decay, ema.epsilon, o.ema !== null) : null;
    this.stats = new CodebookStats(K, o.statsWindow);
  }

  /** K, the number of codes (options.codebookSize). */
  get codebookSize(): number {
    return this.options.codebookSize;
  }

  /** Vector width (options.dim). */
  get dim(): number {
    return this.options.dim;
  }

  /**
   * What a checkpoint must agree on: the options that change the forward's values or the set of
   * variables (the others — weights of the losses, init, gradient estimator, seed — only steer
   * training). Keys beyond {type, codebookSize, dim, distance} appear only when set, so checkpoints
   * saved before they were checked still load.
   */
  get config(): QuantizerConfig {
    const o = this.options;
    return {
      type: 'VectorQuantizer', codebookSize: o.codebookSize, dim: o.dim, distance: o.distance,
      ...(o.ema ? { ema: true } : {}),
      ...(o.deadCodeThreshold !== null ? { deadCodeThreshold: true } : {}),
    };
  }

  /** Variables an optimizer should train: [codebook], or [] under EMA. */
  trainableVariables(): tf.Variable[] {
    this.assertAlive();
    return this.options.ema ? [] : [this.codebook];
  }

  /** "codebook", and the EMA statistics "emaState.clusterSize" (+ "emaState.embedSum" under ema) when kept. */
  namedVariables(): Map<string, tf.Variable> {
    this.assertAlive();
    const out = new Map<string, tf.Variable>([['codebook', this.codebook]]);
    if (this.emaState) {
      out.set('emaState.clusterSize', this.emaState.clusterSize);
      if (this.emaState.embedSum) out.set('emaState.embedSum', this.emaState.embedSum);
    }
    return out;
  }

  /** The codes as used in distances ([K, dim]; unit rows for cosine). Caller disposes. */
  codes(): tf.Tensor2D {
    this.assertAlive();
    return this.options.distance === 'cosine' ? l2Normalize(this.codebook) : (this.codebook.clone() as tf.Tensor2D);
  }

  /** Place the codebook by k-means on z ([..., dim]); `init: 'kmeans'` calls it on the first forward. */
  initFromData(z: tf.Tensor): void {
    this.assertAlive();
    checkVectors('VectorQuantizer.initFromData(z)', z, this.dim);
    const c = tf.tidy(() => {
      const x = this.space(tf.reshape(z, [-1, this.dim]) as tf.Tensor2D);
      return kmeans(x, this.codebookSize, this.rng, { cosine: this.options.distance === 'cosine' });
    });
    this.codebook.assign(c);
    c.dispose();
    this.awaitingKmeans = false;
  }

  /**
   * Quantize z: [..., dim] (see VQOutput). In training mode (default) also applies one EMA
   * step, dead-code restarts and `stats.update`, after the outputs are computed from the
   * codebook as it was (Sonnet order). Works inside tf.tidy / tf.variableGrads / minimize.
   */
  forward(z: tf.Tensor, opts: VQForwardOptions = {}): VQOutput {
    this.assertAlive();
    const training = checkForwardInput('VectorQuantizer', z, this.dim, opts, this.checkFinite);
    const lead = z.shape.slice(0, -1);
    const N = lead.reduce((a, b) => a * b, 1);
    checkVQMemory('VectorQuantizer.forward(z)', N, this.codebookSize, this.dim);
    // k-means placement happens on the first *training* batch: evaluation changes no state.
    if (this.awaitingKmeans && training) this.initFromData(z);
    const o = this.options;
    return tf.tidy(() => {
      const x = this.space(tf.reshape(z, [-1, this.dim]) as tf.Tensor2D); // [N, dim]
      // A snapshot of the codebook: the EMA/restart assignments below must not change what the tape saw.
      const snap = o.ema ? stopGradient(this.codebook) : this.codebook.clone(); // [K, dim]
      const e = o.distance === 'cosine' ? l2Normalize(snap) : snap; // [K, dim]
      // ginka-generator's entropy term: p̄ = mean_n softmax(−d / T) with d the squared distances [N, K]; one op whose
      // backward keeps only the softmax (see assignCodes), and the nearest codes idx [N].
      const { indices: idx, softUsage: pbar } = assignCodes(x, e, o.entropyTemperature); // [N], [K]
      // z_q = e[idx] [N, dim], the value of onehot·e, with its gradient to e summed per code (saves idx, not a one-hot)
      const zq = gatherRows(e, idx);
      const commitLoss = tf.mean(tf.square(tf.sub(x, stopGradient(zq)))) as tf.Scalar;
      const codebookLoss = tf.mean(tf.square(tf.sub(stopGradient(x), zq))) as tf.Scalar;
      // ginka-generator: Σ p̄ log(p̄ + 1e-10) = −H(p̄).
      const negBatchEntropy = tf.sum(tf.mul(pbar, tf.log(tf.add(pbar, 1e-10)))) as tf.Scalar;
      // MaskGIT / MAGVIT-v2 LFQ also minimise each sample's entropy H(p_n) (opt-in: it keeps an [N, K] tensor for the gradient).
      const entropyLoss = (o.entropyForm === 'batch' ? negBatchEntropy : tf.add(sampleEntropyOf(x, e, o.entropyTemperature), negBatchEntropy)) as tf.Scalar;
      // Under EMA codebookLoss has no gradient at all (sg(z), sg(codebook)): it only adds its value, so
      // curves compare across variants; Sonnet's VectorQuantizerEMA loss is loss − codebookLoss.
      // A term of weight 0 is left out of the sum rather than multiplied by 0: the same value (its
      // terms are finite), and the backward pass then skips it (the entropy term's is ~15 ops on [N, K]).
      const terms = ([[codebookLoss, o.codebookWeight], [commitLoss, o.commitmentWeight], [entropyLoss, o.entropyWeight]] as const)
        .filter(([, w]) => w !== 0).map(([t, w]) => tf.mul(t, w));
      const loss = (terms.length ? tf.addN(terms) : tf.mul(commitLoss, 0)) as tf.Scalar; // all weights 0: still a function of z
      // Batch code frequencies [K] from a one-hot that lives only here (no gradient, freed at once).
      const freq = tf.tidy(() => tf.mean(tf.cast(tf.oneHot(idx, this.codebookSize), 'float32'), 0) as tf.Tensor1D);
      const { perplexity, usage } = perplexityAndUsage(freq);
      if (training) this.trainStep(x, idx);
      return {
        // the same value either way; only the gradient to x differs (rotation.ts)
        quantized: tf.reshape(o.gradient === 'rotation' ? rotateTo(x, zq) : straightThrough(x, zq), z.shape),
        indices: tf.reshape(idx, lead),
        commitLoss, codebookLoss, entropyLoss, loss, perplexity, usage,
      };
    });
  }

  /**
   * The two entropies of the soft assignments p_n = softmax(−d(z_n, ·) / T), in nats, as plain
   * numbers: `batch` = H(p̄) of their average (log K when spread evenly) and `sample` = mean_n H(p_n)
   * (0 when every p_n is one-hot, log K when every p_n is flat). No gradient, no side effects.
   */
  softAssignmentEntropies(z: tf.Tensor): { batch: number; sample: number } {
    this.assertAlive();
    checkVectors('VectorQuantizer.softAssignmentEntropies(z)', z, this.dim);
    checkVQMemory('VectorQuantizer.softAssignmentEntropies(z)', z.size / this.dim, this.codebookSize, this.dim, { withGradient: false });
    return tf.tidy(() => {
      const x = this.space(tf.reshape(z, [-1, this.dim]) as tf.Tensor2D);
      const e = this.codes();
      const p = tf.softmax(tf.div(tf.neg(squaredDistances(x, e)), this.options.entropyTemperature)); // [N, K]
      const pbar = tf.mean(p, 0);
      const batch = tf.neg(tf.sum(tf.mul(pbar, tf.log(tf.add(pbar, 1e-10)))));
      return { batch: batch.dataSync()[0], sample: sampleEntropyOf(x, e, this.options.entropyTemperature).dataSync()[0] };
    });
  }

  /** Nearest-code indices of z: [..., dim] → int32 [...]. No gradient, no side effects. */
  encode(z: tf.Tensor): tf.Tensor {
    this.assertAlive();
    checkVectors('VectorQuantizer.encode(z)', z, this.dim);
    if (this.checkFinite) assertFiniteAndBounded('VectorQuantizer.encode(z)', z, this.dim);
    checkVQMemory('VectorQuantizer.encode(z)', z.size / this.dim, this.codebookSize, this.dim, { withGradient: false });
    return tf.tidy(() => {
      const x = this.space(tf.reshape(z, [-1, this.dim]) as tf.Tensor2D);
      const e = this.codes();
      return tf.reshape(tf.argMin(squaredDistances(x, e), 1), z.shape.slice(0, -1));
    });
  }

  /** Code vectors of integer indices ([...], tensor or array) → [..., dim]. Unit rows for cosine. */
  decode(indices: tf.Tensor | number | number[] | number[][]): tf.Tensor {
    this.assertAlive();
    const idx = checkIndices('VectorQuantizer.decode(indices)', indices, this.codebookSize);
    const out = tf.tidy(() => {
      const rows = lookupRows(this.codes(), tf.reshape(idx, [-1])); // [N, dim], no gradient
      return tf.reshape(rows, [...idx.shape, this.dim]);
    });
    idx.dispose();
    return out;
  }

  /** decode(encode(z)): the nearest codes, [..., dim]. No gradient, no side effects. */
  quantize(z: tf.Tensor): tf.Tensor {
    const idx = this.encode(z);
    const out = this.decode(idx);
    idx.dispose();
    return out;
  }

  /** After a checkpoint load assigned the codebook: `init: 'kmeans'` must not overwrite it. */
  restored(): void {
    this.awaitingKmeans = false;
  }

  /** Frees the codebook and EMA variables. The quantizer cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.codebook.dispose();
    this.emaState?.dispose();
  }

  /** The space vectors are compared in: l2-normalised for cosine.   [N, dim] */
  private space(zFlat: tf.Tensor2D): tf.Tensor2D {
    return this.options.distance === 'cosine' ? l2Normalize(zFlat) : zFlat;
  }

  /** EMA step (Sonnet), then dead-code restarts (Jukebox), then stats. x: [N, dim], idx: [N]. */
  private trainStep(x: tf.Tensor2D, idx: tf.Tensor1D): void {
    const ema = this.emaState;
    const o = this.options;
    if (ema) {
      tf.tidy(() => {
        const onehot = tf.cast(tf.oneHot(idx, this.codebookSize), 'float32') as tf.Tensor2D; // [N, K], no gradient
        const counts = tf.sum(onehot, 0) as tf.Tensor1D; // [K]
        const sums = o.ema ? (tf.matMul(onehot, x, true, false) as tf.Tensor2D) : null; // [K, dim]
        ema.update(counts, sums);
        if (o.ema) this.codebook.assign(ema.codebook());
      });
    }
    this.lastRestarted = ema && o.deadCodeThreshold !== null ? this.restartDeadCodes(x, ema, o.deadCodeThreshold) : [];
    this.stats.update(idx);
    this.stats.restarts += this.lastRestarted.length;
  }

  /** Codes whose EMA count is below `threshold` take the place of random rows of x (seeded). */
  private restartDeadCodes(x: tf.Tensor2D, ema: CodebookEma, threshold: number): number[] {
    const counts = ema.clusterSize.dataSync();
    const dead: number[] = [];
    for (let k = 0; k < this.codebookSize; k++) if (counts[k] < threshold) dead.push(k);
    if (dead.length === 0) return dead;
    const rows = this.rng.sample(x.shape[0], dead.length);
    const src = new Int32Array(this.codebookSize); // row of x for each code (0 where alive)
    const mask = new Float32Array(this.codebookSize); // 1 where the code is restarted
    dead.forEach((k, j) => { src[k] = rows[j]; mask[k] = 1; });
    tf.tidy(() => {
      const m = tf.tensor1d(mask);
      const repl = tf.gather(x, tf.tensor1d(src, 'int32')) as tf.Tensor2D; // [K, dim]
      this.codebook.assign(replaceRows(this.codebook, m, repl) as tf.Tensor2D);
      ema.reseed(m, repl, threshold);
    });
    return dead;
  }

  private assertAlive(): void {
    assertAlive('VectorQuantizer', this.disposed);
  }
}

/** mean_n H(p_n) in nats, p_n = softmax(−d(x_n, ·) / T): x [N, dim], e [K, dim] → []. Differentiable. */
function sampleEntropyOf(x: tf.Tensor2D, e: tf.Tensor2D, temperature: number): tf.Scalar {
  return tf.tidy(() => {
    const logits = tf.div(tf.neg(squaredDistances(x, e)), temperature); // [N, K]
    return tf.neg(tf.mean(tf.sum(tf.mul(tf.softmax(logits), tf.logSoftmax(logits)), 1))) as tf.Scalar;
  });
}
