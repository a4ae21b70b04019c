/**
 * Training loops kept apart from the models (the minGPT split): seeded shuffling, batches,
 * Adam, per-step metrics and a progress callback. Async: they yield to the event loop after
 * every step so that a notebook display can update. Every tensor they make is disposed.
 */
import * as tf from '@tensorflow/tfjs';
import { VQVAE } from './model';
import { checkInt, checkKeys } from './layers';
import { mulberry32, permutation } from '../rng';

/** TrainProgress fields every step's metrics carry. */
export interface TrainProgress {
  step: number; // 1-based, across fit() calls
  epoch: number; // 0-based
  stepInEpoch: number; // 1-based
  stepsPerEpoch: number;
  imagesPerSec: number; // this step's throughput
  elapsedSec: number; // since this fit() started
  etaSec: number; // estimate for the rest of this fit()
}

/** Metrics of one VQ-VAE step. */
export interface StepMetrics extends TrainProgress {
  loss: number; // reconMse + quantizerLoss
  reconMse: number; // mean((x − x̂)²)
  quantizerLoss: number; // codebook + β·commitment (0 for FSQ)
  perplexity: number; // exp(−Σ p log p) of this batch's code frequencies
  usage: number; // fraction of codes used in this batch
  deadCodes: number; // codes unused over the last `deadCodeWindow` steps
}

export interface TrainerOptions {
  batchSize?: number; // 256 (DL-Demos mnist_cfg1)
  learningRate?: number; // 2e-4 (DL-Demos mnist_cfg1; the prior: 1e-3)
  seed?: number; // seed of the shuffling
  dropLast?: boolean; // drop the last partial batch of an epoch (false, as torch's DataLoader)
}

export interface FitOptions<M = StepMetrics> {
  epochs?: number; // 20 (DL-Demos mnist_cfg1)
  onStep?: (m: M) => void | Promise<void>;
  onEpoch?: (epoch: number, last: M) => void | Promise<void>;
  maxSteps?: number; // stop after this many steps in this call
  signal?: AbortSignal; // stop between steps when aborted
}

const FIT_KEYS = ['epochs', 'onStep', 'onEpoch', 'maxSteps', 'signal'];

/** The batches of one epoch: a seeded permutation of 0..n−1 cut into `batchSize` pieces. */
export function epochBatches(n: number, batchSize: number, rand: () => number, dropLast = false): Int32Array[] {
  const p = permutation(n, rand);
  const out: Int32Array[] = [];
  for (let i = 0; i < n; i += batchSize) {
    if (dropLast && i + batchSize > n) break;
    out.push(p.subarray(i, Math.min(n, i + batchSize)));
  }
  return out;
}

/** Rows of `x` [N, …] at `idx` → [len(idx), …]. */
export function takeRows<T extends tf.Tensor>(x: T, idx: Int32Array): T {
  return tf.tidy(() => tf.gather(x, tf.tensor1d(idx, 'int32')) as T);
}

/** Code counts → perplexity exp(−Σ p log p) and usage (fraction of codes with p > 0). */
export function codeStats(counts: ArrayLike<number>): { perplexity: number; usage: number } {
  let total = 0;
  let used = 0;
  let h = 0;
  for (let k = 0; k < counts.length; k++) total += counts[k];
  for (let k = 0; k < counts.length; k++) {
    if (counts[k] > 0) {
      const p = counts[k] / total;
      h -= p * Math.log(p);
      used++;
    }
  }
  return { perplexity: Math.exp(h), usage: used / counts.length };
}

export const nextTick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Adam (PyTorch defaults: β1 0.9, β2 0.999, ε 1e-8, as DL-Demos main.py) on variables' gradients. */
export function adamStep(opt: tf.Optimizer, f: () => tf.Scalar, vars: tf.Variable[]): tf.Scalar {
  const { value, grads } = tf.variableGrads(f, vars);
  opt.applyGradients(grads as unknown as Parameters<tf.Optimizer['applyGradients']>[0]);
  tf.dispose(Object.values(grads));
  return value;
}

/** Seeded epochs over n examples, timing, callbacks and yielding; subclasses do one step. */
export abstract class TrainerBase<M extends TrainProgress> {
  readonly batchSize: number;
  readonly learningRate: number;
  readonly optimizer: tf.AdamOptimizer;
  readonly history: M[] = [];
  protected readonly rand: () => number;
  protected readonly dropLast: boolean;
  protected epoch = 0;

  constructor(where: string, opts: TrainerOptions, defaultLr: number, extraKeys: string[] = []) {
    checkKeys(where, opts, ['batchSize', 'learningRate', 'seed', 'dropLast', ...extraKeys]);
    this.batchSize = checkInt(`${where} opts.batchSize`, opts.batchSize ?? 256);
    this.learningRate = opts.learningRate ?? defaultLr;
    if (!(this.learningRate > 0)) throw new Error(`${where} opts.learningRate: expected > 0, got ${opts.learningRate}`);
    this.dropLast = opts.dropLast ?? false;
    this.rand = mulberry32(opts.seed ?? 0);
    this.optimizer = tf.train.adam(this.learningRate, 0.9, 0.999, 1e-8);
  }

  /** One step on the examples `idx`; returns its metrics without the TrainProgress fields. */
  protected abstract stepOn(idx: Int32Array): Promise<Omit<M, keyof TrainProgress>>;

  protected async loop(n: number, opts: FitOptions<M>): Promise<M[]> {
    checkKeys('fit', opts, FIT_KEYS);
    const epochs = checkInt('fit opts.epochs', opts.epochs ?? 20);
    const spe = this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
    if (spe < 1) throw new Error(`fit: ${n} examples is fewer than one batch of ${this.batchSize}`);
    const total = Math.min(epochs * spe, opts.maxSteps ?? Infinity);
    const start = performance.now();
    const out: M[] = [];
    for (let e = 0; e < epochs && out.length < total; e++) {
      const batches = epochBatches(n, this.batchSize, this.rand, this.dropLast);
      let last: M | undefined;
      for (let s = 0; s < batches.length && out.length < total; s++) {
        if (opts.signal?.aborted) return out;
        const t0 = performance.now();
        const r = await this.stepOn(batches[s]);
        const now = performance.now();
        const elapsedSec = (now - start) / 1000;
        last = {
          ...r, step: this.history.length + 1, epoch: this.epoch, stepInEpoch: s + 1, stepsPerEpoch: spe,
          imagesPerSec: (1000 * batches[s].length) / (now - t0), elapsedSec,
          etaSec: (elapsedSec / (out.length + 1)) * (total - out.length - 1),
        } as M;
        this.history.push(last);
        out.push(last);
        if (opts.onStep) await opts.onStep(last);
        await nextTick();
      }
      if (last && opts.onEpoch) await opts.onEpoch(this.epoch, last);
      if (last?.stepInEpoch === spe) this.epoch++;
    }
    return out;
  }

  /** Dispose the optimizer's state (the model is the caller's). */
  dispose(): void {
    this.optimizer.dispose();
  }
}

/** Trains a VQVAE with Adam on images [N, H, W, C] (DL-Demos main.py train_vqvae). */
export class VQVAETrainer extends TrainerBase<StepMetrics> {
  /** Code counts over all steps so far. */
  readonly codeCounts: Float64Array;
  private readonly window: Int32Array[] = [];
  private readonly deadCodeWindow: number;
  private images: tf.Tensor4D | null = null;

  constructor(readonly model: VQVAE, opts: TrainerOptions & { deadCodeWindow?: number } = {}) {
    super('VQVAETrainer', opts, 2e-4, ['deadCodeWindow']);
    if (!(model instanceof VQVAE)) throw new Error('VQVAETrainer(model): expected a VQVAE');
    this.deadCodeWindow = checkInt('VQVAETrainer opts.deadCodeWindow', opts.deadCodeWindow ?? 10);
    this.codeCounts = new Float64Array(model.bottleneck.codebookSize);
  }

  /** One Adam step on a batch [B, H, W, C]. */
  async trainStep(batch: tf.Tensor4D): Promise<Omit<StepMetrics, keyof TrainProgress>> {
    let kept: tf.Tensor[] = [];
    const value = adamStep(this.optimizer, () => {
      const l = this.model.computeLoss(batch);
      kept = [tf.keep(l.reconMse), tf.keep(l.quantizerLoss), tf.keep(l.q.indices)];
      return l.loss;
    }, this.model.trainableVariables());
    const [lossA, reconA, qA, idxA] = await Promise.all([value, ...kept].map((t) => t.data()));
    tf.dispose([value, ...kept]);
    return { loss: lossA[0], reconMse: reconA[0], quantizerLoss: qA[0], ...this.countCodes(idxA) };
  }

  private countCodes(idx: ArrayLike<number>): { perplexity: number; usage: number; deadCodes: number } {
    const k = this.codeCounts.length;
    const counts = new Int32Array(k);
    for (let i = 0; i < idx.length; i++) counts[idx[i]]++;
    for (let i = 0; i < k; i++) this.codeCounts[i] += counts[i];
    this.window.push(counts);
    if (this.window.length > this.deadCodeWindow) this.window.shift();
    let deadCodes = 0;
    for (let c = 0; c < k; c++) if (this.window.every((w) => w[c] === 0)) deadCodes++;
    return { ...codeStats(counts), deadCodes };
  }

  protected async stepOn(idx: Int32Array): Promise<Omit<StepMetrics, keyof TrainProgress>> {
    const x = takeRows(this.images!, idx);
    try {
      return await this.trainStep(x);
    } finally {
      x.dispose();
    }
  }

  /** Train for `epochs` over images [N, H, W, C] (seeded shuffling each epoch). */
  async fit(images: tf.Tensor4D, opts: FitOptions = {}): Promise<StepMetrics[]> {
    if (!(images instanceof tf.Tensor) || images.rank !== 4 || images.shape[3] !== this.model.inChannels) {
      throw new Error(`fit(images): expected a tensor [N, H, W, ${this.model.inChannels}]`);
    }
    this.images = images;
    try {
      return await this.loop(images.shape[0], opts);
    } finally {
      this.images = null;
    }
  }
}

/** Test-set evaluation: reconstruction MSE and code statistics, batch by batch. */
export async function evaluateVQVAE(
  model: VQVAE, images: tf.Tensor4D, opts: { batchSize?: number } = {},
): Promise<{ mse: number; perplexity: number; usage: number; counts: Int32Array }> {
  checkKeys('evaluateVQVAE', opts, ['batchSize']);
  const bs = checkInt('evaluateVQVAE opts.batchSize', opts.batchSize ?? 500);
  const n = images.shape[0];
  const counts = new Int32Array(model.bottleneck.codebookSize);
  let sse = 0;
  for (let i = 0; i < n; i += bs) {
    const [se, idx] = tf.tidy(() => {
      const x = images.slice(i, Math.min(bs, n - i));
      const f = model.forward(x, { training: false });
      return [tf.sum(tf.squaredDifference(x, f.xHat)), f.q.indices];
    });
    const [seA, idxA] = await Promise.all([se.data(), idx.data()]);
    tf.dispose([se, idx]);
    sse += seA[0];
    for (let j = 0; j < idxA.length; j++) counts[idxA[j]]++;
    await nextTick();
  }
  return { mse: sse / images.size, ...codeStats(counts), counts };
}

/** Code indices of a whole image set, batch by batch: images [N, H, W, C] → int32 [N, H/4, W/4]. */
export async function encodeDataset(model: VQVAE, images: tf.Tensor4D, opts: { batchSize?: number } = {}): Promise<tf.Tensor3D> {
  checkKeys('encodeDataset', opts, ['batchSize']);
  const bs = checkInt('encodeDataset opts.batchSize', opts.batchSize ?? 500);
  const parts: tf.Tensor3D[] = [];
  for (let i = 0; i < images.shape[0]; i += bs) {
    parts.push(tf.tidy(() => model.encodeIndices(images.slice(i, Math.min(bs, images.shape[0] - i)))));
    await nextTick();
  }
  const out = tf.concat(parts) as tf.Tensor3D;
  tf.dispose(parts);
  return out;
}
