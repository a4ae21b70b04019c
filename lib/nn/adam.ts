/**
 * Adam (Kingma & Ba 2015) with PyTorch's semantics (torch.optim.Adam; defaults β1 0.9,
 * β2 0.999, ε 1e-8, as DL-Demos uses it):
 *
 *   m ← β1·m + (1 − β1)·g,   v ← β2·v + (1 − β2)·g²,   w ← w − lr · (m / (1 − β1^t)) / (√(v / (1 − β2^t)) + ε)
 *
 * with the state (m, v, step count t) kept per variable, by name, and created on the variable's
 * first gradient. A variable that gets no gradient in a step is skipped and its t does not
 * advance, as PyTorch skips parameters whose .grad is None.
 *
 * Why not tf.train.adam: tfjs's AdamOptimizer keeps its moments by *position* in the gradient
 * list, so a step whose list leaves a variable out (a residual quantizer's dropped stages under
 * quantizer dropout, say) pairs every later moment with the wrong variable (and fails on the
 * first shape mismatch).
 */
import * as tf from '@tensorflow/tfjs';
import { checkNumber, checkPositive } from '../validate';

/**
 * β1^t and β2^t are kept as float32 running products, as tfjs's AdamOptimizer keeps them, so
 * that with every variable in every step the two give bit-identical weights.
 */
interface Slot { m: tf.Variable; v: tf.Variable; t: number; acc1: number; acc2: number }

export class Adam {
  private readonly slots = new Map<string, Slot>();

  constructor(readonly learningRate: number, readonly beta1 = 0.9, readonly beta2 = 0.999, readonly epsilon = 1e-8) {
    checkPositive('Adam(learningRate)', learningRate);
    checkNumber('Adam(beta1)', beta1, 0, 1, true);
    checkNumber('Adam(beta2)', beta2, 0, 1, true);
    checkPositive('Adam(epsilon)', epsilon);
  }

  /** One step: `grads` maps variable names to their gradients (what tf.variableGrads returns). */
  applyGradients(grads: tf.NamedTensorMap): void {
    const vars = tf.engine().registeredVariables;
    tf.tidy(() => {
      for (const [name, g] of Object.entries(grads)) {
        const w = vars[name];
        if (!w) throw new Error(`Adam.applyGradients(grads): no variable named '${name}'`);
        const s = this.slotOf(w);
        s.t += 1;
        const m = tf.add(tf.mul(s.m, this.beta1), tf.mul(g, 1 - this.beta1));
        const v = tf.add(tf.mul(s.v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        s.m.assign(m);
        s.v.assign(v);
        const mHat = tf.div(m, Math.fround(1 - s.acc1)); // 1 − β1^t
        const vHat = tf.div(v, Math.fround(1 - s.acc2));
        w.assign(tf.add(w, tf.mul(-this.learningRate, tf.div(mHat, tf.add(tf.sqrt(vHat), this.epsilon)))));
        s.acc1 = Math.fround(s.acc1 * Math.fround(this.beta1));
        s.acc2 = Math.fround(s.acc2 * Math.fround(this.beta2));
      }
    });
  }

  /**
   * Adam's moments as named variables for a checkpoint: '<prefix><key>/m' and '…/v' for every
   * `key → variable` of `named` (a model's namedVariables(), whose keys are stable across
   * instances, unlike tf's variable names). Slots are made (zeros, t = 0) for variables that have
   * none yet, so a fresh optimizer offers the same names as a trained one. The step counts are
   * plain numbers: counts() / setCounts().
   */
  namedState(named: Map<string, tf.Variable>, prefix = 'adam/'): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    for (const [key, w] of named) {
      if (!w.trainable) continue;
      const s = this.slotOf(w);
      out.set(`${prefix}${key}/m`, s.m);
      out.set(`${prefix}${key}/v`, s.v);
    }
    return out;
  }

  /** The step count t of every trainable variable of `named`, by its key. */
  counts(named: Map<string, tf.Variable>): Record<string, number> {
    return Object.fromEntries([...named].filter(([, w]) => w.trainable).map(([key, w]) => [key, this.slots.get(w.name)?.t ?? 0]));
  }

  /** Set the step counts saved by counts() (t, and β^t as float32 running products). */
  setCounts(named: Map<string, tf.Variable>, counts: Record<string, number>): void {
    for (const [key, t] of Object.entries(counts)) {
      const w = named.get(key);
      if (!w) throw new Error(`Adam.setCounts(counts): no variable '${key}' in the model`);
      if (!Number.isInteger(t) || t < 0) throw new Error(`Adam.setCounts(counts.${key}) must be an integer >= 0, got ${t}`);
      const s = this.slotOf(w);
      s.t = t;
      s.acc1 = Math.fround(this.beta1);
      s.acc2 = Math.fround(this.beta2);
      for (let i = 0; i < t; i++) {
        s.acc1 = Math.fround(s.acc1 * Math.fround(this.beta1));
        s.acc2 = Math.fround(s.acc2 * Math.fround(this.beta2));
      }
    }
  }

  private slotOf(w: tf.Variable): Slot {
    let s = this.slots.get(w.name);
    if (!s) {
      const [m, v] = tf.tidy(() => [tf.variable(tf.zerosLike(w), false), tf.variable(tf.zerosLike(w), false)]);
      s = { m, v, t: 0, acc1: Math.fround(this.beta1), acc2: Math.fround(this.beta2) };
      this.slots.set(w.name, s);
    }
    return s;
  }

  /** Steps taken by the variable `name` (0 before its first gradient). */
  stepsOf(name: string): number {
    return this.slots.get(name)?.t ?? 0;
  }

  /** Free the moments. */
  dispose(): void {
    for (const s of this.slots.values()) tf.dispose([s.m, s.v]);
    this.slots.clear();
  }
}
