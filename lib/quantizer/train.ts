/**
 * trainQuantizer: the loop notebooks 03–05 train a quantizer alone with (no encoder, no decoder):
 * Adam on seeded, shuffled mini-batches, one forward per step, nothing left allocated.
 *
 * ```ts
 * const q = new VectorQuantizer({ codebookSize: 512, dim: 64, seed: 0 });
 * const run = trainQuantizer(q, data, { steps: 100, learningRate: 5e-3, batchSize: 256, seed: 0 });
 * run.errors;   // per-step batch quantization error, plain numbers
 * ```
 */
import * as tf from '@tensorflow/tfjs';
import { FSQ } from './fsq';
import { VectorQuantizer } from './vq';
import { Rng } from '../rng';
import { OptionsOf, is, resolveOptions } from '../validate';

/** What one step reports (plain numbers). */
export interface TrainStepInfo {
  /** The value that was minimised. */
  loss: number;
  /**
   * The batch's quantization error, mean over coordinates: VQ's codebookLoss, mean((sg(z) − z_q)²),
   * in the space the codes live in (the unit sphere for cosine); FSQ's mean((x − quantized)²).
   */
  error: number;
}

export const TRAIN_QUANTIZER_OPTIONS = {
  /** Optimizer steps (≥ 1). */
  steps: { check: is.int(1) },
  /** Adam's learning rate (≥ 0). Default 1e-3. */
  learningRate: { check: is.number(0), default: 1e-3 },
  /** Rows per batch when `data` is a tensor (≥ 1). Default 256. */
  batchSize: { check: is.int(1), default: 256 },
  /** Random seed of the batch order (a fresh shuffle per pass over `data`). Default 0. */
  seed: { check: is.seed, default: 0 },
  /** Called after every step with its 0-based number. */
  onStep: { check: is.function<(step: number, info: TrainStepInfo) => void>, optional: true as const },
};
export type TrainQuantizerOptions = OptionsOf<typeof TRAIN_QUANTIZER_OPTIONS>;

export interface TrainQuantizerResult {
  /** TrainStepInfo.loss per step. */
  losses: number[];
  /** TrainStepInfo.error per step. */
  errors: number[];
  seconds: number;
}

/**
 * Trains `quantizer` alone on `data`: a fixed set [N, dim] (seeded shuffled batches of
 * `batchSize`, a fresh order each pass) or a function giving step `s`'s batch (its tensor is
 * disposed after the step). Loss: VectorQuantizer's `loss` (codebook, commitment and entropy
 * terms by its options); FSQ's reconstruction mean((x − quantized)²), which trains its
 * projections. A quantizer with nothing to train (EMA codebook, FSQ without projections) still
 * runs a training-mode forward per step, so EMA updates, dead-code restarts and `stats` happen.
 * The quantizer keeps its state; the optimizer is disposed; tf.memory().numTensors is unchanged.
 */
export function trainQuantizer(
  quantizer: VectorQuantizer | FSQ,
  data: tf.Tensor2D | ((step: number) => tf.Tensor2D),
  options: TrainQuantizerOptions,
): TrainQuantizerResult {
  const name = 'trainQuantizer';
  const o = resolveOptions(`${name}(quantizer, data, options)`, TRAIN_QUANTIZER_OPTIONS, options);
  const { steps, batchSize } = o;
  const rng = new Rng(o.seed);
  let nextBatch: (step: number) => tf.Tensor2D;
  if (typeof data === 'function') {
    nextBatch = data;
  } else {
    if (data.rank !== 2) throw new Error(`${name}: data must be [N, dim] or a function of the step, got rank ${data.rank}`);
    const n = data.shape[0];
    let order: number[] = [];
    nextBatch = () => {
      if (order.length < Math.min(batchSize, n)) order = order.concat(rng.sample(n, n)); // a fresh shuffle per pass
      const rows = order.splice(0, Math.min(batchSize, n));
      return tf.tidy(() => tf.gather(data, tf.tensor1d(rows, 'int32')));
    };
  }
  const vars = quantizer.trainableVariables();
  const opt = vars.length > 0 ? tf.train.adam(o.learningRate) : null;
  const losses: number[] = [];
  const errors: number[] = [];
  const start = Date.now();
  try {
    for (let step = 0; step < steps; step++) {
      const x = nextBatch(step);
      const info = tf.tidy(() => {
        let error = 0;
        const lossFn = (): tf.Scalar => {
          if (quantizer instanceof VectorQuantizer) {
            const out = quantizer.forward(x);
            error = out.codebookLoss.dataSync()[0];
            return out.loss;
          }
          const err = tf.mean(tf.square(tf.sub(x, quantizer.forward(x).quantized))) as tf.Scalar;
          error = err.dataSync()[0];
          return err;
        };
        const loss = opt ? opt.minimize(lossFn, true, vars)! : lossFn();
        return { loss: loss.dataSync()[0], error };
      });
      x.dispose();
      losses.push(info.loss);
      errors.push(info.error);
      o.onStep?.(step, info);
    }
  } finally {
    opt?.dispose();
  }
  return { losses, errors, seconds: (Date.now() - start) / 1000 };
}
