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

// (A reshape is a kernel call on the native backend: 1-D tensors, the biases, skip it both ways.)

/** ts concatenated into one vector, or the one tensor itself, unreshaped.   [...each] → [Σ size] */
function flatten(ts: tf.Tensor[]): tf.Tensor {
  return ts.length === 1 ? ts[0] : tf.concat(ts.map((t) => (t.rank === 1 ? t : tf.reshape(t, [-1]))));
}

/** Inverse of flatten: t split into tensors shaped as `like`.   [Σ size] → [...each] */
function unflatten(t: tf.Tensor, like: tf.Tensor[]): tf.Tensor[] {
  return like.length === 1 ? [t] : tf.split(t, like.map((l) => l.size)).map((part, k) => (like[k].rank === 1 ? part : tf.reshape(part, like[k].shape)));
}

export class Adam {
  private readonly slots = new Map<string, Slot>();
  /**
   * The moments of the last step's variables, concatenated in that step's order, when they were all
   * at one step count: the next step with the same variables starts from these instead of
   * flattening every slot again (4 kernels per variable and 4 per step fewer: a VQ-VAE step's
   * 432 → 368, the PixelCNN prior's 1,157 → 997). Their slots' m and v are stale meanwhile (and
   * still allocated: the moments take twice their size); sync() writes them back before anything
   * reads a slot.
   */
  private flat: { names: string; m: tf.Tensor; v: tf.Tensor } | null = null;

  constructor(readonly learningRate: number, readonly beta1 = 0.9, readonly beta2 = 0.999, readonly epsilon = 1e-8) {
    checkPositive('Adam(learningRate)', learningRate);
    checkNumber('Adam(beta1)', beta1, 0, 1, true);
    checkNumber('Adam(beta2)', beta2, 0, 1, true);
    checkPositive('Adam(epsilon)', epsilon);
  }

  /**
   * One step: `grads` maps variable names to their gradients (what tf.variableGrads returns).
   *
   * Variables at the same step count share the bias corrections, so they are updated together:
   * their gradients, moments and weights are flattened into one vector each, the update runs once
   * on those, and the results are split back (what torch.optim.Adam's foreach path does). The
   * values are those of the update variable by variable, bit for bit (the same float32 operations
   * per element). The moments stay flat between steps (see `flat`); a VQ-VAE step runs ~65
   * kernels for Adam, against ~380 one variable at a time.
   */
  applyGradients(grads: tf.NamedTensorMap): void {
    const vars = tf.engine().registeredVariables;
    const items = Object.entries(grads).map(([name, g]) => {
      const w = vars[name];
      if (!w) throw new Error(`Adam.applyGradients(grads): no variable named '${name}'`);
      return { w, g, s: this.slotOf(w) };
    });
    const groups = new Map<number, typeof items>();
    for (const it of items) {
      it.s.t += 1;
      const group = groups.get(it.s.t);
      if (group) group.push(it);
      else groups.set(it.s.t, [it]);
    }
    // One group of several variables (the usual step) keeps its moments flat for the next step.
    const only = groups.size === 1 && items.length > 1 ? items.map((it) => it.w.name).join('\n') : null;
    const cached = this.flat !== null && this.flat.names === only ? this.flat : null;
    if (!cached) this.sync();
    const kept = tf.tidy(() => {
      let keep: tf.Tensor[] = []; // [m, v] when they stay flat
      for (const group of groups.values()) {
        const { acc1, acc2 } = group[0].s; // the same for every variable at this step count
        const g = flatten(group.map((it) => it.g));
        const m = tf.add(tf.mul(cached ? cached.m : flatten(group.map((it) => it.s.m)), this.beta1), tf.mul(g, 1 - this.beta1));
        const v = tf.add(tf.mul(cached ? cached.v : flatten(group.map((it) => it.s.v)), this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        const mHat = tf.div(m, Math.fround(1 - acc1)); // 1 − β1^t
        const vHat = tf.div(v, Math.fround(1 - acc2));
        const shaped = group.map((it) => it.w);
        const w = tf.add(flatten(shaped), tf.mul(-this.learningRate, tf.div(mHat, tf.add(tf.sqrt(vHat), this.epsilon))));
        const ws = unflatten(w, shaped);
        const [ms, vs] = only !== null ? [null, null] : [unflatten(m, shaped), unflatten(v, shaped)];
        group.forEach((it, k) => {
          if (ms && vs) {
            it.s.m.assign(ms[k]);
            it.s.v.assign(vs[k]);
          }
          it.w.assign(ws[k]);
          it.s.acc1 = Math.fround(it.s.acc1 * Math.fround(this.beta1));
          it.s.acc2 = Math.fround(it.s.acc2 * Math.fround(this.beta2));
        });
        if (only !== null) keep = [tf.keep(m), tf.keep(v)]; // kept past a caller's tidy too (the step may run in one)
      }
      return keep;
    });
    if (cached) tf.dispose([cached.m, cached.v]);
    this.flat = only !== null ? { names: only, m: kept[0], v: kept[1] } : null;
  }

  /** Write flat-kept moments back into their slots (before anything reads or replaces a slot's m or v). */
  private sync(): void {
    const f = this.flat;
    if (!f) return;
    this.flat = null;
    const slots = f.names.split('\n').map((name) => this.slots.get(name)!);
    tf.tidy(() => {
      const shaped = slots.map((s) => s.m);
      const [ms, vs] = [unflatten(f.m, shaped), unflatten(f.v, shaped)];
      slots.forEach((s, k) => {
        s.m.assign(ms[k]);
        s.v.assign(vs[k]);
      });
    });
    tf.dispose([f.m, f.v]);
  }

  /**
   * Adam's moments as named variables for a checkpoint: '<prefix><key>/m' and '…/v' for every
   * `key → variable` of `named` (a model's namedVariables(), whose keys are stable across
   * instances, unlike tf's variable names). Slots are made (zeros, t = 0) for variables that have
   * none yet, so a fresh optimizer offers the same names as a trained one. The step counts are
   * plain numbers: counts() / setCounts().
   */
  namedState(named: Map<string, tf.Variable>, prefix = 'adam/'): Map<string, tf.Variable> {
    this.sync(); // the caller reads or assigns these variables
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
    if (this.flat) tf.dispose([this.flat.m, this.flat.v]);
    this.flat = null;
    for (const s of this.slots.values()) tf.dispose([s.m, s.v]);
    this.slots.clear();
  }
}
