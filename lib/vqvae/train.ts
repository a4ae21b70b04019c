/**
 * The VQ-VAE's trainer and its batched evaluation: a thin user of lib/train's loop (batches,
 * Adam, interrupts, progress); this file holds only what is the VQ-VAE's (its loss, its metrics).
 */
import * as tf from '@tensorflow/tfjs';
import { VQVAE } from './model';
import { codeStats } from '../metrics';
import { FitOptions, TRAINER_OPTIONS, TrainProgress, TrainerBase, TrainerOptions, adamStep, nextTick, takeRows } from '../train/index';
export { codeStats };
import { assertFinite, describe, is, resolveOptions } from '../validate';
import { interruptGuard } from '../interrupt';

/** Metrics of one VQ-VAE step. */
export interface StepMetrics extends TrainProgress {
  loss: number; // reconMse + quantizerLoss
  reconMse: number; // mean((x − x̂)²)
  quantizerLoss: number; // codebook + β·commitment (0 for FSQ)
  perplexity: number; // exp(−Σ p log p) of this batch's code frequencies
  usage: number; // fraction of codes used in this batch
  deadCodes: number; // codes unused over the bottleneck's stats window (its CodebookStats.deadCount())
}

/** Options of evaluateVQVAE and encodeDataset. */
export const BATCHED_OPTIONS = {
  /** Images per forward pass (≥ 1). Default 500. */
  batchSize: { check: is.int(1), default: 500 },
};

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
   * One Adam step on a batch [B, H, W, C] (checked here: a step called from outside the loop).
   * Perplexity, usage and dead codes are the bottleneck's own statistics (its CodebookStats),
   * updated by the step's training forward.
   */
  async trainStep(batch: tf.Tensor4D): Promise<Omit<StepMetrics, keyof TrainProgress>> {
    this.assertAlive();
    this.model.checkImages('VQVAETrainer.trainStep(batch)', batch);
    assertFinite('VQVAETrainer.trainStep(batch)', batch);
    return this.step(batch);
  }

  private async step(batch: tf.Tensor4D): Promise<Omit<StepMetrics, keyof TrainProgress>> {
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
      return await this.step(x);
    } finally {
      x.dispose();
    }
  }

  /** Train for `epochs` over images [N, H, W, C] (seeded shuffling each epoch); the images are checked once, here. */
  async fit(images: tf.Tensor4D, opts: FitOptions<StepMetrics> = {}): Promise<StepMetrics[]> {
    this.assertAlive();
    this.model.checkImages('VQVAETrainer.fit(images)', images);
    assertFinite('VQVAETrainer.fit(images)', images);
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
