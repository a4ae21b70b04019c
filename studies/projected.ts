/**
 * A quantizer between learned linear projections: z [..., dim] → W_in → inner quantizer (width d)
 * → W_out → [..., dim]. The studies use it for residual FSQ inside the VQ-VAE, as
 * vector-quantize-pytorch's `ResidualFSQ` does (`project_in` / `project_out`, nn.Linear with bias,
 * whenever dim ≠ len(levels)): the library's ResidualVQ has no projections, and an FSQ stage's width
 * is its number of levels.
 *
 * The projections are initialised as torch.nn.Linear (U(±1/√fanIn)), seeded. `decode(indices, n)`
 * passes `n` (the first n stages) to the inner quantizer.
 */
import { tf } from '../lib/index';
import type { Quantizer, QuantizerConfig, QuantizerOutput } from '../lib/quantizer/protocol';
import { Rng, childSeed } from '../lib/rng';
import { Projections } from '../lib/quantizer/projections';

type Inner = Quantizer & { decode(indices: tf.Tensor, n?: number): tf.Tensor };

export class Projected implements Quantizer {
  private readonly proj: Projections;
  private disposed = false;

  constructor(readonly inner: Inner, readonly dim: number, seed: number) {
    this.proj = new Projections(dim, inner.dim, new Rng(childSeed(seed, 13)), true);
  }

  get codebookSize(): number { return this.inner.codebookSize; }
  get indicesPerVector(): number { return this.inner.indicesPerVector; }
  get stats(): Quantizer['stats'] { return this.inner.stats; }
  get config(): QuantizerConfig { return { type: 'Projected', dim: this.dim, inner: this.inner.config }; }

  forward(z: tf.Tensor, opts: { training?: boolean } = {}): QuantizerOutput {
    this.alive();
    const low = this.proj.toInner(z);
    let out: QuantizerOutput;
    try {
      out = this.inner.forward(low, opts);
    } finally {
      low.dispose();
    }
    const quantized = this.proj.toOuter(out.quantized);
    out.quantized.dispose();
    return { ...out, quantized };
  }

  /** Indices → code vectors projected out [..., dim]; `n`: decode from the first n stages (ResidualVQ). */
  decode(indices: tf.Tensor, n?: number): tf.Tensor {
    this.alive();
    const c = n === undefined ? this.inner.decode(indices) : this.inner.decode(indices, n);
    try {
      return this.proj.toOuter(c);
    } finally {
      c.dispose();
    }
  }

  trainableVariables(): tf.Variable[] {
    return [...this.proj.namedVariables().values(), ...this.inner.trainableVariables()];
  }

  /** "projectIn.kernel", "projectIn.bias", "projectOut.…", then the inner quantizer's under "inner.". */
  namedVariables(): Map<string, tf.Variable> {
    this.alive();
    const out = this.proj.namedVariables();
    for (const [k, v] of this.inner.namedVariables()) out.set(`inner.${k}`, v);
    return out;
  }

  restored(): void { this.inner.restored(); }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.proj.dispose();
    this.inner.dispose();
  }

  private alive(): void {
    if (this.disposed) throw new Error('Projected: used after dispose()');
  }
}
