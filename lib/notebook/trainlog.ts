/**
 * Training with a record: any trainer of lib/train (VQVAETrainer, PixelCNNTrainer, …) run with a
 * live progress line and an evaluation after every epoch, returning a plain-JSON log that can be
 * stored as checkpoint meta and plotted later. fitWithLog(model, train, test, …) is the VQ-VAE's
 * form (notebooks 06–11 share it, so a model trained in one reads the same in all);
 * fitWithLog(trainer, data, …) is the general one (notebook 07's prior).
 */
import * as tf from '@tensorflow/tfjs';
import { VQVAE } from '../vqvae/model';
import { VQVAETrainer, evaluateVQVAE, StepMetrics } from '../vqvae/train';
import { FitOptions, TRAINER_OPTIONS, TrainProgress, TrainerBase, StepResult } from '../train/index';
import { Progress, ProgressFields, formatDuration } from '../display/progress';
import { OptionsOf, describe, is, resolveOptions } from '../validate';

/**
 * DL-Demos' MNIST configuration for its VQ-VAE (github.com/SingleZombie/DL-Demos, dldemos/VQVAE/configs.py, mnist_cfg1;
 * β as in van den Oord et al. 2017): the schedule notebooks 06–08 train with.
 */
export const DLDEMOS_MNIST = { dim: 32, codebookSize: 32, beta: 0.25, batchSize: 256, learningRate: 2e-4, epochs: 20 } as const;

/** Test scores after one epoch. */
export interface EpochScore {
  [score: string]: number;
  epoch: number; // 1-based
  step: number; // steps taken so far
  mse: number; // test reconstruction MSE
  perplexity: number; // of the test set's code frequencies
  used: number; // codes used on the test set
}

/** Per-step training metrics (one entry per step) and per-epoch scores: the general record. */
export interface RunLog {
  steps: Record<string, number[]>;
  epochs: { epoch: number; step: number; [score: string]: number }[];
  seconds: number; // wall time of the training loop (evaluations included)
  imagesPerSec: number; // training examples per second over the whole run
  epochsTrained: number;
  learningRate: number;
  batchSize: number;
}

/** The VQ-VAE's record: its step metrics and test scores. */
export interface TrainLog extends RunLog {
  steps: { loss: number[]; reconMse: number[]; quantizerLoss: number[]; perplexity: number[]; used: number[]; deadCodes: number[] };
  epochs: EpochScore[];
}

export const LOGGED_FIT_OPTIONS = {
  /** Passes over the training data (≥ 1). */
  epochs: { check: is.int(1) },
  /** Examples per step (≥ 1). */
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

/** Options of the general form, fitWithLog(trainer, data, options). */
export const TRAINER_LOG_OPTIONS = {
  /** Passes over the data (≥ 1). */
  epochs: { check: is.int(1) },
  /** Title of the progress line. */
  title: { check: is.string, optional: true as const },
  /** Show the live progress line. Default true. */
  progress: { check: is.boolean, default: true },
  /** The per-epoch evaluation: scores stored in log.epochs and shown as "test <name>". */
  evaluate: { check: is.function, optional: true as const },
  /** A step's numbers stored in log.steps. Default: { loss }. */
  record: { check: is.function, optional: true as const },
  /** A step's fields on the progress line, after epoch and step. Default: { loss }. */
  show: { check: is.function, optional: true as const },
  /** What the trainer trains on, per second ("images", "grids"). Default "images". */
  unit: { check: is.string, default: 'images' },
  /** More options for the trainer's fit (e.g. the prior's labels). */
  fit: {
    check: (v: Record<string, unknown>, name: string): Record<string, unknown> => {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${name} must be a plain object, got ${describe(v)}`);
      return v;
    },
    optional: true as const,
  },
  /** Called after each epoch's evaluation with the log so far; return true to stop training there. */
  afterEpoch: { check: is.function, optional: true as const },
};

export interface TrainerLogOptions<M> {
  epochs: number;
  title?: string;
  progress?: boolean;
  evaluate?: (epoch: number) => Promise<Record<string, number>> | Record<string, number>;
  record?: (m: M) => Record<string, number>;
  show?: (m: M) => ProgressFields;
  unit?: string;
  fit?: Record<string, unknown>;
  afterEpoch?: (log: RunLog) => boolean | void | Promise<boolean | void>;
}

/** A trainer of lib/train with its fit(data, options). */
export interface FittableTrainer<M extends TrainProgress & StepResult, D> extends TrainerBase<M> {
  fit(data: D, opts?: FitOptions<M>): Promise<M[]>;
}

/** Six significant digits: the log is stored with the checkpoint, keep it small. */
const round6 = (x: number) => Number(x.toPrecision(6));
const STEP_KEYS = ['loss', 'reconMse', 'quantizerLoss', 'perplexity', 'used', 'deadCodes'] as const;

/**
 * Train `model` on `train` [N, H, W, C] with Adam for `opts.epochs`, scoring it on `test`
 * [M, H, W, C] after every epoch. Shows epoch, step, loss, perplexity, images/s, ETA and the
 * last test MSE in one live line. Leaves no tensors behind (the model's variables are trained).
 */
export async function fitWithLog(model: VQVAE, train: tf.Tensor4D, test: tf.Tensor4D, opts: LoggedFitOptions): Promise<TrainLog>;
/**
 * Train with any trainer of lib/train on `data` for `opts.epochs`, with a live progress line,
 * `opts.evaluate` after every epoch and a plain-JSON log. The trainer is the caller's (not disposed).
 */
export async function fitWithLog<M extends TrainProgress & StepResult, D>(trainer: FittableTrainer<M, D>, data: D, opts: TrainerLogOptions<M>): Promise<RunLog>;
export async function fitWithLog(a: unknown, b: unknown, c: unknown, d?: unknown): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  if (a instanceof TrainerBase) return fitTrainer(a as FittableTrainer<StepMetrics, unknown>, b, c as TrainerLogOptions<StepMetrics>);
  if (!(a instanceof VQVAE)) throw new Error(`fitWithLog(model) must be a VQVAE or a trainer (VQVAETrainer, PixelCNNTrainer, …), got ${describe(a)}`);
  const model = a;
  const o = resolveOptions('fitWithLog(model, train, test, options)', LOGGED_FIT_OPTIONS, d as LoggedFitOptions);
  const train = model.checkImages('fitWithLog(train)', b);
  const test = model.checkImages('fitWithLog(test)', c);
  const K = model.bottleneck.codebookSize;
  const trainer = new VQVAETrainer(model, { batchSize: o.batchSize, learningRate: o.learningRate, seed: o.seed });
  try {
    return await fitTrainer(trainer, train, {
      epochs: o.epochs, title: o.title, progress: o.progress,
      record: (s) => ({
        loss: s.loss, reconMse: s.reconMse, quantizerLoss: s.quantizerLoss, perplexity: s.perplexity, used: Math.round(s.usage * K), deadCodes: s.deadCodes,
      }),
      show: (s) => ({ loss: s.loss.toFixed(4), perplexity: s.perplexity.toFixed(1) }),
      evaluate: async () => {
        const e = await evaluateVQVAE(model, test);
        return { mse: e.mse, perplexity: e.perplexity, used: Math.round(e.usage * K) };
      },
    }, (scores) => ({ 'test MSE': scores ? scores.mse.toFixed(5) : '–' }));
  } finally {
    trainer.dispose();
  }
}

async function fitTrainer<M extends TrainProgress & StepResult, D>(
  trainer: FittableTrainer<M, D>, data: D, options: TrainerLogOptions<M>,
  showScores: (scores: Record<string, number> | null) => ProgressFields = defaultShowScores,
): Promise<RunLog> {
  const o = resolveOptions('fitWithLog(trainer, data, options)', TRAINER_LOG_OPTIONS, options) as TrainerLogOptions<M> & { unit: string; progress: boolean };
  const epochs = o.epochs;
  const record = o.record ?? ((m: M) => ({ loss: m.loss }));
  const show = o.show ?? ((m: M) => ({ loss: m.loss.toFixed(4) }));
  const log: RunLog = {
    steps: {}, epochs: [], seconds: 0, imagesPerSec: 0, epochsTrained: 0, learningRate: trainer.learningRate, batchSize: trainer.batchSize,
  };
  const progress = o.progress ? new Progress({ title: o.title }) : null;
  let scores: Record<string, number> | null = null;
  let last: M | null = null;
  let done = 0;
  let total = 0;
  const firstEpoch = trainer.epochsDone;
  const fields = (s: M): ProgressFields => ({
    epoch: `${s.epoch + 1}/${firstEpoch + epochs}`, step: `${done}/${total}`, ...show(s),
    [`${o.unit}/s`]: Math.round((done * trainer.batchSize) / s.elapsedSec), ETA: formatDuration(s.etaSec), ...showScores(scores),
  });
  const stop = new AbortController();
  const start = performance.now();
  await trainer.fit(data, {
    ...(o.fit ?? {}),
    epochs,
    signal: stop.signal,
    onStep: (s) => {
      last = s;
      done += 1;
      total = epochs * s.stepsPerEpoch;
      for (const [k, v] of Object.entries(record(s))) (log.steps[k] ??= []).push(round6(v));
      progress?.update(fields(s), done / total);
    },
    onEpoch: async (epoch, s) => {
      log.epochsTrained += 1;
      if (o.evaluate) {
        scores = await o.evaluate(epoch);
        log.epochs.push({ epoch: epoch + 1, step: s.step, ...Object.fromEntries(Object.entries(scores).map(([k, v]) => [k, round6(v)])) });
      }
      log.seconds = round6((performance.now() - start) / 1000);
      progress?.update(fields(s), done / total);
      if (o.afterEpoch && (await o.afterEpoch(log))) stop.abort();
    },
  } as FitOptions<M>);
  progress?.done(last ? fields(last) : undefined);
  log.seconds = round6((performance.now() - start) / 1000);
  log.imagesPerSec = Math.round((done * trainer.batchSize) / log.seconds);
  return log;
}

const defaultShowScores = (scores: Record<string, number> | null): ProgressFields =>
  Object.fromEntries(Object.entries(scores ?? {}).slice(0, 2).map(([k, v]) => [`test ${k}`, Number(v.toPrecision(4))]));

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
