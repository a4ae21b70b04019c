/**
 * Training loops kept apart from the models (the minGPT split): seeded shuffling, batches,
 * Adam, per-step metrics and a progress callback. Async: they yield to the event loop after
 * every step so that a notebook display can update. Every tensor they make is disposed.
 */
import * as tf from '@tensorflow/tfjs';
import { VQVAE } from './model';
import { Adam } from '../nn/adam';
import { codeStats } from '../metrics';
import { mulberry32, permutation } from '../rng';
import {
  OptionsOf, ResolvedOf, assertAlive, assertBackend, assertFinite, checkInt, describe, is, resolveOptions,
} from '../validate';
import { interruptGuard } from '../interrupt';

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
  deadCodes: number; // codes unused over the bottleneck's stats window (its CodebookStats.deadCount())
}

/** Options of the trainers (VQVAETrainer; PixelCNNTrainer with its own learning-rate default). */
export const TRAINER_OPTIONS = {
  /** Examples per step (≥ 1). Default 256 (DL-Demos mnist_cfg1). */
  batchSize: { check: is.int(1), default: 256 },
  /** Adam's learning rate (finite, > 0). Default 2e-4 (DL-Demos mnist_cfg1; the prior: 1e-3). */
  learningRate: { check: is.positive, default: 2e-4 },
  /** Random seed of the shuffling. Default 0. */
  seed: { check: is.seed, default: 0 },
  /** Drop the last partial batch of an epoch. Default false, as torch's DataLoader. */
  dropLast: { check: is.boolean, default: false },
};
export type TrainerOptions = OptionsOf<typeof TRAINER_OPTIONS>;

const checkSignal = (v: AbortSignal, name: string): AbortSignal => {
  if (!(v instanceof AbortSignal)) throw new Error(`${name} must be an AbortSignal, got ${describe(v)}`);
  return v;
};

/** Options of the trainers' fit(). */
export const FIT_OPTIONS = {
  /** Passes over the data (≥ 1). Default 20 (DL-Demos mnist_cfg1). */
  epochs: { check: is.int(1), default: 20 },
  /** Called after every step with its metrics. */
  onStep: { check: is.function, optional: true as const },
  /** Called after every epoch with the epoch (0-based) and its last step's metrics. */
  onEpoch: { check: is.function, optional: true as const },
  /** Stop after this many steps in this call. */
  maxSteps: { check: is.int(0), optional: true as const },
  /** Stop between steps when aborted. */
  signal: { check: checkSignal, optional: true as const },
};

export interface FitOptions<M = StepMetrics> extends Omit<OptionsOf<typeof FIT_OPTIONS>, 'onStep' | 'onEpoch'> {
  onStep?: (m: M) => void | Promise<void>;
  onEpoch?: (epoch: number, last: M) => void | Promise<void>;
}

/** Options of evaluateVQVAE and encodeDataset. */
export const BATCHED_OPTIONS = {
  /** Images per forward pass (≥ 1). Default 500. */
  batchSize: { check: is.int(1), default: 500 },
};

/** The batches of one epoch: a seeded permutation of 0..n−1 cut into `batchSize` pieces. */
export function epochBatches(n: number, batchSize: number, rand: () => number, dropLast = false): Int32Array[] {
  checkInt('epochBatches(n)', n, 0);
  checkInt('epochBatches(batchSize)', batchSize);
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

export { codeStats };

export const nextTick = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * tf.variableGrads, leaving no tensor behind when `f` throws (e.g. the quantizer rejecting a
 * NaN latent): tfjs then keeps the tensors its tape saved for the backward pass (tfjs-core
 * engine.gradients frees them only after a backward pass), so they are freed here.
 */
export function variableGradsOrThrow(f: () => tf.Scalar, vars: tf.Variable[]): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  try {
    return tf.variableGrads(f, vars);
  } catch (e) {
    const state = tf.engine().state as unknown as { gradientDepth: number; activeTape: { saved?: tf.Tensor[] }[] | null };
    if (state.gradientDepth === 0 && state.activeTape) {
      for (const node of state.activeTape) for (const t of node.saved ?? []) t.dispose();
      state.activeTape = null;
    }
    throw e;
  }
}

/** Adam (PyTorch defaults: β1 0.9, β2 0.999, ε 1e-8, as DL-Demos main.py) on variables' gradients. */
export function adamStep(opt: Adam, f: () => tf.Scalar, vars: tf.Variable[]): tf.Scalar {
  const { value, grads } = variableGradsOrThrow(f, vars);
  opt.applyGradients(grads);
  tf.dispose(Object.values(grads));
  return value;
}

/** Seeded epochs over n examples, timing, callbacks and yielding; subclasses do one step. */
export abstract class TrainerBase<M extends TrainProgress> {
  readonly batchSize: number;
  readonly learningRate: number;
  readonly optimizer: Adam;
  readonly history: M[] = [];
  protected readonly rand: () => number;
  protected readonly dropLast: boolean;
  protected epoch = 0;
  private disposed = false;

  /** `opts`: resolved by the subclass from its table (TRAINER_OPTIONS or its own defaults). */
  constructor(protected readonly owner: string, opts: ResolvedOf<typeof TRAINER_OPTIONS>) {
    assertBackend(owner);
    this.batchSize = opts.batchSize;
    this.learningRate = opts.learningRate;
    this.dropLast = opts.dropLast;
    this.rand = mulberry32(opts.seed);
    this.optimizer = new Adam(this.learningRate, 0.9, 0.999, 1e-8);
  }

  protected assertAlive(): void {
    assertAlive(this.owner, this.disposed);
  }

  /** One step on the examples `idx`; returns its metrics without the TrainProgress fields. */
  protected abstract stepOn(idx: Int32Array): Promise<Omit<M, keyof TrainProgress>>;

  protected async loop(n: number, opts: FitOptions<M>): Promise<M[]> {
    this.assertAlive();
    const { epochs } = resolveOptions(`${this.owner}.fit(options)`, FIT_OPTIONS, opts);
    const stepsPerEpoch = this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
    if (stepsPerEpoch < 1) throw new Error(`fit: ${n} examples is fewer than one batch of ${this.batchSize}`);
    const total = Math.min(epochs * stepsPerEpoch, opts.maxSteps ?? Infinity);
    const start = performance.now();
    const out: M[] = [];
    const check = interruptGuard('fit');
    const done = () => `${out.length} of ${total} steps`;
    for (let e = 0; e < epochs && out.length < total; e++) {
      const batches = epochBatches(n, this.batchSize, this.rand, this.dropLast);
      let last: M | undefined;
      for (let s = 0; s < batches.length && out.length < total; s++) {
        if (opts.signal?.aborted) return out;
        await check(done);
        const t0 = performance.now();
        const r = await this.stepOn(batches[s]);
        const now = performance.now();
        const elapsedSec = (now - start) / 1000;
        last = {
          ...r, step: this.history.length + 1, epoch: this.epoch, stepInEpoch: s + 1, stepsPerEpoch,
          imagesPerSec: (1000 * batches[s].length) / (now - t0), elapsedSec,
          etaSec: (elapsedSec / (out.length + 1)) * (total - out.length - 1),
        } as M;
        this.history.push(last);
        out.push(last);
        if (opts.onStep) await opts.onStep(last);
        await nextTick();
      }
      if (last && opts.onEpoch) {
        await check(done);
        await opts.onEpoch(this.epoch, last);
      }
      if (last?.stepInEpoch === stepsPerEpoch) this.epoch++;
    }
    return out;
  }

  /** Dispose the optimizer's state (the model is the caller's). The trainer cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.optimizer.dispose();
  }
}

/** Trains a VQVAE with Adam on images [N, H, W, C] (DL-Demos main.py train_vqvae). */
export class VQVAETrainer extends TrainerBase<StepMetrics> {
  private images: tf.Tensor4D | null = null;

  constructor(readonly model: VQVAE, opts: TrainerOptions = {}) {
    super('VQVAETrainer', resolveOptions('VQVAETrainer', TRAINER_OPTIONS, opts));
    if (!(model instanceof VQVAE)) {
      this.dispose();
      throw new Error(`VQVAETrainer(model) must be a VQVAE, got ${describe(model)}`);
    }
  }

  /**
   * One Adam step on a batch [B, H, W, C]. Perplexity, usage and dead codes are the
   * bottleneck's own statistics (its CodebookStats), updated by the step's training forward.
   */
  async trainStep(batch: tf.Tensor4D): Promise<Omit<StepMetrics, keyof TrainProgress>> {
    this.assertAlive();
    this.model.checkImages('VQVAETrainer.trainStep(batch)', batch);
    assertFinite('VQVAETrainer.trainStep(batch)', batch);
    let kept: tf.Tensor[] = [];
    const value = adamStep(this.optimizer, () => {
      const l = this.model.computeLoss(batch);
      kept = [tf.keep(l.reconMse), tf.keep(l.quantizerLoss)];
      return l.loss;
    }, this.model.trainableVariables());
    const [lossA, reconA, qA] = await Promise.all([value, ...kept].map((t) => t.data()));
    tf.dispose([value, ...kept]);
    const stats = this.model.bottleneck.stats;
    const last = stats.last ?? { perplexity: 0, usage: 0 };
    return { loss: lossA[0], reconMse: reconA[0], quantizerLoss: qA[0], perplexity: last.perplexity, usage: last.usage, deadCodes: stats.deadCount() };
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
    this.assertAlive();
    this.model.checkImages('VQVAETrainer.fit(images)', images);
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
  if (!(model instanceof VQVAE)) throw new Error(`evaluateVQVAE(model) must be a VQVAE, got ${describe(model)}`);
  const bs = resolveOptions('evaluateVQVAE(model, images, options)', BATCHED_OPTIONS, opts).batchSize;
  model.checkImages('evaluateVQVAE(images)', images);
  const n = images.shape[0];
  const counts = new Int32Array(model.bottleneck.codebookSize);
  let sse = 0;
  const check = interruptGuard('evaluateVQVAE');
  for (let i = 0; i < n; i += bs) {
    await check(() => `${i} of ${n} images`);
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
  if (!(model instanceof VQVAE)) throw new Error(`encodeDataset(model) must be a VQVAE, got ${describe(model)}`);
  const bs = resolveOptions('encodeDataset(model, images, options)', BATCHED_OPTIONS, opts).batchSize;
  model.checkImages('encodeDataset(images)', images);
  const parts: tf.Tensor3D[] = [];
  const check = interruptGuard('encodeDataset');
  for (let i = 0; i < images.shape[0]; i += bs) {
    try {
      await check(() => `${i} of ${images.shape[0]} images`);
    } catch (e) {
      tf.dispose(parts);
      throw e;
    }
    parts.push(tf.tidy(() => model.encodeIndices(images.slice(i, Math.min(bs, images.shape[0] - i)))));
    await nextTick();
  }
  const out = tf.concat(parts) as tf.Tensor3D;
  tf.dispose(parts);
  return out;
}
