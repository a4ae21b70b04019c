/**
 * LinearAutoencoder: a quantizer between a learned linear encoder E and decoder G, both
 * [dim, dim] and initialised to the identity (so that before training it is the bare quantizer):
 *
 *   x [..., dim] → z = x·E → quantizer → q → x̂ = q·G [..., dim]
 *
 * It is itself a Quantizer (protocol.ts), so trainQuantizer trains E, G and the quantizer together
 * (on the reconstruction error mean((x − x̂)²) plus the quantizer's own loss) and
 * evaluateQuantizer scores it. Notebook 11's Gaussian setting: without an encoder the gradient
 * that crosses the quantizer goes nowhere, and the rotation trick could not differ from the STE.
 *
 * ```ts
 * const ae = new LinearAutoencoder(new VectorQuantizer({ codebookSize: 256, dim: 64 }));
 * await trainQuantizer(ae, train, { steps: 200, batchSize: 32 });
 * const { usage, perplexity, mse } = await evaluateQuantizer(ae, heldOut);
 * ae.dispose();   // E, G and the quantizer
 * ```
 */
import * as tf from '@tensorflow/tfjs';
import type { CodebookHealth, Quantizer, QuantizerConfig, QuantizerOutput } from './protocol';
import { checkQuantizer } from './checks';
import { assertAlive, checkVectors } from '../validate';

/** A quantizer between an identity-initialised linear encoder and decoder, trained with it (see the file's comment). */
export class LinearAutoencoder<Out extends QuantizerOutput = QuantizerOutput> implements Quantizer<Out> {
  /** The quantizer in the middle (owned: dispose() frees it). */
  readonly quantizer: Quantizer<Out>;
  /** E [dim, dim]: z = x·E. */
  readonly encoder: tf.Variable;
  /** G [dim, dim]: x̂ = q·G. */
  readonly decoder: tf.Variable;
  private disposed = false;

  /** Wraps `quantizer` (which it then owns) between E = G = I of its `dim`. */
  constructor(quantizer: Quantizer<Out>) {
    this.quantizer = checkQuantizer(quantizer, 'LinearAutoencoder(quantizer)') as Quantizer<Out>;
    const d = quantizer.dim;
    this.encoder = tf.tidy(() => tf.variable(tf.eye(d)));
    this.decoder = tf.tidy(() => tf.variable(tf.eye(d)));
  }

  get codebookSize(): number { return this.quantizer.codebookSize; }
  get dim(): number { return this.quantizer.dim; }
  get indicesPerVector(): number { return this.quantizer.indicesPerVector; }
  get stats(): CodebookHealth { return this.quantizer.stats; }
  get config(): QuantizerConfig {
    return { type: 'LinearAutoencoder', dim: this.dim, quantizer: this.quantizer.config };
  }

  /** x·W over the last axis of x [..., dim]. */
  private static apply(x: tf.Tensor, w: tf.Variable, dim: number): tf.Tensor {
    return tf.tidy(() => (x.rank === 2 ? tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D)
      : tf.reshape(tf.matMul(tf.reshape(x, [-1, dim]) as tf.Tensor2D, w as tf.Tensor2D), x.shape)));
  }

  /** x [..., dim] → the quantizer's outputs for z = x·E, with `quantized` = x̂ = q·G. */
  forward(x: tf.Tensor, opts: { training?: boolean } = {}): Out {
    assertAlive('LinearAutoencoder', this.disposed);
    checkVectors('LinearAutoencoder.forward(x)', x, this.dim);
    const z = LinearAutoencoder.apply(x, this.encoder, this.dim);
    let out: Out;
    try {
      out = this.quantizer.forward(z, opts);
    } catch (e) {
      z.dispose();
      throw e;
    }
    if (!Object.values(out).includes(z)) z.dispose(); // (an output that is z itself stays the caller's)
    const quantized = LinearAutoencoder.apply(out.quantized, this.decoder, this.dim);
    out.quantized.dispose();
    return { ...out, quantized };
  }

  /** Indices (shaped as forward's) → the decoded vectors q·G [..., dim]. No gradient. */
  decode(indices: tf.Tensor): tf.Tensor {
    assertAlive('LinearAutoencoder', this.disposed);
    return tf.tidy(() => LinearAutoencoder.apply(this.quantizer.decode(indices), this.decoder, this.dim));
  }

  /** E, G, then the quantizer's. */
  trainableVariables(): tf.Variable[] {
    assertAlive('LinearAutoencoder', this.disposed);
    return [this.encoder, this.decoder, ...this.quantizer.trainableVariables()];
  }

  /** "encoder", "decoder", then the quantizer's under "quantizer.". */
  namedVariables(): Map<string, tf.Variable> {
    assertAlive('LinearAutoencoder', this.disposed);
    const out = new Map<string, tf.Variable>([['encoder', this.encoder], ['decoder', this.decoder]]);
    for (const [k, v] of this.quantizer.namedVariables()) out.set(`quantizer.${k}`, v);
    return out;
  }

  restored(): void {
    this.quantizer.restored();
  }

  /** Frees E, G and the quantizer. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    tf.dispose([this.encoder, this.decoder]);
    this.quantizer.dispose();
  }
}
