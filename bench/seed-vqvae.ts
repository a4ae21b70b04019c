/**
 * The seed 004 VQ-VAE (DL-Demos MNIST configuration) in raw tf ops, for the benchmark and the
 * memory test, used while/where the library model (lib/vqvae) is not available.
 *
 *   encoder: conv4x4 s2 p1 (Cin→dim) → ReLU → conv4x4 s2 p1 → ReLU → conv3x3 p1 → 2 × ResBlock
 *   decoder: conv3x3 p1 → 2 × ResBlock → convT4x4 s2 p1 → ReLU → convT4x4 s2 p1 (dim→Cin)
 *   ResBlock(x) = x + conv1x1(ReLU(conv3x3 p1(ReLU(x))))
 *   zq = codebook[argmin_k |ze - e_k|²];  decoder input = ze + sg(zq - ze)
 *   loss = mse(x̂, x) + mse(sg(ze), zq) + β·mse(ze, sg(zq)),  Adam.
 *
 * All convolutions have biases (PyTorch's default) and PyTorch's default initialisation
 * U(±1/sqrt(fan_in)); the codebook is U(±1/K). Tensors are NHWC (tfjs) where PyTorch is NCHW.
 */
import * as tf from '@tensorflow/tfjs';

export interface SeedVQVAEConfig {
  inChannels: number;
  dim: number;
  codebookSize: number;
  beta: number;
  learningRate: number;
  seed: number;
}

export const SEED_CONFIG: SeedVQVAEConfig = {
  inChannels: 1,
  dim: 32,
  codebookSize: 32,
  beta: 0.25,
  learningRate: 2e-4,
  seed: 0,
};

type Inputs = Array<tf.Tensor | tf.GradSaveFunc>;

/** value zq, gradient: dy to ze, nothing to zq (ze + sg(zq − ze)). */
const straightThrough = tf.customGrad((...inputs: Inputs) => ({
  value: (inputs[1] as tf.Tensor).clone(),
  gradFunc: (dy: tf.Tensor) => [dy.clone(), tf.zerosLike(dy)],
}));

/** sg(x) */
const stopGradient = tf.customGrad((...inputs: Inputs) => ({
  value: (inputs[0] as tf.Tensor).clone(),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
}));

/** Small deterministic PRNG (mulberry32) so both backends start from the same weights. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Conv {
  w: tf.Variable; // [kh, kw, in, out] (conv) or [kh, kw, out, in] (transposed)
  b: tf.Variable; // [out]
}

export class SeedVQVAE {
  readonly config: SeedVQVAEConfig;
  readonly codebook: tf.Variable;
  private readonly convs: Record<string, Conv> = {};
  readonly optimizer: tf.AdamOptimizer;
  private readonly rand: () => number;

  constructor(config: Partial<SeedVQVAEConfig> = {}) {
    const c = (this.config = { ...SEED_CONFIG, ...config });
    this.rand = mulberry32(c.seed);
    const d = c.dim;
    this.conv('e1', 4, c.inChannels, d);
    this.conv('e2', 4, d, d);
    this.conv('e3', 3, d, d);
    this.res('er1');
    this.res('er2');
    this.conv('d1', 3, d, d);
    this.res('dr1');
    this.res('dr2');
    this.convT('t1', 4, d, d);
    this.convT('t2', 4, d, c.inChannels);
    const K = c.codebookSize;
    this.codebook = tf.variable(this.uniform([K, d], 1 / K), true, 'codebook');
    this.optimizer = tf.train.adam(c.learningRate);
  }

  private uniform(shape: number[], bound: number): tf.Tensor {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++) v[i] = (this.rand() * 2 - 1) * bound;
    return tf.tensor(v, shape);
  }

  private conv(name: string, k: number, cin: number, cout: number): void {
    const bound = 1 / Math.sqrt(cin * k * k);
    this.convs[name] = {
      w: tf.variable(this.uniform([k, k, cin, cout], bound), true, `${name}_w`),
      b: tf.variable(this.uniform([cout], bound), true, `${name}_b`),
    };
  }

  private convT(name: string, k: number, cin: number, cout: number): void {
    // PyTorch computes fan_in of ConvTranspose2d's weight [cin, cout, k, k] from dim 1: cout*k*k.
    const bound = 1 / Math.sqrt(cout * k * k);
    this.convs[name] = {
      w: tf.variable(this.uniform([k, k, cout, cin], bound), true, `${name}_w`),
      b: tf.variable(this.uniform([cout], bound), true, `${name}_b`),
    };
  }

  private res(name: string): void {
    const d = this.config.dim;
    this.conv(`${name}a`, 3, d, d);
    this.conv(`${name}b`, 1, d, d);
  }

  trainableVariables(): tf.Variable[] {
    const out: tf.Variable[] = [];
    for (const c of Object.values(this.convs)) out.push(c.w, c.b);
    out.push(this.codebook);
    return out;
  }

  private c(name: string, x: tf.Tensor4D, stride: number, relu = false): tf.Tensor4D {
    const { w, b } = this.convs[name];
    return tf.fused.conv2d({
      x, filter: w as tf.Tensor4D, strides: stride, pad: 'same', bias: b, activation: relu ? 'relu' : 'linear',
    });
  }

  private t(name: string, x: tf.Tensor4D, relu = false): tf.Tensor4D {
    const { w, b } = this.convs[name];
    const [n, h, wd] = x.shape;
    const y = tf.conv2dTranspose(x, w as tf.Tensor4D, [n, h * 2, wd * 2, w.shape[2] as number], 2, 'same');
    const yb = tf.add(y, b) as tf.Tensor4D;
    return relu ? tf.relu(yb) : yb;
  }

  private resBlock(name: string, x: tf.Tensor4D): tf.Tensor4D {
    const h = this.c(`${name}a`, tf.relu(x), 1, true);
    return tf.add(x, this.c(`${name}b`, h, 1)) as tf.Tensor4D;
  }

  encode(x: tf.Tensor4D): tf.Tensor4D {
    let h = this.c('e1', x, 2, true);
    h = this.c('e2', h, 2, true);
    h = this.c('e3', h, 1);
    h = this.resBlock('er1', h);
    return this.resBlock('er2', h);
  }

  decode(z: tf.Tensor4D): tf.Tensor4D {
    let h = this.c('d1', z, 1);
    h = this.resBlock('dr1', h);
    h = this.resBlock('dr2', h);
    h = this.t('t1', h, true);
    return this.t('t2', h);
  }

  /** Nearest codes of ze [N,H,W,C]: |z|² − 2 z·e + |e|², argmin over K. */
  nearest(ze: tf.Tensor4D): tf.Tensor1D {
    const d = this.config.dim;
    const z = tf.reshape(ze, [-1, d]);
    const e = this.codebook;
    const dist = tf.add(
      tf.sub(tf.sum(tf.square(z), 1, true), tf.mul(2, tf.matMul(z, e, false, true))),
      tf.sum(tf.square(e), 1),
    );
    return tf.argMin(dist, 1) as tf.Tensor1D;
  }

  /** Scalar loss of one batch x [N,28,28,Cin]. */
  loss(x: tf.Tensor4D): tf.Scalar {
    const ze = this.encode(x);
    const idx = this.nearest(stopGradient(ze) as tf.Tensor4D);
    // one-hot · codebook (as lib/quantizer does): a gather here would put the argmin's int32
    // indices on the gradient path, which tfjs rejects.
    const onehot = tf.oneHot(idx, this.config.codebookSize, 1, 0, 'float32');
    const zq = tf.reshape(tf.matMul(onehot, this.codebook), ze.shape) as tf.Tensor4D;
    const xHat = this.decode(straightThrough(ze, zq) as tf.Tensor4D);
    const recon = tf.mean(tf.squaredDifference(xHat, x));
    const codebookLoss = tf.mean(tf.squaredDifference(stopGradient(ze), zq));
    const commitLoss = tf.mean(tf.squaredDifference(ze, stopGradient(zq)));
    return tf.addN([recon, codebookLoss, tf.mul(this.config.beta, commitLoss)]) as tf.Scalar;
  }

  /** One Adam step; returns the loss value when `read`, else null (no GPU/CPU sync). */
  trainStep(x: tf.Tensor4D, read = true): number | null {
    const vars = this.trainableVariables();
    const value = this.optimizer.minimize(() => this.loss(x), true, vars);
    if (!value) return null;
    const out = read ? value.dataSync()[0] : null;
    value.dispose();
    return out;
  }

  dispose(): void {
    for (const v of this.trainableVariables()) v.dispose();
    this.optimizer.dispose();
  }
}
