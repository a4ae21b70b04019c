/** Training the PixelCNN prior on code grids (DL-Demos main.py train_generative_model: Adam 1e-3, CE). */
import * as tf from '@tensorflow/tfjs';
import { GatedPixelCNN } from './pixelcnn';
import { FitOptions, TRAINER_OPTIONS, TrainProgress, TrainerBase, adamStep, takeRows } from '../train/index';
import { OptionsOf, describe, is, resolveOptions } from '../validate';

/** TRAINER_OPTIONS with the prior's learning rate: 1e-3 (DL-Demos train_generative_model). */
export const PRIOR_TRAINER_OPTIONS = {
  ...TRAINER_OPTIONS,
  /** Adam's learning rate (finite, > 0). Default 1e-3 (DL-Demos train_generative_model). */
  learningRate: { check: is.positive, default: 1e-3 },
};
/** Options of new PixelCNNTrainer(model, options) (see PRIOR_TRAINER_OPTIONS). */
export type PixelCNNTrainerOptions = OptionsOf<typeof PRIOR_TRAINER_OPTIONS>;

/** What one PixelCNNTrainer step reports. */
export interface PriorStepMetrics extends TrainProgress {
  loss: number; // mean cross-entropy, nats per code
  bitsPerCode: number; // loss / ln 2
}

/** Trains a GatedPixelCNN on code grids (cross-entropy, Adam) with the library's training loop. */
export class PixelCNNTrainer extends TrainerBase<PriorStepMetrics> {
  private codes: tf.Tensor3D | null = null;
  private labels: Int32Array | null = null;

  constructor(readonly prior: GatedPixelCNN, opts: PixelCNNTrainerOptions = {}) {
    super('PixelCNNTrainer', resolveOptions('PixelCNNTrainer', PRIOR_TRAINER_OPTIONS, opts));
    if (!(prior instanceof GatedPixelCNN)) {
      this.dispose();
      throw new Error(`PixelCNNTrainer(prior) must be a GatedPixelCNN, got ${describe(prior)}`);
    }
  }

  /** One Adam step on code grids [B, h, w] (+ labels [B] for a conditional prior). */
  async trainStep(codes: tf.Tensor3D, labels?: Int32Array | number[]): Promise<Omit<PriorStepMetrics, keyof TrainProgress>> {
    this.assertAlive();
    this.prior.checkCodes('PixelCNNTrainer.trainStep(codes)', codes);
    return this.step(codes, labels);
  }

  private async step(codes: tf.Tensor3D, labels?: Int32Array | number[]): Promise<Omit<PriorStepMetrics, keyof TrainProgress>> {
    const value = adamStep(this.optimizer, () => this.prior.loss(codes, labels), this.prior.trainableVariables());
    const loss = (await value.data())[0];
    value.dispose();
    return { loss, bitsPerCode: loss / Math.LN2 };
  }

  protected async stepOn(idx: Int32Array): Promise<Omit<PriorStepMetrics, keyof TrainProgress>> {
    const x = takeRows(this.codes!, idx);
    const lab = this.labels ? Int32Array.from(idx, (i) => this.labels![i]) : undefined;
    try {
      return await this.step(x, lab);
    } finally {
      x.dispose();
    }
  }

  /** Train on code grids [N, h, w] int32 (labels [N] when the prior is class-conditional). */
  async fit(codes: tf.Tensor3D, opts: FitOptions<PriorStepMetrics> & { labels?: Int32Array | number[] } = {}): Promise<PriorStepMetrics[]> {
    this.assertAlive();
    const { labels, ...rest } = opts ?? {};
    const { numClasses } = this.prior.config;
    this.prior.checkCodes('PixelCNNTrainer.fit(codes)', codes);
    if (numClasses > 0 && (!labels || labels.length !== codes.shape[0])) {
      throw new Error(`PixelCNNTrainer.fit(options.labels) must be ${codes.shape[0]} labels for a class-conditional prior, got ${labels?.length ?? 'none'}`);
    }
    if (numClasses === 0 && labels) throw new Error('PixelCNNTrainer.fit(options.labels): the prior is unconditional (numClasses 0)');
    this.codes = codes;
    this.labels = labels ? Int32Array.from(labels) : null;
    try {
      return await this.loop(codes.shape[0], rest);
    } finally {
      this.codes = null;
      this.labels = null;
    }
  }
}
