/**
 * evaluateQuantizer: a quantizer's scores on a set of vectors it was not trained on (notebook
 * 11's held-out scores), chunk by chunk, in evaluation mode (no state changes):
 *
 * ```ts
 * const s = await evaluateQuantizer(q, heldOut, { batchSize: 1000 });
 * s.usage; s.perplexity; s.mse;   // plain numbers; s.counts: how often each code was chosen
 * ```
 */
import * as tf from '@tensorflow/tfjs';
import type { Quantizer } from './protocol';
import { checkQuantizer } from './checks';
import { codeStats } from '../metrics';
import { interruptGuard, yieldToEventLoop } from '../interrupt';
import { OptionsOf, assertFinite, checkVectors, describe, is, resolveOptions } from '../validate';

export const EVALUATE_QUANTIZER_OPTIONS = {
  /** Vectors per forward pass (≥ 1). Default 1000. */
  batchSize: { check: is.int(1), default: 1000 },
};
/** Options of evaluateQuantizer (see EVALUATE_QUANTIZER_OPTIONS). */
export type EvaluateQuantizerOptions = OptionsOf<typeof EVALUATE_QUANTIZER_OPTIONS>;

/** What evaluateQuantizer returns (plain numbers). */
export interface QuantizerScores {
  /** mean((x − quantized)²) over every coordinate: the quantization error, or a LinearAutoencoder's reconstruction error. */
  mse: number;
  /** Codes chosen at least once. */
  used: number;
  /** used / codebookSize. */
  usage: number;
  /** exp(−Σ p log p) of the codes' frequencies (codebookSize when all are used equally, 1 when one is). */
  perplexity: number;
  /**
   * How often each of the codebookSize codes was chosen. With several indices per vector (ResidualVQ's
   * stages, FSQ's codebooks) their counts are pooled; ResidualVQ's −1 (a dropped stage) is not counted.
   */
  counts: Int32Array;
}

/**
 * Scores `quantizer` on `data` [N, dim] (float32, finite), `batchSize` vectors per forward with
 * `training: false` (no EMA update, restart or statistics). Async: a kernel interrupt stops it
 * between two chunks with an InterruptedError. Leaves tf.memory().numTensors unchanged.
 */
export async function evaluateQuantizer(quantizer: Quantizer, data: tf.Tensor2D, options: EvaluateQuantizerOptions = {}): Promise<QuantizerScores> {
  const name = 'evaluateQuantizer';
  const { batchSize } = resolveOptions(`${name}(quantizer, data, options)`, EVALUATE_QUANTIZER_OPTIONS, options);
  checkQuantizer(quantizer, `${name}(quantizer)`);
  checkVectors(`${name}(data)`, data, quantizer.dim);
  if (data.rank !== 2) throw new Error(`${name}(data) must be a tensor [N, ${quantizer.dim}], got ${describe(data)}`);
  assertFinite(`${name}(data)`, data);
  const [n, dim] = data.shape;
  const K = quantizer.codebookSize;
  const counts = new Int32Array(K);
  let se = 0;
  const check = interruptGuard(name);
  for (let s = 0; s < n; s += batchSize) {
    await check(() => `${s} of ${n} vectors`);
    const [err, idx] = tf.tidy(() => {
      const x = tf.slice(data, [s, 0], [Math.min(batchSize, n - s), dim]);
      const out = quantizer.forward(x, { training: false });
      return [tf.sum(tf.square(tf.sub(x, out.quantized))), out.indices];
    });
    const [errA, idxA] = await Promise.all([err.data(), idx.data()]);
    tf.dispose([err, idx]);
    se += errA[0];
    for (let j = 0; j < idxA.length; j++) if (idxA[j] >= 0 && idxA[j] < K) counts[idxA[j]]++;
  }
  await yieldToEventLoop();
  let used = 0;
  for (let k = 0; k < K; k++) if (counts[k] > 0) used++;
  const { perplexity, usage } = codeStats(counts);
  return { mse: se / data.size, used, usage, perplexity, counts };
}
