/**
 * The training room: one loop for every model (the minGPT split: the model computes a loss, the
 * trainer owns batches, Adam, interrupts, progress and the per-epoch evaluation). The VQ-VAE's
 * trainer (lib/vqvae/train.ts), the PixelCNN prior's (lib/prior/trainer.ts), trainQuantizer
 * (lib/quantizer/train.ts) and the study runner (studies/) are thin users of it.
 *
 * Async: it yields to the event loop after every step, so that a notebook display can update and
 * a kernel interrupt (lib/interrupt.ts) stops it between two steps, never inside one. Inputs are
 * checked once, at the door (fit), not again per step. A step whose loss is not finite is not
 * applied: the loop stops with a TrainingDivergedError naming the step, and the model keeps the
 * weights of its last good step.
 */
import * as tf from '@tensorflow/tfjs';
import { Adam } from '../nn/adam';
import { Batches, epochBatches, permutationOf } from './batches';
import { InterruptedError, interruptGuard, yieldToEventLoop } from '../interrupt';
import { OptionsOf, ResolvedOf, assertAlive, assertBackend, describe, is, resolveOptions } from '../validate';

/** Fields every step's metrics carry. */
export interface TrainProgress {
  step: number; // 1-based, across fit() calls
  epoch: number; // 0-based
  stepInEpoch: number; // 1-based
  stepsPerEpoch: number;
  imagesPerSec: number; // this step's throughput (examples per second)
  elapsedSec: number; // since this fit() started
  etaSec: number; // estimate for the rest of this fit()
}

/** Options of every trainer (a model's trainer may change a default, e.g. the prior's learning rate). */
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
/** Options every trainer takes (see TRAINER_OPTIONS). */
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
  /** Called after every epoch with the epoch (0-based) and its last step's metrics: the per-epoch evaluation. */
  onEpoch: { check: is.function, optional: true as const },
  /** Stop after this many steps in this call. */
  maxSteps: { check: is.int(0), optional: true as const },
  /** Stop between steps when aborted. */
  signal: { check: checkSignal, optional: true as const },
};

/** Options of a trainer's fit(x, options): epochs, batch size, seed, per-step and per-epoch callbacks (see FIT_OPTIONS). */
export interface FitOptions<M = TrainProgress> extends Omit<OptionsOf<typeof FIT_OPTIONS>, 'onStep' | 'onEpoch'> {
  onStep?: (m: M) => void | Promise<void>;
  onEpoch?: (epoch: number, last: M) => void | Promise<void>;
}

/** What the loop throws when a step's loss is not finite (or the model's numbers overflowed). */
export class TrainingDivergedError extends Error {
  constructor(where: string, step: number, epoch: number, why: string, learningRate: number) {
    super(`${where}: training diverged at step ${step} (epoch ${epoch + 1}): ${why}; the model keeps the weights of step ${step - 1}. `
      + `Try a lower learningRate (now ${learningRate}).`);
    this.name = 'TrainingDivergedError';
  }
}

export const nextTick = (): Promise<void> => yieldToEventLoop();

/** Rows of `x` [N, …] at `idx` → [len(idx), …]. */
export function takeRows<T extends tf.Tensor>(x: T, idx: Int32Array): T {
  return tf.tidy(() => tf.gather(x, tf.tensor1d(idx, 'int32')) as T);
}

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

/**
 * One Adam step on `vars` (PyTorch defaults: β1 0.9, β2 0.999, ε 1e-8, as DL-Demos main.py);
 * returns the loss. When the loss is not finite the gradients are not applied and the loss is
 * returned all the same (the caller names the divergence).
 */
export function adamStep(opt: Adam, f: () => tf.Scalar, vars: tf.Variable[]): tf.Scalar {
  const { value, grads } = variableGradsOrThrow(f, vars);
  try {
    if (Number.isFinite(value.dataSync()[0])) opt.applyGradients(grads);
  } finally {
    tf.dispose(Object.values(grads));
  }
  return value;
}

/** A step's own metrics: at least the minimised loss. */
export interface StepResult { loss: number }

/**
 * Seeded epochs over n examples, Adam, interrupts, timing, divergence and callbacks; a subclass
 * does one step on a batch of example numbers.
 */
export abstract class TrainerBase<M extends TrainProgress & StepResult> {
  readonly batchSize: number;
  readonly learningRate: number;
  readonly optimizer: Adam;
  readonly history: M[] = [];
  protected readonly options: ResolvedOf<typeof TRAINER_OPTIONS>;
  protected readonly batches: (n: number) => Batches;
  /** Completed epochs (0-based number of the epoch in progress). */
  protected epoch = 0;
  private disposed = false;
  private shuffle: ReturnType<typeof permutationOf>;

  /** `opts`: resolved by the subclass from its table (TRAINER_OPTIONS or its own defaults). */
  constructor(protected readonly owner: string, opts: ResolvedOf<typeof TRAINER_OPTIONS>) {
    assertBackend(owner);
    this.options = opts;
    this.batchSize = opts.batchSize;
    this.learningRate = opts.learningRate;
    this.shuffle = permutationOf(opts.seed);
    this.batches = (n) => new Batches(n, this.batchSize, this.shuffle, 'epoch', opts.dropLast);
    this.optimizer = new Adam(this.learningRate, 0.9, 0.999, 1e-8);
  }

  /** Epochs completed so far. */
  get epochsDone(): number {
    return this.epoch;
  }

  /**
   * Continue a run from a checkpoint taken after `epochs` whole epochs over `n` examples: the
   * shuffle stream is advanced past those epochs (so epoch `epochs` gets the batches it would
   * have had) and the epoch counter set. The weights and Adam's state are the caller's to load.
   */
  resumeAfter(epochs: number, n: number): void {
    this.assertAlive();
    if (!Number.isInteger(epochs) || epochs < 0) throw new Error(`${this.owner}.resumeAfter(epochs) must be an integer >= 0, got ${describe(epochs)}`);
    if (this.epoch !== 0 || this.history.length > 0) throw new Error(`${this.owner}.resumeAfter: this trainer has already trained; make a new one to resume`);
    for (let e = 0; e < epochs; e++) this.shuffle(n);
    this.epoch = epochs;
  }

  protected assertAlive(): void {
    assertAlive(this.owner, this.disposed);
  }

  /** One step on the examples `idx`; returns its metrics without the TrainProgress fields. */
  protected abstract stepOn(idx: Int32Array): Promise<Omit<M, keyof TrainProgress>>;

  protected async loop(n: number, opts: FitOptions<M>): Promise<M[]> {
    this.assertAlive();
    const { epochs } = resolveOptions(`${this.owner}.fit(options)`, FIT_OPTIONS, opts);
    const batches = this.batches(n);
    const stepsPerEpoch = batches.stepsPerEpoch;
    if (stepsPerEpoch < 1) throw new Error(`${this.owner}.fit: ${n} examples is fewer than one batch of ${this.batchSize}`);
    const total = Math.min(epochs * stepsPerEpoch, opts.maxSteps ?? Infinity);
    const start = performance.now();
    const out: M[] = [];
    const check = interruptGuard(`${this.owner}.fit`);
    const done = () => `${out.length} of ${total} steps`;
    for (let e = 0; e < epochs && out.length < total; e++) {
      const epochBatch = batches.nextEpoch();
      let last: M | undefined;
      for (let s = 0; s < epochBatch.length && out.length < total; s++) {
        if (opts.signal?.aborted) return out;
        await check(done);
        const t0 = performance.now();
        const step = this.history.length + 1;
        let r: Omit<M, keyof TrainProgress>;
        try {
          r = await this.stepOn(epochBatch[s]);
        } catch (err) {
          throw this.diverged(err, step);
        }
        if (!Number.isFinite(r.loss)) throw new TrainingDivergedError(this.owner, step, this.epoch, `the loss is ${r.loss}`, this.learningRate);
        const now = performance.now();
        const elapsedSec = (now - start) / 1000;
        last = {
          ...r, step, epoch: this.epoch, stepInEpoch: s + 1, stepsPerEpoch,
          imagesPerSec: (1000 * epochBatch[s].length) / (now - t0), elapsedSec,
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

  /**
   * An error inside a step, after the inputs passed the door's checks: a non-finite number
   * there means the weights overflowed, i.e. training diverged (steps after the first).
   */
  protected diverged(err: unknown, step: number): unknown {
    if (err instanceof InterruptedError || !(err instanceof Error) || step <= 1) return err;
    if (/finite|NaN|Infinity/.test(err.message)) return new TrainingDivergedError(this.owner, step, this.epoch, err.message, this.learningRate);
    return err;
  }

  /** Dispose the optimizer's state (the model is the caller's). The trainer cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.optimizer.dispose();
  }
}

export { epochBatches };
