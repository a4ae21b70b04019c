/**
 * Residual vector quantization (Zeghidour et al. 2021, "SoundStream", Algorithm 1), after
 * vector-quantize-pytorch's `residual_vq.py` / `residual_fsq.py`: stage i quantizes what the
 * stages before it left over,
 *
 *   r_0 = z,   q_i = Q_i(r_i / s_i)·s_i,   r_{i+1} = r_i − sg(q_i),   ẑ = Σ_{i<n} q_i
 *
 * with n_q stages of K codes each: rate n_q·log2 K bits per vector from n_q small codebooks
 * (one codebook of K^n_q codes would be needed for the same rate). s_i = 1 for VQ stages; for
 * FSQ stages s_i = L^(−i) per channel (residual FSQ: each stage a finer grid).
 *
 * Quantizer dropout (SoundStream §3.3): in a training-mode forward, with probability one a
 * seeded random n ∈ [cutoff + 1, n_q] of the first stages run and the rest are skipped
 * (index −1, loss 0), so one model serves every rate 1..n_q at inference (`decode(indices, n)`).
 *
 * Gradient: as in vector-quantize-pytorch (quant_grad_frac = 0), each stage's output keeps
 * its own estimator (STE, rotation trick, or FSQ's) to that stage's input, and the residual
 * passed on is detached, so ∂ẑ/∂z is the sum over active stages (n·I for plain STE stages).
 *
 * Deliberate differences: vector-quantize-pytorch's ResidualFSQ hard-codes FSQ's
 * `preserve_symmetry` and a hard clamp; here the stages are this library's FSQ (lucidrains-style tanh
 * bound, = vector-quantize-pytorch's FSQ with its defaults). No projections in/out, no beam
 * search. With a shared VQ codebook each stage's training forward applies its own EMA step in
 * turn (vector-quantize-pytorch accumulates all stages' vectors into one EMA update).
 * The dropout draw comes from lib/rng (vector-quantize-pytorch: Python's `random`).
 */
import * as tf from '@tensorflow/tfjs';
import { FSQ, FSQ_OPTIONS } from './fsq';
import { VQ_OPTIONS, VectorQuantizerOptions } from './options';
import { checkVQMemory } from './memory';
import type { Quantizer, QuantizerConfig } from './protocol';
import { Rng, childSeed } from '../rng';
import { CodebookStats } from './stats';
import { stopGradient } from './ste';
import { VectorQuantizer } from './vq';
import { checkForwardInput, VQForwardOptions } from './checks';
import {
  OptionsOf, ResolvedOf, assertAlive, assertBackend, assertLive, checkIndices, checkInt, checkVectors, describe, is, resolveOptions,
} from '../validate';

/** The FSQ options a residual FSQ stage takes (no projections, numCodebooks or seed). */
const STAGE_FSQ_OPTIONS = { levels: FSQ_OPTIONS.levels, bound: FSQ_OPTIONS.bound, statsWindow: FSQ_OPTIONS.statsWindow };

/** Options of ResidualVQ, declared once (names, checks, defaults, docs). */
export const RESIDUAL_VQ_OPTIONS = {
  /** n_q, the number of stages (1 … 64). */
  numQuantizers: { check: is.int(1, 64) },
  /**
   * Options of every VQ stage (checked by VectorQuantizer; no `seed`: stage seeds derive from
   * ResidualVQ's `seed`). Give this or `fsq`.
   */
  vq: { check: checkStageVQ, optional: true as const },
  /** Options of every FSQ stage: `levels` (and `bound`, `statsWindow`). Give this or `vq`. */
  fsq: {
    check: (v: OptionsOf<typeof STAGE_FSQ_OPTIONS>, name: string) => resolveOptions(name, STAGE_FSQ_OPTIONS, v, '.'),
    optional: true as const,
  },
  /** One VQ codebook for all stages (vq only). Default false. */
  sharedCodebook: { check: is.boolean, default: false },
  /** Quantizer dropout in training-mode forwards (resolved to false with one stage, as in vector-quantize-pytorch). Default false. */
  quantizeDropout: { check: is.boolean, default: false },
  /** Stages 0..cutoff always run under dropout (vector-quantize-pytorch's quantize_dropout_cutoff_index; ≤ n_q − 1). Default 0. */
  quantizeDropoutCutoffIndex: { check: is.int(0), default: 0 },
  /** Random seed of the stages' codebooks and of the dropout draws. */
  seed: { check: is.seed, optional: true as const },
  /** Check each input to forward for NaN/Infinity. Default true. */
  checkFinite: { check: is.boolean, default: true },
  /** Batches in the window of `stats`. Default 100. */
  statsWindow: { check: is.int(1), default: 100 },
};
/** Options of new ResidualVQ(options) (see RESIDUAL_VQ_OPTIONS). */
export type ResidualVQOptions = OptionsOf<typeof RESIDUAL_VQ_OPTIONS>;

/**
 * Check ResidualVQ's options and fill in the defaults, with the rules that join two options:
 * exactly one of vq/fsq, no shared FSQ codebook, cutoff ≤ n_q − 1, and quantizeDropout false with
 * one stage (what the class then does). Stage options given flat, lucidrains-style
 * (`codebookSize`, `levels`, …), get a hint to put them under `vq` / `fsq`.
 */
export function resolveResidualOptions(options: ResidualVQOptions): ResolvedOf<typeof RESIDUAL_VQ_OPTIONS> {
  const o = 'ResidualVQ';
  if (options !== null && typeof options === 'object' && !Array.isArray(options)) {
    const stageOnly = (k: string) => !(k in RESIDUAL_VQ_OPTIONS) && (k in VQ_OPTIONS || k in FSQ_OPTIONS);
    const flat = Object.keys(options).filter(stageOnly);
    if (flat.length) {
      const fsq = flat.every((k) => k in FSQ_OPTIONS && !(k in VQ_OPTIONS));
      const where = fsq ? '`fsq: { … }`' : '`vq: { … }`';
      throw new Error(`${o}: unknown option '${flat[0]}': the stages' options go under ${where}, not at the top level, e.g. ` +
        (fsq ? 'new ResidualVQ({ numQuantizers: 4, fsq: { levels: [8, 5, 5, 5] } })'
          : 'new ResidualVQ({ numQuantizers: 8, vq: { codebookSize: 1024, dim: 64 } })') +
        `; ResidualVQ's own options: ${Object.keys(RESIDUAL_VQ_OPTIONS).join(', ')}`);
    }
  }
  const opts = resolveOptions(o, RESIDUAL_VQ_OPTIONS, options);
  const nq = opts.numQuantizers;
  if ((opts.vq === undefined) === (opts.fsq === undefined)) {
    throw new Error(`${o}: exactly one of vq (VectorQuantizer options) and fsq (FSQ options) is required, for the stages`);
  }
  if (opts.fsq !== undefined && opts.sharedCodebook) {
    throw new Error(`${o}: sharedCodebook must be false with fsq stages (FSQ has no learned codebook), got true`);
  }
  checkInt(`${o}: quantizeDropoutCutoffIndex`, opts.quantizeDropoutCutoffIndex, 0, nq - 1);
  return { ...opts, quantizeDropout: opts.quantizeDropout && nq > 1 };
}

/** A stage's VectorQuantizer options: an object without `seed` (the rest is VectorQuantizer's to check). */
function checkStageVQ(v: VectorQuantizerOptions, name: string): VectorQuantizerOptions {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${name} must be VectorQuantizer options, got ${describe(v)}`);
  if (v.seed !== undefined) throw new Error(`${name}.seed must be left out (stage seeds derive from ResidualVQ's seed), got ${describe(v.seed)}`);
  return v;
}

/** A type alias so that it is a tf.TensorContainer. */
export type ResidualVQOutput = {
  /** ẑ = Σ of the active stages' outputs.   [..., dim] */
  quantized: tf.Tensor;
  /** int32 per-stage indices, −1 for stages dropped out.   [..., numQuantizers] */
  indices: tf.Tensor;
  /** Each stage's own loss (VQ: codebook + β·commit + entropy; FSQ: 0), 0 for dropped stages.   [numQuantizers] */
  losses: tf.Tensor1D;
  /** Each stage's commitment loss mean((r_i − sg(q_i))²), 0 for FSQ and dropped stages.   [numQuantizers] */
  commitLosses: tf.Tensor1D;
  /** Σ losses.   [] */
  loss: tf.Scalar;
  /** The residual left after the active stages, z − ẑ (no gradient).   [..., dim] */
  residual: tf.Tensor;
};

type Stage = VectorQuantizer | FSQ;

/** Residual quantization: VQ or FSQ stages, each quantizing what the previous left, optionally with quantizer dropout (SoundStream). */
export class ResidualVQ implements Quantizer<ResidualVQOutput> {
  /** K of each stage. */
  readonly codebookSize: number;
  readonly dim: number;
  readonly kind: 'vq' | 'fsq';
  /** The stage quantizers (the same object n_q times with a shared codebook). */
  readonly layers: readonly Stage[];
  /** Per-stage scales s_i (all 1 for VQ; L^(−i) per channel for FSQ).   numQuantizers × dim */
  readonly scales: readonly (readonly number[])[];
  /** Stages that ran in the last forward (n_q unless dropout cut it). */
  lastActive: number;
  /**
   * Codebook health over every code of every distinct codebook, updated by training-mode
   * forwards: entry i·K + k is stage i's code k (K entries in all with a shared codebook, where
   * entry k pools every stage). Dropped stages count nothing. Each stage keeps its own
   * `layers[i].stats` too.
   */
  readonly stats: CodebookStats;
  /** The options as given, checked, defaults filled in (quantizeDropout false with one stage): the one place the class reads them from. */
  readonly options: ResolvedOf<typeof RESIDUAL_VQ_OPTIONS>;
  /** Check inputs to forward for NaN/Infinity (switch off for speed). */
  checkFinite: boolean;
  private readonly rng: Rng;
  private disposed = false;

  constructor(options: ResidualVQOptions) {
    const o = 'ResidualVQ';
    const opts = (this.options = resolveResidualOptions(options));
    const nq = opts.numQuantizers;
    this.checkFinite = opts.checkFinite;
    assertBackend(o);
    const base = opts.seed;
    const seedOf = (i: number): number | undefined => (base === undefined ? undefined : childSeed(base, i));
    this.rng = new Rng(seedOf(nq + 1000));
    const layers: Stage[] = [];
    if (opts.vq !== undefined) {
      const vq = opts.vq;
      this.kind = 'vq';
      const first = new VectorQuantizer({ ...vq, seed: seedOf(0), checkFinite: false });
      layers.push(first);
      for (let i = 1; i < nq; i++) layers.push(this.sharedCodebook ? first : new VectorQuantizer({ ...vq, seed: seedOf(i), checkFinite: false }));
      this.dim = first.dim;
      this.codebookSize = first.codebookSize;
      this.scales = Array.from({ length: nq }, () => Array(first.dim).fill(1));
    } else {
      const fsq = opts.fsq!;
      this.kind = 'fsq';
      for (let i = 0; i < nq; i++) layers.push(new FSQ({ ...fsq, checkFinite: false }));
      const levels = (layers[0] as FSQ).levels;
      this.dim = levels.length;
      this.codebookSize = (layers[0] as FSQ).codebookSize;
      this.scales = Array.from({ length: nq }, (_, i) => levels.map((L) => L ** -i));
    }
    this.layers = layers;
    this.lastActive = nq;
    this.stats = new CodebookStats(this.sharedCodebook ? this.codebookSize : nq * this.codebookSize, opts.statsWindow);
  }

  /** n_q, the number of stages (options.numQuantizers). */
  get numQuantizers(): number { return this.options.numQuantizers; }
  /** One VQ codebook for all stages (options.sharedCodebook). */
  get sharedCodebook(): boolean { return this.options.sharedCodebook; }
  /** Quantizer dropout in training-mode forwards (options.quantizeDropout; false with one stage). */
  get quantizeDropout(): boolean { return this.options.quantizeDropout; }
  /** options.quantizeDropoutCutoffIndex. */
  get quantizeDropoutCutoffIndex(): number { return this.options.quantizeDropoutCutoffIndex; }
  /** Indices per vector: one per stage. */
  get indicesPerVector(): number { return this.options.numQuantizers; }

  /**
   * What a checkpoint must agree on: K, dim, n_q, and what changes the stages' function — FSQ
   * stages' levels (in order) and bound, VQ stages' distance, EMA and restarts (each only when
   * not the default, so checkpoints saved before they were checked still load), a shared codebook.
   */
  get config(): QuantizerConfig {
    const stage = this.layers[0].config;
    const extra: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(stage)) {
      if (k === 'type' || k === 'codebookSize' || k === 'dim' || k === 'numCodebooks') continue;
      if (k === 'distance' && v === 'euclidean') continue;
      extra[k] = v;
    }
    return {
      type: 'ResidualVQ', codebookSize: this.codebookSize, dim: this.dim, numQuantizers: this.numQuantizers,
      ...extra, ...(this.sharedCodebook ? { sharedCodebook: true } : {}),
    };
  }

  /** Bits per vector at n stages: n·log2 K (default all n_q). */
  rate(n = this.numQuantizers): number {
    checkInt('ResidualVQ.rate(n)', n, 0, this.numQuantizers);
    return n * Math.log2(this.codebookSize);
  }

  /**
   * z: [..., dim] → ResidualVQOutput. Training mode (default) updates each stage (EMA, stats)
   * and draws the quantizer dropout; `training: false` runs all stages and changes nothing.
   */
  forward(z: tf.Tensor, opts: VQForwardOptions = {}): ResidualVQOutput {
    this.assertAlive();
    const training = checkForwardInput('ResidualVQ', z, this.dim, opts, this.checkFinite);
    const nq = this.numQuantizers;
    if (this.kind === 'vq') {
      // Up front, before stage 0 updates its EMA: every stage's [N, K] tensors must fit on top of the
      // residuals, outputs and losses that the earlier stages leave alive (about 4 [N, dim] each).
      const N = z.size / this.dim;
      checkVQMemory('ResidualVQ.forward(z)', N, this.codebookSize, this.dim,
        { inUse: tf.memory().numBytes + 4 * 4 * N * this.dim * nq });
    }
    const cut = this.quantizeDropoutCutoffIndex;
    // vector-quantize-pytorch: last active index = randrange(cutoff, n_q)
    const active = training && this.quantizeDropout ? cut + 1 + this.rng.int(nq - cut) : nq;
    this.lastActive = active;
    const lead = z.shape.slice(0, -1);
    return tf.tidy(() => {
      const x = tf.reshape(z, [-1, this.dim]) as tf.Tensor2D; // [N, dim]
      const n = x.shape[0];
      let residual: tf.Tensor2D = x;
      let out: tf.Tensor = tf.zerosLike(x);
      const idx: tf.Tensor[] = [];
      const losses: tf.Scalar[] = [];
      const commits: tf.Scalar[] = [];
      for (let i = 0; i < nq; i++) {
        if (i >= active) {
          idx.push(tf.fill([n], -1, 'int32'));
          losses.push(tf.scalar(0));
          commits.push(tf.scalar(0));
          continue;
        }
        const s = tf.tensor1d(this.scales[i] as number[]);
        const layer = this.layers[i];
        const input = this.kind === 'fsq' ? tf.div(residual, s) : residual;
        const r = layer.forward(input, { training });
        const q = this.kind === 'fsq' ? tf.mul(r.quantized, s) : r.quantized; // [N, dim]
        residual = tf.sub(residual, stopGradient(q)) as tf.Tensor2D;
        out = tf.add(out, q);
        idx.push(r.indices);
        if (layer instanceof VectorQuantizer) {
          const v = r as ReturnType<VectorQuantizer['forward']>;
          losses.push(v.loss);
          commits.push(v.commitLoss);
        } else {
          losses.push(tf.scalar(0));
          commits.push(tf.scalar(0));
        }
      }
      if (training) this.recordStats(idx.slice(0, active));
      const lossVec = tf.stack(losses) as tf.Tensor1D;
      return {
        quantized: tf.reshape(out, z.shape),
        indices: tf.reshape(tf.stack(idx, 1), [...lead, nq]),
        losses: lossVec,
        commitLosses: tf.stack(commits) as tf.Tensor1D,
        loss: tf.sum(lossVec) as tf.Scalar,
        residual: tf.reshape(stopGradient(residual), z.shape),
      };
    });
  }

  /** Per-stage indices [..., numQuantizers] of z, all stages, no gradient, no side effects. */
  encode(z: tf.Tensor): tf.Tensor {
    this.assertAlive();
    checkVectors('ResidualVQ.encode(z)', z, this.dim);
    const r = this.forward(z, { training: false });
    const { indices } = r;
    tf.dispose([r.quantized, r.losses, r.commitLosses, r.loss, r.residual]);
    return indices;
  }

  /**
   * Indices [..., m] (m ≤ numQuantizers; −1 marks a dropped stage) → ẑ [..., dim] from the
   * first n stages (default: all m given): Σ_{i<n} code_i(indices_i)·s_i. No gradient.
   */
  decode(indices: tf.Tensor | number[][] | number[], n?: number): tf.Tensor {
    this.assertAlive();
    if (indices instanceof tf.Tensor) assertLive('ResidualVQ.decode(indices)', indices);
    const t = indices instanceof tf.Tensor ? indices : tf.tensor(indices as number[], undefined, 'int32');
    const m = t.rank >= 1 ? t.shape[t.rank - 1] : 0;
    if (t.rank < 1 || m < 1 || m > this.numQuantizers) {
      if (t !== indices) t.dispose();
      throw new Error(`ResidualVQ.decode(indices) must have shape [..., m] with 1 <= m <= ${this.numQuantizers} (numQuantizers), got ${describe(indices)}`);
    }
    const stages = n === undefined ? m : n;
    if (n !== undefined && (!Number.isInteger(n) || n < 1 || n > m)) {
      if (t !== indices) t.dispose();
      throw new Error(`ResidualVQ.decode(indices, n): n must be an integer in [1, ${m}] (the stages given), got ${describe(n)}`);
    }
    // −1 (a dropped stage) decodes to zero; everything else must be a valid code index
    const flat = t.dataSync();
    for (let i = 0; i < flat.length; i++) {
      if (flat[i] < 0 && flat[i] !== -1) {
        if (t !== indices) t.dispose();
        throw new Error(`ResidualVQ.decode(indices) must hold integers in [0, ${this.codebookSize - 1}], or −1 for a stage dropped out, ` +
          `found ${flat[i]} at flat position ${i}`);
      }
    }
    const keep = tf.tidy(() => tf.cast(tf.greaterEqual(t, 0), 'float32')); // [..., m]: 0 where a stage was dropped
    const clamped = tf.maximum(t, 0);
    let checked: tf.Tensor;
    try {
      checked = checkIndices('ResidualVQ.decode(indices)', clamped, this.codebookSize);
    } catch (err) {
      keep.dispose();
      throw err;
    } finally {
      clamped.dispose();
      if (t !== indices) t.dispose();
    }
    const out = tf.tidy(() => {
      const parts = tf.unstack(checked, -1);
      const keeps = tf.unstack(keep, -1);
      let sum: tf.Tensor | null = null;
      for (let i = 0; i < stages; i++) {
        const layer = this.layers[i];
        const codes = layer.decode(parts[i]); // [..., dim]
        const scaled = tf.mul(tf.mul(codes, tf.tensor1d(this.scales[i] as number[])), tf.expandDims(keeps[i], -1));
        sum = sum === null ? scaled : tf.add(sum, scaled);
      }
      return sum!;
    });
    tf.dispose([checked, keep]);
    return out;
  }

  /** stats.update with the active stages' indices, offset by i·K per stage (no offset when shared). */
  private recordStats(stageIdx: tf.Tensor[]): void {
    const K = this.codebookSize;
    const parts = stageIdx.map((t, i) => ({ v: t.dataSync(), off: this.sharedCodebook ? 0 : i * K }));
    const flat = new Int32Array(parts.reduce((a, p) => a + p.v.length, 0));
    let j = 0;
    for (const { v, off } of parts) for (let i = 0; i < v.length; i++) flat[j++] = v[i]! + off;
    this.stats.update(flat);
  }

  /** Trainable variables of all stages (each once). */
  trainableVariables(): tf.Variable[] {
    this.assertAlive();
    return [...new Set(this.layers.flatMap((l) => l.trainableVariables()))];
  }

  /** Every stage's variables under "layers.<i>." ("layers.1.codebook"); a shared stage once, under "layers.0.". */
  namedVariables(): Map<string, tf.Variable> {
    this.assertAlive();
    const out = new Map<string, tf.Variable>();
    const seen = new Set<Stage>();
    this.layers.forEach((l, i) => {
      if (seen.has(l)) return;
      seen.add(l);
      for (const [k, v] of l.namedVariables()) out.set(`layers.${i}.${k}`, v);
    });
    return out;
  }

  /** After a checkpoint load: every stage's codebook is the stored one. */
  restored(): void {
    for (const l of new Set(this.layers)) l.restored();
  }

  /** Frees every stage. The quantizer cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const l of new Set(this.layers)) l.dispose();
  }

  private assertAlive(): void {
    assertAlive('ResidualVQ', this.disposed);
  }
}
