/**
 * trainQuantizer: the loop notebooks 03–05 train a quantizer alone with (no encoder, no decoder),
 * and notebook 11 a LinearAutoencoder (a quantizer between a linear encoder and decoder): Adam on
 * seeded, shuffled mini-batches, one forward per step, nothing left allocated. A thin user of
 * lib/train (batches, Adam, interrupts between steps, divergence).
 *
 * ```ts
 * const q = new VectorQuantizer({ codebookSize: 512, dim: 64, seed: 0 });
 * const run = await trainQuantizer(q, data, { steps: 100, learningRate: 5e-3, batchSize: 256, seed: 0 });
 * run.errors;   // per-step batch quantization error, plain numbers
 * ```
 */
import * as tf from '@tensorflow/tfjs';
import { LinearAutoencoder } from './autoencoder';
import { FSQ } from './fsq';
import { LFQ } from './lfq';
import { ResidualVQ } from './residual';
import { SimVQ } from './simvq';
import { VectorQuantizer } from './vq';
import { Adam } from '../nn/adam';
import { Batches, TrainingDivergedError, adamStep, nextTick, rngSampleOf, takeRows } from '../train/index';
import { interruptGuard } from '../interrupt';
import { OptionsOf, assertFinite, describe, is, resolveOptions } from '../validate';

/** What one step reports (plain numbers). */
export interface TrainStepInfo {
  /** The value that was minimised. */
  loss: number;
  /**
   * The batch's quantization error, mean over coordinates: VQ's and SimVQ's codebookLoss,
   * mean((sg(z) − z_q)²), in the space the codes live in (the unit sphere for cosine); the
   * others' mean((x − quantized)²).
   */
  error: number;
}

/** What trainQuantizer trains: one of the five quantizers, or one between a linear encoder and decoder. */
export type TrainableQuantizer = VectorQuantizer | FSQ | LFQ | SimVQ | ResidualVQ | LinearAutoencoder;

export const TRAIN_QUANTIZER_OPTIONS = {
  /** Optimizer steps (≥ 1). */
  steps: { check: is.int(1) },
  /** Adam's learning rate (> 0). Default 1e-3. */
  learningRate: { check: is.positive, default: 1e-3 },
  /** Rows per batch when `data` is a tensor (≥ 1). Default 256. */
  batchSize: { check: is.int(1), default: 256 },
  /** Random seed of the batch order (a fresh shuffle per pass over `data`). Default 0. */
  seed: { check: is.seed, default: 0 },
  /**
   * Add the reconstruction error mean((x − quantized)²) to the quantizer's own loss. Default: only
   * for FSQ, which has no loss of its own (it trains its projections this way), and a
   * LinearAutoencoder (its encoder and decoder learn from it); the others
   * minimise their own `loss` (VQ: codebook + β·commitment + entropy; SimVQ: trains W; LFQ:
   * entropy + commitment; ResidualVQ: the stages' sum).
   */
  reconstruction: { check: is.boolean, optional: true as const },
  /** Called after every step with its 0-based number. */
  onStep: { check: is.function<(step: number, info: TrainStepInfo) => void>, optional: true as const },
};
/** Options of trainQuantizer (see TRAIN_QUANTIZER_OPTIONS). */
export type TrainQuantizerOptions = OptionsOf<typeof TRAIN_QUANTIZER_OPTIONS>;

/** What trainQuantizer returns: the loss and error of every step, and the time it took. */
export interface TrainQuantizerResult {
  /** TrainStepInfo.loss per step. */
  losses: number[];
  /** TrainStepInfo.error per step. */
  errors: number[];
  seconds: number;
}

const QUANTIZERS = [VectorQuantizer, FSQ, LFQ, SimVQ, ResidualVQ, LinearAutoencoder];

/**
 * Trains `quantizer` alone on `data`: a fixed set [N, dim] (seeded shuffled batches of
 * `batchSize`, a fresh order each pass, every batch full) or a function giving step `s`'s batch
 * (its tensor is disposed after the step). A quantizer with nothing to train (EMA codebook, FSQ
 * without projections) still runs a training-mode forward per step, so EMA updates, dead-code
 * restarts and `stats` happen. Async: a kernel interrupt stops it between two steps with an
 * InterruptedError (the quantizer keeps its last completed step). The quantizer keeps its
 * state; the optimizer is disposed; tf.memory().numTensors is unchanged, also when it throws.
 */
export async function trainQuantizer(
  quantizer: TrainableQuantizer,
  data: tf.Tensor2D | ((step: number) => tf.Tensor2D),
  options: TrainQuantizerOptions,
): Promise<TrainQuantizerResult> {
  const name = 'trainQuantizer';
  const o = resolveOptions(`${name}(quantizer, data, options)`, TRAIN_QUANTIZER_OPTIONS, options);
  if (!QUANTIZERS.some((C) => quantizer instanceof C)) {
    throw new Error(`${name}(quantizer) must be a VectorQuantizer, FSQ, LFQ, SimVQ, ResidualVQ or LinearAutoencoder, got ${describe(quantizer)}`);
  }
  const dim = (quantizer as { dim: number }).dim;
  const checkBatch = (what: string, x: unknown): tf.Tensor2D => {
    if (!(x instanceof tf.Tensor) || x.isDisposed || x.rank !== 2 || x.shape[0] < 1 || x.shape[1] !== dim || x.dtype !== 'float32') {
      throw new Error(`${name}(${what}) must be a float32 tensor [N ≥ 1, ${dim}], got ${describe(x)}`);
    }
    assertFinite(`${name}(${what})`, x);
    return x as tf.Tensor2D;
  };
  let nextBatch: (step: number) => tf.Tensor2D;
  if (typeof data === 'function') {
    nextBatch = (s) => {
      const x = data(s);
      try {
        return checkBatch(`data(${s})`, x);
      } catch (e) {
        if (x instanceof tf.Tensor) x.dispose();
        throw e;
      }
    };
  } else {
    checkBatch('data', data); // once, at the door
    const batches = new Batches(data.shape[0], o.batchSize, rngSampleOf(o.seed), 'carry');
    nextBatch = () => takeRows(data, batches.next());
  }
  const reconstruction = o.reconstruction ?? (quantizer instanceof FSQ || quantizer instanceof LinearAutoencoder);
  const vars = quantizer.trainableVariables();
  // ε = 1e-7, tf.train.adam's default (the float32 backend epsilon), which this loop has always
  // used: notebooks 03–05's committed results were trained with it. (The model trainers use
  // PyTorch's 1e-8, as DL-Demos.)
  const opt = new Adam(o.learningRate, 0.9, 0.999, 1e-7);
  const losses: number[] = [];
  const errors: number[] = [];
  const check = interruptGuard(name);
  const start = Date.now();
  try {
    for (let step = 0; step < o.steps; step++) {
      await check(() => `${step} of ${o.steps} steps`);
      const x = nextBatch(step);
      let info: TrainStepInfo;
      try {
        info = tf.tidy(() => {
          let error = 0;
          const lossFn = (): tf.Scalar => {
            const out = quantizer.forward(x) as { quantized: tf.Tensor; loss?: tf.Scalar; codebookLoss?: tf.Scalar };
            const mse = (): tf.Scalar => tf.mean(tf.square(tf.sub(x, out.quantized))) as tf.Scalar;
            const codebookError = quantizer instanceof VectorQuantizer || quantizer instanceof SimVQ;
            const recon = reconstruction || !codebookError ? mse() : null;
            error = (codebookError ? out.codebookLoss! : recon!).dataSync()[0];
            const own = out.loss ?? tf.scalar(0);
            return (reconstruction ? tf.add(own, recon!) : own) as tf.Scalar;
          };
          const loss = vars.length > 0 ? adamStep(opt, lossFn, vars) : lossFn();
          return { loss: loss.dataSync()[0], error };
        });
      } catch (e) {
        if (step > 0 && e instanceof Error && /finite|NaN|Infinity/.test(e.message)) {
          throw new TrainingDivergedError(name, step + 1, 0, e.message, o.learningRate);
        }
        throw e;
      } finally {
        x.dispose();
      }
      if (!Number.isFinite(info.loss)) throw new TrainingDivergedError(name, step + 1, 0, `the loss is ${info.loss}`, o.learningRate);
      losses.push(info.loss);
      errors.push(info.error);
      o.onStep?.(step, info);
    }
  } finally {
    opt.dispose();
  }
  await nextTick();
  return { losses, errors, seconds: (Date.now() - start) / 1000 };
}
