/**
 * Factorized, ℓ2-normalised codes (Yu et al. 2022, "Vector-quantized Image Modeling with Improved
 * VQGAN" (ViT-VQGAN), §3.2, arXiv 2110.04627): the encoder's vector is projected to a small
 * lookup space (e.g. 32 → 8), looked up there with cosine distance (codes and latents
 * ℓ2-normalised), and the code is projected back:
 *
 *   z [..., dim] → W_in → VectorQuantizer({ dim: codeDim, distance: 'cosine' }) → W_out → [..., dim]
 *
 * The projections are learned linear maps initialised as torch.nn.Linear (U(±1/√fanIn)). The
 * inner quantizer's losses (codebook, commitment, entropy) are its own, in the lookup space.
 */
import * as tf from '@tensorflow/tfjs';
import { VectorQuantizer, VQOutput } from './vq';
import { VectorQuantizerOptions } from './options';
import { Rng, childSeed } from '../rng';
import type { Linear } from '../nn/layers';
import { Projections } from './projections';
import { OptionsOf, assertAlive, is, resolveOptions } from '../validate';

export const FACTORIZED_VQ_OPTIONS = {
  /** Width of the vectors in and out (the VQ-VAE's latent channels). */
  dim: { check: is.int(1) },
  /** Width of the lookup space (ViT-VQGAN: 8 or 32). */
  codeDim: { check: is.int(1) },
  /** K, the number of codes. */
  codebookSize: { check: is.int(2) },
  /** More options of the inner VectorQuantizer (not codebookSize, dim, distance or seed). */
  vq: { check: (v: Partial<VectorQuantizerOptions>, name: string) => v, default: {} as Partial<VectorQuantizerOptions> },
  /** Random seed of the projections and the codebook. Default 0. */
  seed: { check: is.seed, default: 0 },
};
/** Options of new FactorizedVQ(options) (see FACTORIZED_VQ_OPTIONS). */
export type FactorizedVQOptions = OptionsOf<typeof FACTORIZED_VQ_OPTIONS>;

/** Factorized, ℓ2-normalised codes (ViT-VQGAN): project to a small lookup space, quantize there with cosine distance, project back. */
export class FactorizedVQ {
  readonly options: Readonly<Required<Omit<FactorizedVQOptions, 'vq'>>> & { vq: Partial<VectorQuantizerOptions> };
  readonly inner: VectorQuantizer;
  private readonly proj: Projections;
  private disposed = false;

  constructor(options: FactorizedVQOptions) {
    const o = resolveOptions('FactorizedVQ', FACTORIZED_VQ_OPTIONS, options);
    for (const k of ['codebookSize', 'dim', 'distance', 'seed']) {
      if (k in o.vq) throw new Error(`FactorizedVQ: vq.${k} is set by FactorizedVQ itself; give it at the top level (or not at all for distance)`);
    }
    this.options = o as FactorizedVQ['options'];
    this.proj = new Projections(o.dim, o.codeDim, new Rng(childSeed(o.seed, 11)), true);
    this.inner = new VectorQuantizer({ ...o.vq, codebookSize: o.codebookSize, dim: o.codeDim, distance: 'cosine', seed: o.seed });
  }

  readonly indicesPerVector = 1;
  /** dim → codeDim.   kernel [dim, codeDim], bias [codeDim] */
  get projectIn(): Linear { return this.proj.in!; }
  /** codeDim → dim.   kernel [codeDim, dim], bias [dim] */
  get projectOut(): Linear { return this.proj.out!; }
  get codebookSize(): number { return this.options.codebookSize; }
  get dim(): number { return this.options.dim; }
  get stats(): VectorQuantizer['stats'] { return this.inner.stats; }
  get config(): { type: string } & Record<string, unknown> {
    return { type: 'FactorizedVQ', dim: this.dim, codeDim: this.options.codeDim, codebookSize: this.codebookSize, vq: this.inner.config };
  }

  /** "projectIn.kernel", "projectIn.bias", "projectOut.…", then the inner quantizer's under "vq.". */
  namedVariables(): Map<string, tf.Variable> {
    assertAlive('FactorizedVQ', this.disposed);
    const out = this.proj.namedVariables();
    for (const [k, v] of this.inner.namedVariables()) out.set(`vq.${k}`, v);
    return out;
  }

  /** z [..., dim] → quantized [..., dim], indices [...], the inner quantizer's losses. */
  forward(z: tf.Tensor, opts: { training?: boolean } = {}): VQOutput {
    assertAlive('FactorizedVQ', this.disposed);
    if (!(z instanceof tf.Tensor) || z.rank < 1 || z.shape[z.rank - 1] !== this.dim) {
      throw new Error(`FactorizedVQ.forward(z) must be a tensor [..., ${this.dim}], got ${z instanceof tf.Tensor ? `shape [${z.shape}]` : typeof z}`);
    }
    const low = this.proj.toInner(z); // [..., codeDim]
    let out: VQOutput;
    try {
      out = this.inner.forward(low, opts);
    } finally {
      low.dispose();
    }
    const quantized = this.proj.toOuter(out.quantized);
    out.quantized.dispose();
    return { ...out, quantized };
  }

  /** indices [...] → code vectors projected out [..., dim]. */
  decode(indices: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.proj.toOuter(this.inner.decode(indices)));
  }

  trainableVariables(): tf.Variable[] {
    return [...this.proj.namedVariables().values(), ...this.inner.trainableVariables()];
  }

  restored(): void {
    this.inner.restored();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.proj.dispose();
    this.inner.dispose();
  }
}
