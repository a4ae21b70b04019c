/**
 * A gated PixelCNN prior over the h×w grid of VQ-VAE code indices (van den Oord et al. 2016,
 * "Conditional Image Generation with PixelCNN Decoders"; layout of DL-Demos
 * `dldemos/pixelcnn/model.py` GatedBlock / GatedPixelCNN and `VQVAE/pixelcnn_model.py`).
 *
 *   x [N, h, w] int → embedding [N, h, w, p] → GatedBlock('A') → GatedBlock('B') × blocks
 *     → ReLU → 1×1 (p → linearDim) → ReLU → 1×1 → 1×1 (→ K logits)           [N, h, w, K]
 *   GatedBlock: v = Wv ⊛ v_in (vertical mask: rows ≤ centre), h = Wh ⊛ h_in (horizontal mask:
 *     centre row, columns < centre for 'A', ≤ centre for 'B') + 1×1(v shifted down one row);
 *     out = tanh(a) ⊙ σ(b) for [a, b] = split(·) (eq. 2, + V·onehot(class) for eq. 4);
 *     h_out = 1×1(gate(h)) (+ h_in for 'B').
 * The masked 3×3 kernels are applied as their non-zero support (2×3 vertical, 1×2 horizontal)
 * with asymmetric padding: the same numbers as the full masked convolution, less work.
 * Unlike DL-Demos there is no BatchNorm (its bn=False variant), so train and eval agree.
 */
import * as tf from '@tensorflow/tfjs';
import { Conv2D, ParamHolder, collect } from '../nn/layers';
import { childSeed, mulberry32, sampleCategorical, uniformArray } from '../rng';
import {
  MAX_CODEBOOK_SIZE, MAX_TENSOR_VALUES, OptionsOf, assertAlive, assertBackend, arrayShape, checkInt, describe, is, resolveOptions,
} from '../validate';

/** childSeed label of the PixelCNN's init stream (distinct from the VQ-VAE's). */
export const PIXELCNN_INIT_STREAM = 7;
import { interruptGuard } from '../interrupt';

export type MaskType = 'A' | 'B' | 'vertical';

/** The DL-Demos k×k masks, row-major: 'vertical' rows ≤ k/2; 'A' centre row left of centre; 'B' also the centre. */
export function causalMask(type: MaskType, k = 3): Float32Array {
  const m = new Float32Array(k * k);
  const c = Math.floor(k / 2);
  for (let r = 0; r < k; r++) {
    for (let col = 0; col < k; col++) {
      const on = type === 'vertical' ? r <= c : r === c && (col < c || (type === 'B' && col === c));
      m[r * k + col] = on ? 1 : 0;
    }
  }
  return m;
}

/** Masked 3×3 convolution: weight [3, 3, inC, outC] ⊙ mask, run on the mask's support. */
class MaskedConv3 implements ParamHolder {
  readonly conv: Conv2D;
  private readonly mask: tf.Tensor4D; // [3, 3, 1, 1]
  constructor(readonly type: MaskType, inC: number, outC: number, rand: () => number) {
    this.conv = new Conv2D(inC, outC, 3, 1, 1, rand);
    this.mask = tf.keep(tf.tensor4d(causalMask(type, 3), [3, 3, 1, 1]));
  }
  /** x [N, h, w, inC] → [N, h, w, outC] */
  apply(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const w = tf.mul(this.conv.weight, this.mask) as tf.Tensor4D; // W ⊙ M, zero outside the support
      if (this.type === 'vertical') {
        // rows {0, 1} of the kernel = input rows i−1, i: pad 1 on top, none below.
        return this.conv.apply(x, tf.slice(w, [0, 0, 0, 0], [2, 3, -1, -1]), [[0, 0], [1, 0], [1, 1], [0, 0]]);
      }
      // row 1, columns {0, 1} = input columns j−1, j: pad 1 on the left, none on the right.
      return this.conv.apply(x, tf.slice(w, [1, 0, 0, 0], [1, 2, -1, -1]), [[0, 0], [0, 0], [1, 0], [0, 0]]);
    });
  }
  namedVariables(prefix = ''): Map<string, tf.Variable> {
    return this.conv.namedVariables(prefix);
  }
  dispose(): void {
    this.mask.dispose();
  }
}

/**
 * tanh as the backend computes it fastest. On wasm, whose Tanh kernel is ~15× slower than its
 * Sigmoid, it is 2σ(2x) − 1: the same function, within a few float32 ulps. Elsewhere it is
 * tf.tanh: one kernel for the identity's four, and one for its gradient's four. On the native
 * backend that makes the prior's training step ~8% faster.
 */
const tanh = (x: tf.Tensor): tf.Tensor =>
  (tf.getBackend() === 'wasm' ? tf.sub(tf.mul(tf.sigmoid(tf.mul(x, 2)), 2), 1) : tf.tanh(x));

/** Gated activation (van den Oord et al. 2016, eq. 2): tanh(a) ⊙ σ(b) for x = [a, b].   [.., 2p] → [.., p] */
const gate = (x: tf.Tensor4D, p: number): tf.Tensor4D => {
  const [a, b] = tf.split(x, [p, p], -1); // one SplitV (its gradient one Concat) where two slices took two ops and two pads back
  return tf.mul(tanh(a), tf.sigmoid(b));
};

/** One gated block (DL-Demos GatedBlock, van den Oord et al. 2016 Fig. 2). */
export class GatedBlock implements ParamHolder {
  readonly vConv: MaskedConv3; // p → 2p
  readonly hConv: MaskedConv3; // p → 2p
  readonly vToH: Conv2D; // 1×1, 2p → 2p
  readonly hOut: Conv2D; // 1×1, p → p
  readonly condV: tf.Variable | null; // [classes, 2p]
  readonly condH: tf.Variable | null; // [classes, 2p]
  constructor(readonly type: 'A' | 'B', readonly p: number, numClasses: number, rand: () => number) {
    this.vConv = new MaskedConv3('vertical', p, 2 * p, rand);
    this.vToH = new Conv2D(2 * p, 2 * p, 1, 1, 0, rand);
    this.hConv = new MaskedConv3(type, p, 2 * p, rand);
    this.hOut = new Conv2D(p, p, 1, 1, 0, rand);
    // V·onehot(class): a bias-free nn.Linear(numClasses, 2p), init U(±1/√numClasses).
    const b = 1 / Math.sqrt(Math.max(1, numClasses));
    const cond = (): tf.Variable => tf.tidy(() => tf.variable(tf.tensor2d(uniformArray(numClasses * 2 * p, -b, b, rand), [numClasses, 2 * p])));
    this.condV = numClasses > 0 ? cond() : null;
    this.condH = numClasses > 0 ? cond() : null;
  }
  /** v, h [N, rows, cols, p], cls [N, C] one-hot or null → [v', h'] of the same shapes. */
  apply(v: tf.Tensor4D, h: tf.Tensor4D, cls: tf.Tensor2D | null): [tf.Tensor4D, tf.Tensor4D] {
    return tf.tidy(() => {
      const [n, rows, cols] = v.shape;
      let vPre = this.vConv.apply(v); // [N, rows, cols, 2p]: sees rows ≤ i
      // v → h link from the row above only: shift down one row (DL-Demos v_to_h).
      const shifted = tf.slice(tf.pad(vPre, [[0, 0], [1, 0], [0, 0], [0, 0]]), [0, 0, 0, 0], [n, rows, cols, -1]);
      let hPre = tf.add(this.hConv.apply(h), this.vToH.apply(shifted)) as tf.Tensor4D;
      if (cls && this.condV && this.condH) {
        const c = (w: tf.Variable) => tf.reshape(tf.matMul(cls, w as tf.Tensor2D), [n, 1, 1, 2 * this.p]);
        vPre = tf.add(vPre, c(this.condV)) as tf.Tensor4D;
        hPre = tf.add(hPre, c(this.condH)) as tf.Tensor4D;
      }
      const hNew = this.hOut.apply(gate(hPre, this.p));
      return [gate(vPre, this.p), this.type === 'B' ? (tf.add(hNew, h) as tf.Tensor4D) : hNew];
    });
  }
  namedVariables(prefix = ''): Map<string, tf.Variable> {
    const out = collect([['vConv', this.vConv], ['vToH', this.vToH], ['hConv', this.hConv], ['hOut', this.hOut]], prefix);
    if (this.condV && this.condH) {
      out.set(`${prefix}condV`, this.condV);
      out.set(`${prefix}condH`, this.condH);
    }
    return out;
  }
  dispose(): void {
    this.vConv.dispose();
    this.hConv.dispose();
  }
}

export const PIXELCNN_OPTIONS = {
  /** K, the number of codes (2 … 2^24). */
  codebookSize: { check: is.int(2, MAX_CODEBOOK_SIZE) },
  /** Rows of the code grid. Default 7. */
  height: { check: is.int(1, 4096), default: 7 },
  /** Columns of the code grid. Default 7. */
  width: { check: is.int(1, 4096), default: 7 },
  /** Feature channels p (DL-Demos MNIST: 128). Default 32, for a CPU. */
  channels: { check: is.int(1, 4096), default: 32 },
  /** 'B' blocks after the 'A' block (DL-Demos: 15). Default 5: 6 layers see all of a 7×7 past. */
  blocks: { check: is.int(0, 1000), default: 5 },
  /** Width of the 1×1 head (DL-Demos pixelcnn_linear_dim). Default 32. */
  linearDim: { check: is.int(1, 4096), default: 32 },
  /** > 0: class-conditional (eq. 4); 0: unconditional. Default 0. */
  numClasses: { check: is.int(0, 65536), default: 0 },
  /** Random seed of the init. Default 0. */
  seed: { check: is.seed, default: 0 },
};
/** Options of new GatedPixelCNN(options) (see PIXELCNN_OPTIONS). */
export type PixelCNNOptions = OptionsOf<typeof PIXELCNN_OPTIONS>;

/** The architecture facts a checkpoint must agree on: every option but the seed. */
export type PixelCNNConfig = { arch: 'gated-pixelcnn' } & Omit<{ -readonly [K in keyof PixelCNNOptions]-?: number }, 'seed'>;

/** Options of GatedPixelCNN.sample. */
export const SAMPLE_OPTIONS = {
  /** Random seed of the draws. Default 0. */
  seed: { check: is.seed, default: 0 },
  /** Class of every grid (a number) or of each (n numbers); required for a class-conditional prior. */
  classLabel: { check: (v: number | number[], name: string): number | number[] => (arrayShape(name, v), v), optional: true as const },
};

type Labels = tf.Tensor1D | Int32Array | number[] | null | undefined;

/** A gated PixelCNN (DL-Demos layout): an autoregressive prior over grids of code indices that samples new grids. */
export class GatedPixelCNN implements ParamHolder {
  readonly config: PixelCNNConfig;
  readonly embedding: tf.Variable; // [K, p]
  readonly blocks: GatedBlock[];
  readonly head: { linear1: Conv2D; linear2: Conv2D; out: Conv2D };
  private disposed = false;

  constructor(options: PixelCNNOptions) {
    const { seed, ...config } = resolveOptions('GatedPixelCNN', PIXELCNN_OPTIONS, options);
    const { codebookSize: K, channels: p, blocks: nb, linearDim: ld, numClasses: nc } = config;
    for (const [what, n] of [['codebookSize × channels', K * p], ['codebookSize × linearDim', K * ld], ['numClasses × 2·channels', nc * 2 * p]] as const) {
      if (n > MAX_TENSOR_VALUES) throw new Error(`GatedPixelCNN: ${what} must be at most ${MAX_TENSOR_VALUES} (2^28 values), got ${n}`);
    }
    assertBackend('GatedPixelCNN');
    this.config = {
      arch: 'gated-pixelcnn', codebookSize: K, channels: p, blocks: nb, linearDim: ld, numClasses: nc, height: config.height, width: config.width,
    };
    const rand = mulberry32(childSeed(seed, PIXELCNN_INIT_STREAM));
    // nn.Embedding init: N(0, 1); a uniform of the same variance (±√3) keeps to one PRNG.
    this.embedding = tf.tidy(() => tf.variable(tf.tensor2d(uniformArray(K * p, -Math.sqrt(3), Math.sqrt(3), rand), [K, p])));
    this.blocks = [new GatedBlock('A', p, nc, rand)];
    for (let i = 0; i < nb; i++) this.blocks.push(new GatedBlock('B', p, nc, rand));
    this.head = { linear1: new Conv2D(p, ld, 1, 1, 0, rand), linear2: new Conv2D(ld, ld, 1, 1, 0, rand), out: new Conv2D(ld, K, 1, 1, 0, rand) };
  }

  /**
   * Code grids the prior takes: an int32 tensor [N, h, w], N ≥ 1, every value in [0, K)
   * (one min/max read). Throws naming `name`.
   */
  checkCodes(name: string, x: unknown): tf.Tensor3D {
    this.assertAlive();
    const { height: h, width: w, codebookSize: K } = this.config;
    if (!(x instanceof tf.Tensor) || x.rank !== 3 || x.shape[1] !== h || x.shape[2] !== w || x.shape[0] < 1) {
      throw new Error(`${name} must be an int32 tensor [N, ${h}, ${w}] of code indices with N ≥ 1, got ${describe(x)}`);
    }
    if (x.dtype !== 'int32') throw new Error(`${name} must be an int32 tensor of code indices, got dtype ${x.dtype}`);
    const [lo, hi] = tf.tidy(() => [tf.min(x), tf.max(x)]);
    const [a, b] = [lo.dataSync()[0], hi.dataSync()[0]];
    tf.dispose([lo, hi]);
    if (a < 0 || b >= K) throw new Error(`${name} must hold integers in [0, ${K - 1}], got min ${a}, max ${b}`);
    return x as tf.Tensor3D;
  }

  private oneHotLabels(labels: Labels, n: number, name: string): tf.Tensor2D | null {
    const C = this.config.numClasses;
    if (labels === undefined || labels === null) {
      if (C > 0) throw new Error(`${name}: this prior is class-conditional (numClasses ${C}): pass labels`);
      return null;
    }
    if (C === 0) throw new Error(`${name}: labels given but the prior is unconditional (numClasses 0)`);
    if (!(labels instanceof tf.Tensor)) arrayShape(name, labels);
    const arr = labels instanceof tf.Tensor ? labels.dataSync() : labels;
    if ((labels instanceof tf.Tensor && labels.rank !== 1) || arr.length !== n) {
      throw new Error(`${name} must be ${n} labels (one per grid), got ${describe(labels)}`);
    }
    for (const l of arr) if (!Number.isInteger(l) || l < 0 || l >= C) throw new Error(`${name} must hold integers in [0, ${C - 1}], found ${l}`);
    return tf.tidy(() => tf.oneHot(tf.tensor1d(Array.from(arr), 'int32'), C).toFloat() as tf.Tensor2D);
  }

  /** indices [N, h, w] int32 (+ labels [N]) → logits [N, h, w, K]. */
  logits(indices: tf.Tensor3D, labels?: Labels): tf.Tensor4D {
    const x = this.checkCodes('GatedPixelCNN.logits(indices)', indices);
    const cls = this.oneHotLabels(labels, x.shape[0], 'GatedPixelCNN.logits(labels)');
    const out = this.logitsOf(x, cls);
    cls?.dispose();
    return out;
  }

  /** logits without the checks: x [N, h, w] int32 in [0, K), cls [N, C] one-hot or null → [N, h, w, K]. */
  private logitsOf(x: tf.Tensor3D, cls: tf.Tensor2D | null): tf.Tensor4D {
    const { codebookSize: K, channels: p } = this.config;
    return tf.tidy(() => {
      const [n, h, w] = x.shape;
      // one-hot·E rather than gather: trains on every backend.
      const oh = tf.oneHot(tf.reshape(x.toInt(), [-1]), K).toFloat() as tf.Tensor2D; // [N·h·w, K]
      const e = tf.reshape(tf.matMul(oh, this.embedding as tf.Tensor2D), [n, h, w, p]) as tf.Tensor4D;
      let v = e;
      let hh = e;
      for (const b of this.blocks) [v, hh] = b.apply(v, hh, cls);
      const hd = this.head;
      const y = hd.linear2.apply(hd.linear1.applyRelu(tf.relu(hh)));
      return hd.out.apply(y); // [N, h, w, K]
    });
  }

  /** Mean cross-entropy in nats per code (DL-Demos: nn.CrossEntropyLoss). */
  loss(indices: tf.Tensor3D, labels?: Labels): tf.Scalar {
    const x = this.checkCodes('GatedPixelCNN.loss(indices)', indices);
    const cls = this.oneHotLabels(labels, x.shape[0], 'GatedPixelCNN.loss(labels)');
    const out = this.lossOf(x, cls);
    cls?.dispose();
    return out;
  }

  /** loss without the checks. */
  private lossOf(x: tf.Tensor3D, cls: tf.Tensor2D | null): tf.Scalar {
    return tf.tidy(() => {
      const lg = this.logitsOf(x, cls);
      const K = this.config.codebookSize;
      const oh = tf.oneHot(tf.reshape(x, [-1]), K);
      return tf.losses.softmaxCrossEntropy(oh, tf.reshape(lg, [-1, K])) as tf.Scalar;
    });
  }

  /** Negative log-likelihood in bits per code, averaged over all positions (uniform: log2 K). */
  async nll(indices: tf.Tensor3D, labels?: Labels, batchSize = 500): Promise<number> {
    const x = this.checkCodes('GatedPixelCNN.nll(indices)', indices);
    checkInt('GatedPixelCNN.nll(batchSize)', batchSize, 1);
    const n = x.shape[0];
    this.oneHotLabels(labels, n, 'GatedPixelCNN.nll(labels)')?.dispose();
    const lab = labels instanceof tf.Tensor ? Array.from(labels.dataSync()) : labels ? Array.from(labels) : null;
    let total = 0;
    const check = interruptGuard('nll');
    for (let i = 0; i < n; i += batchSize) {
      await check(() => `${i} of ${n} grids`);
      const m = Math.min(batchSize, n - i);
      const l = tf.tidy(() => {
        const cls = this.oneHotLabels(lab ? lab.slice(i, i + m) : null, m, 'GatedPixelCNN.nll(labels)');
        return tf.mul(this.lossOf(tf.slice(x, [i, 0, 0], [m, -1, -1]), cls), m);
      });
      total += (await l.data())[0];
      l.dispose();
    }
    return total / n / Math.LN2;
  }

  /**
   * Draw n grids of indices position by position (raster order), each from softmax(logits)
   * given the positions before it. → int32 [n, h, w]. Seeded: the same seed, the same grids.
   */
  async sample(n: number, opts: OptionsOf<typeof SAMPLE_OPTIONS> = {}): Promise<tf.Tensor3D> {
    this.assertAlive();
    checkInt('GatedPixelCNN.sample(n)', n, 1);
    const { seed, classLabel: cl } = resolveOptions('GatedPixelCNN.sample(n, options)', SAMPLE_OPTIONS, opts);
    const { height: h, width: w, codebookSize: K } = this.config;
    if (n * h * w * K > MAX_TENSOR_VALUES) throw new Error(`GatedPixelCNN.sample(n): n × height × width × K must be at most ${MAX_TENSOR_VALUES}, got n ${n}`);
    const rand = mulberry32(seed);
    const labels = cl === undefined ? null : Array.isArray(cl) ? cl : new Array<number>(n).fill(cl);
    const cls = this.oneHotLabels(labels, n, 'GatedPixelCNN.sample(options.classLabel)');
    const grid = new Int32Array(n * h * w);
    const check = interruptGuard('sample');
    for (let pos = 0; pos < h * w; pos++) {
      await check(() => `${pos} of ${h * w} positions`);
      const probs = tf.tidy(() => {
        const lg = this.logitsOf(tf.tensor3d(grid, [n, h, w], 'int32'), cls);
        const at = tf.slice(lg, [0, Math.floor(pos / w), pos % w, 0], [n, 1, 1, K]);
        return tf.softmax(tf.reshape(at, [n, K]));
      });
      const pa = await probs.data();
      probs.dispose();
      for (let i = 0; i < n; i++) grid[i * h * w + pos] = sampleCategorical(pa.subarray(i * K, (i + 1) * K), rand);
    }
    cls?.dispose();
    return tf.tensor3d(grid, [n, h, w], 'int32');
  }

  namedVariables(prefix = ''): Map<string, tf.Variable> {
    this.assertAlive();
    const out = new Map<string, tf.Variable>([[`${prefix}embedding`, this.embedding]]);
    const parts: [string, ParamHolder][] = this.blocks.map((b, i) => [`block${i}`, b]);
    parts.push(['head/linear1', this.head.linear1], ['head/linear2', this.head.linear2], ['head/out', this.head.out]);
    for (const [k, v] of collect(parts, prefix)) out.set(k, v);
    return out;
  }

  trainableVariables(): tf.Variable[] {
    return [...this.namedVariables().values()];
  }

  /** Frees every variable. The prior cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    for (const v of this.namedVariables().values()) v.dispose();
    for (const b of this.blocks) b.dispose();
    this.disposed = true;
  }

  private assertAlive(): void {
    assertAlive('GatedPixelCNN', this.disposed);
  }
}
