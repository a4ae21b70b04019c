/**
 * The VQ-VAE of DL-Demos (github.com/SingleZombie/DL-Demos, `dldemos/VQVAE/model.py`, after van den Oord et al. 2017,
 * "Neural Discrete Representation Learning"), NHWC, with a pluggable bottleneck.
 *
 *   encoder: conv4×4 s2 p1 → ReLU → conv4×4 s2 p1 → ReLU → conv3×3 p1 → Res → Res
 *   decoder: conv3×3 p1 → Res → Res → convT4×4 s2 p1 → ReLU → convT4×4 s2 p1
 *   Res(x) = x + conv1×1(ReLU(conv3×3(ReLU(x))))
 *   loss   = MSE(x, x̂) + MSE(sg(ze), zq) + β·MSE(ze, sg(zq))        (DL-Demos main.py)
 * where the last two terms are the quantizer's own `loss` (VectorQuantizer, β = commitmentWeight).
 */
import * as tf from '@tensorflow/tfjs';
import { Conv2D, ConvTranspose2D, ParamHolder, collect } from '../nn/layers';
import { Bottleneck, BottleneckOutput, bottleneckVariables, checkBottleneck, describeBottleneck } from './bottleneck';
import { childSeed, mulberry32 } from '../rng';
import {
  MAX_TENSOR_VALUES, OptionsOf, assertAlive, assertBackend, checkImages, describe, is, resolveOptions,
} from '../validate';

/** childSeed label of the VQ-VAE's conv init stream (distinct from the PixelCNN's). */
export const VQVAE_INIT_STREAM = 4;

/** Residual block: x + conv1×1(ReLU(conv3×3(ReLU(x)))) (DL-Demos ResidualBlock). */
export class ResidualBlock implements ParamHolder {
  readonly conv1: Conv2D; // 3×3, dim → dim
  readonly conv2: Conv2D; // 1×1, dim → dim
  constructor(dim: number, rand: () => number) {
    this.conv1 = new Conv2D(dim, dim, 3, 1, 1, rand);
    this.conv2 = new Conv2D(dim, dim, 1, 1, 0, rand);
  }
  /** x [N, h, w, dim] → [N, h, w, dim] */
  apply(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => tf.add(x, this.conv2.apply(this.conv1.applyRelu(tf.relu(x)))) as tf.Tensor4D);
  }
  namedVariables(prefix = ''): Map<string, tf.Variable> {
    return collect([['conv1', this.conv1], ['conv2', this.conv2]], prefix);
  }
}

export const VQVAE_OPTIONS = {
  /**
   * The quantizer (any of lib/quantizer's: VectorQuantizer, FSQ, LFQ, SimVQ, ResidualVQ); its vector dim
   * must equal `dim`. ResidualVQ trains and reconstructs, but has no single-index map (encodeIndices refuses it).
   */
  bottleneck: { check: (v: Bottleneck, name: string): Bottleneck => checkBottleneck(v, name) },
  /** Latent channels D (DL-Demos MNIST: 32). Default 32. */
  dim: { check: is.int(1, 4096), default: 32 },
  /** Image channels (1 for MNIST). Default 1. */
  inChannels: { check: is.int(1, 4096), default: 1 },
  /** Random seed of the conv weight init (PyTorch-like uniform). Default 0. */
  seed: { check: is.seed, default: 0 },
};
/** Options of new VQVAE(options) (see VQVAE_OPTIONS). */
export type VQVAEOptions = OptionsOf<typeof VQVAE_OPTIONS>;

/** Options of VQVAE.forward. */
export const VQVAE_FORWARD_OPTIONS = {
  /** Training mode: the quantizer updates its state (EMA, stats). Default true. */
  training: { check: is.boolean, default: true },
};

/** The architecture facts a checkpoint must agree on. */
export interface VQVAEConfig {
  /**
   * Architecture tag stored in checkpoints: DL-Demos' VQ-VAE. Checkpoints saved before the tag was
   * renamed carry 'vqvae-seed004' and still load (lib/checkpoint's RENAMED_CONFIG_VALUES).
   */
  arch: 'dldemos-vqvae';
  inChannels: number;
  dim: number;
  bottleneck: Record<string, unknown>;
}

/** Tensors of one forward pass; the caller disposes them (or runs inside tf.tidy). */
export interface VQVAEForward {
  xHat: tf.Tensor4D; // [N, H, W, C]
  ze: tf.Tensor4D; // [N, H/4, W/4, D]
  q: BottleneckOutput; // quantized [N, H/4, W/4, D], indices [N, H/4, W/4]
}

/** A VQ-VAE forward pass with its losses: reconstruction, the bottleneck's, and their sum. */
export interface VQVAELoss extends VQVAEForward {
  loss: tf.Scalar; // reconMse + quantizerLoss
  reconMse: tf.Scalar; // mean((x − x̂)²)
  quantizerLoss: tf.Scalar; // VQ: codebook + β·commitment; FSQ: 0
}

/** The VQ-VAE of DL-Demos (MNIST): a conv encoder, any quantizer as its bottleneck, a conv decoder. */
export class VQVAE implements ParamHolder {
  readonly bottleneck: Bottleneck;
  readonly dim: number;
  readonly inChannels: number;
  /** Spatial downsampling factor of the encoder (two stride-2 convs). */
  readonly downsample = 4;
  readonly encoder: { conv1: Conv2D; conv2: Conv2D; conv3: Conv2D; res1: ResidualBlock; res2: ResidualBlock };
  readonly decoder: { conv1: Conv2D; res1: ResidualBlock; res2: ResidualBlock; up1: ConvTranspose2D; up2: ConvTranspose2D };
  private disposed = false;

  constructor(options: VQVAEOptions) {
    const opts = resolveOptions('VQVAE', VQVAE_OPTIONS, options);
    this.bottleneck = opts.bottleneck;
    const d = (this.dim = opts.dim);
    const c = (this.inChannels = opts.inChannels);
    if (this.bottleneck.dim !== d) {
      throw new Error(`VQVAE: bottleneck.dim must equal dim (the latent channels), got bottleneck.dim ${this.bottleneck.dim} and dim ${d}`);
    }
    if (16 * d * d > MAX_TENSOR_VALUES) throw new Error(`VQVAE: dim must give conv weights of at most ${MAX_TENSOR_VALUES} values, got dim ${d}`);
    assertBackend('VQVAE');
    const rand = mulberry32(childSeed(opts.seed, VQVAE_INIT_STREAM));
    this.encoder = {
      conv1: new Conv2D(c, d, 4, 2, 1, rand),
      conv2: new Conv2D(d, d, 4, 2, 1, rand),
      conv3: new Conv2D(d, d, 3, 1, 1, rand),
      res1: new ResidualBlock(d, rand),
      res2: new ResidualBlock(d, rand),
    };
    this.decoder = {
      conv1: new Conv2D(d, d, 3, 1, 1, rand),
      res1: new ResidualBlock(d, rand),
      res2: new ResidualBlock(d, rand),
      up1: new ConvTranspose2D(d, d, 4, 2, 1, rand),
      up2: new ConvTranspose2D(d, c, 4, 2, 1, rand),
    };
  }

  get config(): VQVAEConfig {
    return { arch: 'dldemos-vqvae', inChannels: this.inChannels, dim: this.dim, bottleneck: describeBottleneck(this.bottleneck) };
  }

  /** Images the model takes: [N, H, W, inChannels], H and W multiples of 4 (throws naming `name`). */
  checkImages(name: string, x: unknown): tf.Tensor4D {
    this.assertAlive();
    return checkImages(name, x, this.inChannels, this.downsample);
  }

  /** x [N, H, W, C] → ze [N, H/4, W/4, D] */
  encode(x: tf.Tensor4D): tf.Tensor4D {
    this.checkImages('VQVAE.encode(x)', x);
    const e = this.encoder;
    return tf.tidy(() => {
      let h = e.conv1.applyRelu(x); // [N, H/2, W/2, D]
      h = e.conv2.applyRelu(h); // [N, H/4, W/4, D]
      h = e.conv3.apply(h);
      return e.res2.apply(e.res1.apply(h));
    });
  }

  /** zq [N, h, w, D] → x̂ [N, 4h, 4w, C] (no output activation, as in DL-Demos) */
  decode(zq: tf.Tensor4D): tf.Tensor4D {
    this.assertAlive();
    checkImages('VQVAE.decode(zq)', zq, this.dim);
    const dd = this.decoder;
    return tf.tidy(() => {
      let h = dd.res2.apply(dd.res1.apply(dd.conv1.apply(zq)));
      h = tf.relu(dd.up1.apply(h)); // [N, 2h, 2w, D]
      return dd.up2.apply(h); // [N, 4h, 4w, C]
    });
  }

  /** Encode, quantize, decode. `training: false` leaves the quantizer's state (EMA, stats) alone. */
  forward(x: tf.Tensor4D, opts: OptionsOf<typeof VQVAE_FORWARD_OPTIONS> = {}): VQVAEForward {
    const { training } = resolveOptions('VQVAE.forward(x, options)', VQVAE_FORWARD_OPTIONS, opts);
    const ze = this.encode(x);
    let q: BottleneckOutput;
    try {
      q = this.bottleneck.forward(ze, { training });
    } catch (e) {
      ze.dispose(); // outside a tidy nothing else would free it
      throw e;
    }
    const xHat = this.decode(q.quantized as tf.Tensor4D);
    return { xHat, ze, q };
  }

  /** The training objective (DL-Demos main.py): MSE(x, x̂) + quantizer loss. */
  computeLoss(x: tf.Tensor4D): VQVAELoss {
    const f = this.forward(x);
    const reconMse = tf.losses.meanSquaredError(x, f.xHat) as tf.Scalar;
    const quantizerLoss = (f.q.loss ? tf.reshape(f.q.loss, []) : tf.scalar(0)) as tf.Scalar;
    const loss = tf.add(reconMse, quantizerLoss) as tf.Scalar;
    return { ...f, loss, reconMse, quantizerLoss };
  }

  /**
   * Throw when the bottleneck gives several indices per latent vector (ResidualVQ: one per stage):
   * the index maps [N, h, w] (encodeIndices, decodeIndices, a prior over them) need exactly one.
   * Training, forward, reconstruct and evaluation work with any bottleneck.
   */
  private assertOneIndex(where: string): void {
    const per = (this.bottleneck as { indicesPerVector?: number }).indicesPerVector ?? 1;
    if (per !== 1) {
      throw new Error(`${where}: the bottleneck (${(this.bottleneck as object).constructor?.name ?? 'quantizer'}) gives ${per} indices per ` +
        `latent vector (one per stage), not one, so there is no [N, h, w] index map: use bottleneck.forward(model.encode(x)).indices ` +
        `([N, h, w, ${per}]) and model.decode(bottleneck.decode(indices)) instead`);
    }
  }

  /** x [N, H, W, C] → code indices [N, H/4, W/4] int32 (bottlenecks with one index per vector: not ResidualVQ). */
  encodeIndices(x: tf.Tensor4D): tf.Tensor3D {
    this.checkImages('VQVAE.encodeIndices(x)', x);
    this.assertOneIndex('VQVAE.encodeIndices(x)');
    return tf.tidy(() => {
      const out = this.bottleneck.forward(this.encode(x), { training: false });
      return out.indices.toInt() as tf.Tensor3D;
    });
  }

  /** indices [N, h, w] → x̂ [N, 4h, 4w, C] (bottlenecks with one index per vector: not ResidualVQ). */
  decodeIndices(indices: tf.Tensor3D): tf.Tensor4D {
    this.assertAlive();
    this.assertOneIndex('VQVAE.decodeIndices(indices)');
    if (!(indices instanceof tf.Tensor) || indices.rank !== 3 || indices.size === 0) {
      throw new Error(`VQVAE.decodeIndices(indices) must be a tensor [N, h, w] with N ≥ 1, got ${describe(indices)}`);
    }
    return tf.tidy(() => this.decode(this.bottleneck.decode(indices) as tf.Tensor4D));
  }

  /** x [N, H, W, C] → x̂ (through the quantizer), without gradients kept. */
  reconstruct(x: tf.Tensor4D): tf.Tensor4D {
    this.checkImages('VQVAE.reconstruct(x)', x);
    return tf.tidy(() => this.forward(x, { training: false }).xHat);
  }

  /** Conv weights under "encoder/…", "decoder/…", and the quantizer's under "bottleneck/…". */
  namedVariables(prefix = ''): Map<string, tf.Variable> {
    this.assertAlive();
    const out = collect(
      [...Object.entries(this.encoder).map(([k, v]) => [`encoder/${k}`, v] as [string, ParamHolder]),
       ...Object.entries(this.decoder).map(([k, v]) => [`decoder/${k}`, v] as [string, ParamHolder])],
      prefix,
    );
    for (const [k, v] of bottleneckVariables(this.bottleneck)) out.set(`${prefix}bottleneck/${k}`, v);
    return out;
  }

  /** The variables gradients should reach (trainable ones). */
  trainableVariables(): tf.Variable[] {
    return [...this.namedVariables().values()].filter((v) => v.trainable);
  }

  /** Trainable parameters: in the convolutions, and in the bottleneck (codebook or FSQ projections). */
  parameterCount(): { conv: number; bottleneck: number } {
    let conv = 0;
    let bottleneck = 0;
    for (const [name, v] of this.namedVariables()) {
      if (!v.trainable) continue;
      if (name.startsWith('bottleneck/')) bottleneck += v.size;
      else conv += v.size;
    }
    return { conv, bottleneck };
  }

  /** After a checkpoint load: the bottleneck's weights are the stored ones (no pending k-means init). */
  restored(): void {
    this.bottleneck.restored?.();
  }

  /** Dispose the conv variables (the bottleneck is the caller's). The model cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    for (const [k, v] of this.namedVariables()) if (!k.startsWith('bottleneck/')) v.dispose();
    this.disposed = true;
  }

  private assertAlive(): void {
    assertAlive('VQVAE', this.disposed);
  }
}
