/**
 * Training with a record: VQVAETrainer.fit with a live progress line and a test evaluation
 * after every epoch, returning a plain-JSON log that can be stored as checkpoint meta and
 * plotted later (notebooks 06–08 share it, so a model trained in one reads the same in all).
 */
import * as tf from '@tensorflow/tfjs';
import { VQVAE } from '../vqvae/model';
import { TRAINER_OPTIONS, VQVAETrainer, evaluateVQVAE, StepMetrics } from '../vqvae/train';
import { Progress, formatDuration } from '../display/progress';
import { OptionsOf, describe, is, resolveOptions } from '../validate';

/**
 * DL-Demos' MNIST configuration for its VQ-VAE (github.com/SingleZombie/DL-Demos, dldemos/VQVAE/configs.py, mnist_cfg1;
 * β as in van den Oord et al. 2017): the schedule notebooks 06–08 train with.
 */
export const DLDEMOS_MNIST = { dim: 32, codebookSize: 32, beta: 0.25, batchSize: 256, learningRate: 2e-4, epochs: 20 } as const;

/** Test scores after one epoch. */
export interface EpochScore {
  epoch: number; // 1-based
  step: number; // steps taken so far
  mse: number; // test reconstruction MSE
  perplexity: number; // of the test set's code frequencies
  used: number; // codes used on the test set
}

/** Per-step training metrics (one entry per step) and per-epoch test scores. */
export interface TrainLog {
  steps: { loss: number[]; reconMse: number[]; quantizerLoss: number[]; perplexity: number[]; used: number[]; deadCodes: number[] };
  epochs: EpochScore[];
  seconds: number; // wall time of the training loop (test evaluations included)
  imagesPerSec: number; // training images per second over the whole run
  epochsTrained: number;
  learningRate: number;
  batchSize: number;
}

export const LOGGED_FIT_OPTIONS = {
  /** Passes over the training images (≥ 1). */
  epochs: { check: is.int(1) },
  /** Images per step (≥ 1). */
  batchSize: { check: TRAINER_OPTIONS.batchSize.check },
  /** Adam's learning rate (finite, > 0). */
  learningRate: { check: TRAINER_OPTIONS.learningRate.check },
  /** Random seed of the shuffling. */
  seed: { check: TRAINER_OPTIONS.seed.check },
  /** Title of the progress line. */
  title: { check: is.string, optional: true as const },
  /** Show the live progress line. Default true. */
  progress: { check: is.boolean, default: true },
};
export type LoggedFitOptions = OptionsOf<typeof LOGGED_FIT_OPTIONS>;

const STEP_KEYS = ['loss', 'reconMse', 'quantizerLoss', 'perplexity', 'used', 'deadCodes'] as const;
/** Six significant digits: the log is stored with the checkpoint, keep it small. */
const round6 = (x: number) => Number(x.toPrecision(6));

/**
 * Train `model` on `train` [N, H, W, C] with Adam for `opts.epochs`, scoring it on `test`
 * [M, H, W, C] after every epoch. Shows epoch, step, loss, perplexity, images/s, ETA and the
 * last test MSE in one live line. Leaves no tensors behind (the model's variables are trained).
 */
export async function fitWithLog(model: VQVAE, train: tf.Tensor4D, test: tf.Tensor4D, opts: LoggedFitOptions): Promise<TrainLog> {
  const o = resolveOptions('fitWithLog(model, train, test, options)', LOGGED_FIT_OPTIONS, opts);
  if (!(model instanceof VQVAE)) throw new Error(`fitWithLog(model) must be a VQVAE, got ${describe(model)}`);
  model.checkImages('fitWithLog(train)', train);
  model.checkImages('fitWithLog(test)', test);
  const epochs = o.epochs;
  const K = model.bottleneck.codebookSize;
  const trainer = new VQVAETrainer(model, { batchSize: o.batchSize, learningRate: o.learningRate, seed: o.seed });
  const log: TrainLog = {
    steps: { loss: [], reconMse: [], quantizerLoss: [], perplexity: [], used: [], deadCodes: [] },
    epochs: [], seconds: 0, imagesPerSec: 0, epochsTrained: epochs, learningRate: trainer.learningRate, batchSize: trainer.batchSize,
  };
  const progress = o.progress ? new Progress({ title: o.title }) : null;
  const totalSteps = epochs * Math.ceil(train.shape[0] / trainer.batchSize);
  let lastTest = '–';
  let last: StepMetrics | null = null;
  const fields = (s: StepMetrics) => ({
    epoch: `${s.epoch + 1}/${epochs}`, step: `${s.step}/${totalSteps}`, loss: s.loss.toFixed(4), perplexity: s.perplexity.toFixed(1),
    'images/s': Math.round((s.step * trainer.batchSize) / s.elapsedSec), ETA: formatDuration(s.etaSec), 'test MSE': lastTest,
  });
  const start = performance.now();
  try {
    await trainer.fit(train, {
      epochs,
      onStep: (s) => {
        last = s;
        const L = log.steps;
        L.loss.push(round6(s.loss)); L.reconMse.push(round6(s.reconMse)); L.quantizerLoss.push(round6(s.quantizerLoss));
        L.perplexity.push(round6(s.perplexity)); L.used.push(Math.round(s.usage * K)); L.deadCodes.push(s.deadCodes);
        progress?.update(fields(s), s.step / totalSteps);
      },
      onEpoch: async (epoch, s) => {
        const e = await evaluateVQVAE(model, test);
        log.epochs.push({ epoch: epoch + 1, step: s.step, mse: round6(e.mse), perplexity: round6(e.perplexity), used: Math.round(e.usage * K) });
        lastTest = e.mse.toFixed(5);
        progress?.update(fields(s), s.step / totalSteps);
      },
    });
  } finally {
    trainer.dispose();
  }
  progress?.done(last ? fields(last) : undefined);
  log.seconds = round6((performance.now() - start) / 1000);
  log.imagesPerSec = Math.round((log.steps.loss.length * trainer.batchSize) / log.seconds);
  return log;
}

/**
 * The TrainLog stored in a checkpoint's meta under `key` (as notebooks 06–08 save it), checked
 * field by field; `where` names the checkpoint in the error.
 */
export function readTrainLog(meta: Record<string, unknown>, where: string, key = 'log'): TrainLog {
  const log = meta[key] as Partial<TrainLog> | undefined;
  const bad = (what: string) => new Error(`${where}: its meta has no valid training log (${what}); retrain to write one`);
  if (!log || typeof log !== 'object') throw bad(`no "${key}" entry`);
  if (!log.steps || typeof log.steps !== 'object') throw bad('no steps');
  if (!Array.isArray(log.steps.loss)) throw bad('steps.loss is not a list');
  const n = log.steps.loss.length;
  for (const k of STEP_KEYS) {
    const a = log.steps[k];
    if (!Array.isArray(a) || a.length !== n || !a.every((v) => typeof v === 'number')) throw bad(`steps.${k} is not ${n} numbers`);
  }
  if (!Array.isArray(log.epochs) || !log.epochs.every((e) => e && ['epoch', 'step', 'mse', 'perplexity', 'used'].every((f) => typeof (e as unknown as Record<string, unknown>)[f] === 'number'))) {
    throw bad('epochs is not a list of test scores');
  }
  for (const f of ['seconds', 'imagesPerSec', 'epochsTrained', 'learningRate', 'batchSize'] as const) {
    if (typeof log[f] !== 'number') throw bad(`${f} is not a number`);
  }
  return log as TrainLog;
}
