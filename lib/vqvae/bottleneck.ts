/**
 * What the VQ-VAE needs from its quantizer. lib/quantizer's VectorQuantizer, FSQ, LFQ, SimVQ and
 * ResidualVQ satisfy it structurally; so does any object of the same shape.
 */
import * as tf from '@tensorflow/tfjs';
import { checkInt, describe } from '../validate';

/** The outputs of `forward(z)` used here (VectorQuantizer's VQOutput, FSQ's FSQOutput, …; extra fields are ignored). */
export interface BottleneckOutput {
  /** [..., dim]: z_q in value, straight-through gradient to z (van den Oord et al. 2017, eq. 3). */
  quantized: tf.Tensor;
  /** [...] int32 code indices ([..., numQuantizers] for ResidualVQ). */
  indices: tf.Tensor;
  /** The quantizer's own loss (VQ: codebook + β·commitment); absent for FSQ (counted as 0). */
  loss?: tf.Tensor;
}

/** A pluggable quantizer between encoder and decoder. */
export interface Bottleneck {
  /** K, the number of codes. */
  readonly codebookSize: number;
  /** Vector width; must equal the VQ-VAE's latent channels. */
  readonly dim: number;
  /** z [..., dim] → outputs; `training: false` must change no state (EMA, stats). */
  forward(z: tf.Tensor, opts?: { training?: boolean }): BottleneckOutput;
  /** Code vectors of indices: [...] → [..., dim]. */
  decode(indices: tf.Tensor): tf.Tensor;
  /** Codebook health, updated by every training-mode forward (the quantizers' CodebookStats). */
  readonly stats: CodebookHealth;
  /** Called after a checkpoint's weights were assigned (e.g. a pending k-means init is moot). */
  restored?(): void;
}

/** What the VQ-VAE trainer reads of a quantizer's running statistics (CodebookStats has it). */
export interface CodebookHealth {
  /** The latest training batch: perplexity and fraction of codes used; null before the first. */
  readonly last: { perplexity: number; usage: number } | null;
  /** Codes unused over the statistics' window of recent batches. */
  deadCount(): number;
}

type Fields = Record<string, unknown>;

/** Throws, naming `argName`, unless `b` looks like a Bottleneck. */
export function checkBottleneck(b: unknown, argName = 'bottleneck'): Bottleneck {
  const q = b as Fields | null;
  const stats = (q?.stats ?? null) as Fields | null;
  if (q === null || typeof q !== 'object' || typeof q.forward !== 'function' || typeof q.decode !== 'function' ||
      stats === null || typeof stats !== 'object' || typeof stats.deadCount !== 'function') {
    throw new Error(`${argName} must be a quantizer with forward(z), decode(indices) and stats (VectorQuantizer, FSQ, LFQ, SimVQ, ResidualVQ), got ${describe(b)}`);
  }
  for (const k of ['codebookSize', 'dim']) checkInt(`${argName}.${k}`, q[k], 1);
  if (typeof q.numCodebooks === 'number' && q.numCodebooks !== 1) {
    throw new Error(`${argName}.numCodebooks must be 1 (the VQ-VAE needs one index per latent position), got ${q.numCodebooks}`);
  }
  return q as unknown as Bottleneck;
}

/**
 * All of the bottleneck's variables by property path (depth ≤ 4), trainable or not: the
 * codebook, EMA buffers ("emaState.clusterSize"), FSQ projections ("projectIn.kernel"),
 * ResidualVQ stages ("layers.1.emaState.clusterSize"; a shared stage once, under its first path).
 */
export function bottleneckVariables(b: Bottleneck): Map<string, tf.Variable> {
  const out = new Map<string, tf.Variable>();
  const seen = new Set<unknown>();
  const walk = (o: unknown, path: string, depth: number): void => {
    if (o === null || typeof o !== 'object' || seen.has(o) || depth > 4) return;
    seen.add(o);
    if (o instanceof tf.Variable) {
      out.set(path, o);
      return;
    }
    if (o instanceof tf.Tensor || ArrayBuffer.isView(o)) return;
    const entries = Array.isArray(o) ? o.map((v, i) => [String(i), v] as const) : Object.entries(o);
    for (const [k, v] of entries) walk(v, path ? `${path}.${k}` : k, depth + 1);
  };
  walk(b, '', 0);
  return out;
}

/** A JSON description of the bottleneck's architecture, for checkpoints. */
export function describeBottleneck(b: Bottleneck): Record<string, unknown> {
  const q = b as unknown as Fields;
  const opts = (q.options && typeof q.options === 'object' ? q.options : {}) as Fields;
  const desc: Record<string, unknown> = { type: (b as object).constructor?.name ?? 'Object' };
  for (const k of ['codebookSize', 'dim', 'levels', 'numCodebooks', 'numQuantizers', 'distance']) {
    const v = q[k] ?? opts[k];
    if (v !== undefined && typeof v !== 'function' && !(v instanceof tf.Tensor)) desc[k] = JSON.parse(JSON.stringify(v));
  }
  if (opts.ema) desc.ema = true;
  return desc;
}
