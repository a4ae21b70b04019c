/**
 * The one quantizer protocol. VectorQuantizer, FSQ, LFQ, SimVQ and ResidualVQ implement it, so a
 * training loop, the VQ-VAE (its bottleneck) and a checkpoint treat them alike:
 *
 * ```ts
 * const q: Quantizer = new LFQ({ codebookSize: 256, dim: 32 });   // or any of the five
 * const cost = opt.minimize(() => {
 *   const out = q.forward(encoder(x));                            // { quantized, indices, loss, … }
 *   return tf.add(reconstructionLoss(out.quantized), out.loss);   // loss: 0 for FSQ
 * }, true, [...encoderVars, ...q.trainableVariables()]);
 * await saveCheckpointFile(q, 'q.ckpt');                          // namedVariables() + config
 * ```
 *
 * Type-only (no runtime code): lib/vqvae imports it as its Bottleneck.
 */
import type * as tf from '@tensorflow/tfjs';

/** What every quantizer's forward returns (each class adds its own fields, e.g. VQOutput's commitLoss). */
export type QuantizerOutput = {
  /** z_q in value, with the class's gradient estimator to z (STE, rotation trick, FSQ's).   [..., dim] */
  quantized: tf.Tensor;
  /**
   * int32 code indices: [...] (one per vector); [..., numCodebooks] for FSQ with numCodebooks > 1;
   * [..., numQuantizers] for ResidualVQ (−1 for stages dropped out). See `indicesPerVector`.
   */
  indices: tf.Tensor;
  /** The total auxiliary loss to add to a model's loss (VQ: codebook + β·commitment + entropy; FSQ: 0).   [] */
  loss: tf.Scalar;
};

/** Running codebook statistics (lib/quantizer/stats.ts's CodebookStats has them). */
export interface CodebookHealth {
  /** The latest training batch: perplexity and fraction of codes used; null before the first. */
  readonly last: { perplexity: number; usage: number } | null;
  /** Codes unused over the statistics' window of recent batches. */
  deadCount(): number;
}

/** A JSON description of everything that changes a quantizer's function (checkpoints compare it). */
export type QuantizerConfig = Record<string, unknown> & { readonly type: string };

/** What every quantizer implements (VectorQuantizer, FSQ, LFQ, SimVQ, ResidualVQ) and the VQ-VAE's bottleneck takes. */
export interface Quantizer<Out extends QuantizerOutput = QuantizerOutput> {
  /** K, the number of codes (of each stage, for ResidualVQ). */
  readonly codebookSize: number;
  /** Width of the vectors z [..., dim] and of `quantized`. */
  readonly dim: number;
  /** Indices per vector: 1, or FSQ's numCodebooks, or ResidualVQ's numQuantizers. */
  readonly indicesPerVector: number;
  /** What a checkpoint must agree on (see QuantizerConfig). */
  readonly config: QuantizerConfig;
  /** Codebook health, updated by every training-mode forward. */
  readonly stats: CodebookHealth;
  /** z [..., dim] → outputs. `training: false` changes no state (EMA, restarts, stats, dropout). */
  forward(z: tf.Tensor, opts?: { training?: boolean }): Out;
  /** Code vectors of indices (shaped as `forward`'s indices) → [..., dim]. No gradient. */
  decode(indices: tf.Tensor): tf.Tensor;
  /** The variables an optimizer should train. */
  trainableVariables(): tf.Variable[];
  /** Every variable (trainable or not: EMA statistics, SimVQ's frozen codebook) by a stable name, for checkpoints. */
  namedVariables(): Map<string, tf.Variable>;
  /** Called after a checkpoint load assigned every variable (a pending k-means init is moot). */
  restored(): void;
  /** Frees every variable; the quantizer throws "<Class>: used after dispose()" afterwards. */
  dispose(): void;
}
