/** Training the PixelCNN prior on code grids (DL-Demos main.py train_generative_model: Adam 1e-3, CE). */
import * as tf from '@tensorflow/tfjs';
import { GatedPixelCNN, checkRange } from './pixelcnn';
import { FitOptions, TrainProgress, TrainerBase, TrainerOptions, adamStep, takeRows } from './train';

export interface PriorStepMetrics extends TrainProgress {
  loss: number; // mean cross-entropy, nats per code
  bitsPerCode: number; // loss / ln 2
}

export class PixelCNNTrainer extends TrainerBase<PriorStepMetrics> {
  private codes: tf.Tensor3D | null = null;
  private labels: Int32Array | null = null;

  constructor(readonly prior: GatedPixelCNN, opts: TrainerOptions = {}) {
    super('PixelCNNTrainer', opts, 1e-3);
    if (!(prior instanceof GatedPixelCNN)) throw new Error('PixelCNNTrainer(prior): expected a GatedPixelCNN');
  }

  /** One Adam step on code grids [B, h, w] (+ labels [B] for a conditional prior). */
  async trainStep(codes: tf.Tensor3D, labels?: Int32Array | number[]): Promise<Omit<PriorStepMetrics, keyof TrainProgress>> {
    const value = adamStep(this.optimizer, () => this.prior.loss(codes, labels), this.prior.trainableVariables());
    const loss = (await value.data())[0];
    value.dispose();
    return { loss, bitsPerCode: loss / Math.LN2 };
  }

  protected async stepOn(idx: Int32Array): Promise<Omit<PriorStepMetrics, keyof TrainProgress>> {
    const x = takeRows(this.codes!, idx);
    const lab = this.labels ? Int32Array.from(idx, (i) => this.labels![i]) : undefined;
    try {
      return await this.trainStep(x, lab);
    } finally {
      x.dispose();
    }
  }

  /** Train on code grids [N, h, w] int32 (labels [N] when the prior is class-conditional). */
  async fit(codes: tf.Tensor3D, opts: FitOptions<PriorStepMetrics> & { labels?: Int32Array | number[] } = {}): Promise<PriorStepMetrics[]> {
    const { labels, ...rest } = opts;
    const { height: h, width: w, codebookSize: K, numClasses } = this.prior.config;
    if (!(codes instanceof tf.Tensor) || codes.rank !== 3 || codes.shape[1] !== h || codes.shape[2] !== w) {
      throw new Error(`fit(codes): expected an int32 tensor [N, ${h}, ${w}]`);
    }
    await checkRange(codes, K, 'fit(codes)');
    if (numClasses > 0 && (!labels || labels.length !== codes.shape[0])) {
      throw new Error(`fit(opts.labels): a class-conditional prior needs ${codes.shape[0]} labels, got ${labels?.length ?? 'none'}`);
    }
    if (numClasses === 0 && labels) throw new Error('fit(opts.labels): the prior is unconditional (numClasses 0)');
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
