/**
 * What the VQ-VAE needs from its quantizer: lib/quantizer's protocol (Quantizer), which
 * VectorQuantizer, FSQ, LFQ, SimVQ and ResidualVQ implement. The checks and helpers here take any
 * object of that shape.
 */
import * as tf from '@tensorflow/tfjs';
import type { CodebookHealth, Quantizer, QuantizerOutput } from '../quantizer/protocol';
import { checkInt, describe } from '../validate';

export type { CodebookHealth } from '../quantizer/protocol';

/** A pluggable quantizer between encoder and decoder: the quantizer protocol. */
export type Bottleneck = Quantizer;

/** The outputs of `forward(z)` the VQ-VAE uses (quantized, indices, loss; extra fields are kept). */
export type BottleneckOutput = QuantizerOutput;

type Fields = Record<string, unknown>;

/** Throws, naming `argName`, unless `b` implements the quantizer protocol (enough of it for the VQ-VAE). */
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
 * All of the bottleneck's variables, trainable or not, by name: its `namedVariables()` (the codebook,
 * EMA buffers "emaState.clusterSize", FSQ/LFQ projections "projectIn.kernel", ResidualVQ stages
 * "layers.1.codebook"). For an object without namedVariables, its variables by property path
 * (depth ≤ 4; an object reached twice once, under its first path).
 */
export function bottleneckVariables(b: Bottleneck | object): Map<string, tf.Variable> {
  const named = (b as Partial<Bottleneck>).namedVariables;
  if (typeof named === 'function') return named.call(b);
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

/** A JSON description of the bottleneck's architecture, for checkpoints: its `config`, or (without one) its main fields. */
export function describeBottleneck(b: Bottleneck | object): Record<string, unknown> {
  const q = b as unknown as Fields;
  if (q.config !== null && typeof q.config === 'object') return JSON.parse(JSON.stringify(q.config));
  const opts = (q.options && typeof q.options === 'object' ? q.options : {}) as Fields;
  const desc: Record<string, unknown> = { type: (b as object).constructor?.name ?? 'Object' };
  for (const k of ['codebookSize', 'dim', 'levels', 'numCodebooks', 'numQuantizers', 'distance']) {
    const v = q[k] ?? opts[k];
    if (v !== undefined && typeof v !== 'function' && !(v instanceof tf.Tensor)) desc[k] = JSON.parse(JSON.stringify(v));
  }
  if (opts.ema) desc.ema = true;
  return desc;
}
