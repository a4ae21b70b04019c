/**
 * Every public entry point checks its arguments the same way: unknown option names, non-finite
 * or mistyped numbers, values outside their range, use after dispose(), sizes too large to
 * allocate and use before initBackend() all throw a plain Error naming the argument, and no
 * failing call leaves a tensor behind (tf.memory().numTensors is the same before and after).
 */
import { describe, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { useTestBackend } from './support/backend';
import { FSQ, VectorQuantizer, kmeans, l2Normalize, lookupRows, roundSte, squaredDistances, stopGradient, straightThrough } from '../lib/quantizer/index';
import { Progress, figure } from '../lib/display/index';
import { imageGridPng } from '../lib/node/png';
import { Rng } from '../lib/rng';
import { VQVAE, VQVAETrainer, encodeDataset, evaluateVQVAE } from '../lib/vqvae/index';
import { GatedPixelCNN, PixelCNNTrainer } from '../lib/prior/index';
import { IDX_FILES, idxMnistArrays, loadMnist } from '../lib/data/index';
import { checkpointExists, fitWithLog, loadOrTrain, reconstructionPng, saveCheckpoint } from '../lib/notebook/index';

type Call = () => unknown;

/** `call` throws (or rejects) with a message matching `re`, and leaves tf.memory().numTensors unchanged. */
async function rejects(call: Call, re: RegExp, what: string): Promise<void> {
  const before = tf.memory().numTensors;
  let error: unknown = null;
  try {
    await call();
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof Error, `${what}: expected an Error, got ${String(error)}`);
  assert.match(error.message, re, what);
  assert.equal(tf.memory().numTensors, before, `${what}: tensors leaked by the failing call`);
}

const images = (n: number, seed = 1): tf.Tensor4D => tf.randomUniform([n, 8, 8, 1], 0, 1, 'float32', seed) as tf.Tensor4D;
const codes = (n: number, K: number): tf.Tensor3D => tf.tensor3d(Array.from({ length: n * 49 }, (_, i) => i % K), [n, 7, 7], 'int32');

/** Fresh instances of every stateful public class (small), with their own disposal. */
function world() {
  const vq = new VectorQuantizer({ codebookSize: 8, dim: 4, seed: 1 });
  const fsq = new FSQ({ levels: [3, 3], dim: 4, seed: 1 }); // 2-level channels need bound: 'symmetric'
  const model = new VQVAE({ bottleneck: vq, dim: 4, seed: 1 });
  const trainer = new VQVAETrainer(model, { batchSize: 2 });
  const prior = new GatedPixelCNN({ codebookSize: 8, channels: 4, blocks: 0, seed: 1 });
  const priorTrainer = new PixelCNNTrainer(prior, { batchSize: 2 });
  const x = images(2);
  const c = codes(2, 8);
  const z4 = tf.zeros([1, 4]); // vectors for vq and fsq
  const z2 = tf.zeros([1, 2]); // FSQ codes (2 channels)
  const dispose = () => { tf.dispose([x, c, z4, z2]); for (const o of [priorTrainer, prior, trainer, model, fsq, vq]) o.dispose(); };
  return { vq, fsq, model, trainer, prior, priorTrainer, x, c, z4, z2, dispose };
}

describe('argument checks at every public entry point', () => {
  before(async () => { await useTestBackend(); });

  test('every constructor and every method with options rejects an unknown option name, naming it', async () => {
    const w = world();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vq-validate-'));
    const cases: [string, (bad: object) => unknown][] = [
      ['VectorQuantizer', (bad) => new VectorQuantizer({ codebookSize: 4, dim: 2, ...bad })],
      ['FSQ', (bad) => new FSQ({ levels: [3], ...bad })],
      ['VQVAE', (bad) => new VQVAE({ bottleneck: w.vq, dim: 4, ...bad })],
      ['VQVAETrainer', (bad) => new VQVAETrainer(w.model, bad)],
      ['GatedPixelCNN', (bad) => new GatedPixelCNN({ codebookSize: 4, ...bad })],
      ['PixelCNNTrainer', (bad) => new PixelCNNTrainer(w.prior, bad)],
      ['VectorQuantizer.forward', (bad) => w.vq.forward(w.z4, bad)],
      ['FSQ.forward', (bad) => w.fsq.forward(w.z4, bad)],
      ['VQVAE.forward', (bad) => w.model.forward(w.x, bad)],
      ['VQVAETrainer.fit', (bad) => w.trainer.fit(w.x, bad)],
      ['PixelCNNTrainer.fit', (bad) => w.priorTrainer.fit(w.c, bad)],
      ['evaluateVQVAE', (bad) => evaluateVQVAE(w.model, w.x, bad)],
      ['encodeDataset', (bad) => encodeDataset(w.model, w.x, bad)],
      ['GatedPixelCNN.sample', (bad) => w.prior.sample(1, bad)],
      ['fitWithLog', (bad) => fitWithLog(w.model, w.x, w.x, { epochs: 1, batchSize: 2, learningRate: 1e-3, seed: 0, ...bad })],
      ['reconstructionPng', (bad) => reconstructionPng(w.model, w.x, bad)],
      ['loadMnist', (bad) => loadMnist(bad)],
      ['saveCheckpoint', (bad) => saveCheckpoint(w.model, 'x', { dir, ...bad })],
      ['loadOrTrain', (bad) => loadOrTrain(w.model, 'x', async () => ({}), { dir, ...bad })],
      ['checkpointExists', (bad) => checkpointExists('x', bad)],
      ['initBackend', (bad) => initBackend('wasm', bad)],
      ['kmeans', (bad) => kmeans(w.z4 as tf.Tensor2D, 1, new Rng(0), bad)],
      ['imageGridPng', (bad) => imageGridPng(new Float32Array(4), 1, 2, 2, bad)],
      ['figure', (bad) => figure([], {}, bad)],
      ['Progress', (bad) => new Progress(bad)],
    ];
    for (const [name, make] of cases) {
      await rejects(() => make({ trainingg: true }), new RegExp(`^${name.replace('.', '\\.')}.*: unknown option 'trainingg'`), name);
    }
    fs.rmSync(dir, { recursive: true, force: true });
    w.dispose();
  });

  test('every numeric option rejects NaN, ±Infinity, strings and out-of-range values, naming the option', async () => {
    const w = world();
    const numeric: [string, string, (o: object) => unknown][] = [
      ['VectorQuantizer', 'commitmentWeight', (o) => new VectorQuantizer({ codebookSize: 4, dim: 2, ...o })],
      ['VectorQuantizer', 'entropyWeight', (o) => new VectorQuantizer({ codebookSize: 4, dim: 2, ...o })],
      ['VectorQuantizer', 'entropyTemperature', (o) => new VectorQuantizer({ codebookSize: 4, dim: 2, ...o })],
      ['VectorQuantizer', 'deadCodeThreshold', (o) => new VectorQuantizer({ codebookSize: 4, dim: 2, ...o })],
      ['VectorQuantizer', 'statsWindow', (o) => new VectorQuantizer({ codebookSize: 4, dim: 2, ...o })],
      ['VectorQuantizer', 'seed', (o) => new VectorQuantizer({ codebookSize: 4, dim: 2, ...o })],
      ['FSQ', 'numCodebooks', (o) => new FSQ({ levels: [3], ...o })],
      ['FSQ', 'dim', (o) => new FSQ({ levels: [3], ...o })],
      ['VQVAE', 'seed', (o) => new VQVAE({ bottleneck: w.vq, dim: 4, ...o })],
      ['VQVAETrainer', 'learningRate', (o) => new VQVAETrainer(w.model, o)],
      ['VQVAETrainer', 'batchSize', (o) => new VQVAETrainer(w.model, o)],
      ['PixelCNNTrainer', 'learningRate', (o) => new PixelCNNTrainer(w.prior, o)],
      ['GatedPixelCNN', 'channels', (o) => new GatedPixelCNN({ codebookSize: 4, ...o })],
      ['VQVAETrainer.fit', 'epochs', (o) => w.trainer.fit(w.x, o)],
      ['evaluateVQVAE', 'batchSize', (o) => evaluateVQVAE(w.model, w.x, o)],
    ];
    for (const [owner, key, make] of numeric) {
      for (const v of [NaN, Infinity, -Infinity, '1', ...(key === 'seed' ? [0.5] : [-1])]) {
        await rejects(() => make({ [key]: v }), new RegExp(`${key} must be (a finite number|an integer)`), `${owner} ${key} = ${String(v)}`);
      }
    }
    w.dispose();
  });

  test('the tensor helpers name the argument that is not a tensor', async () => {
    const z = tf.zeros([2, 3]);
    const cases: [string, Call][] = [
      ['squaredDistances\\(z\\)', () => squaredDistances([1, 2] as never, z as tf.Tensor2D)],
      ['squaredDistances\\(e\\) must be a tensor \\[K, 3\\]', () => squaredDistances(z as tf.Tensor2D, tf.zeros([2, 4]) as tf.Tensor2D)],
      ['l2Normalize\\(x\\)', () => l2Normalize(5 as never)],
      ['stopGradient\\(x\\)', () => stopGradient(null as never)],
      ['roundSte\\(x\\)', () => roundSte([0.5] as never)],
      ['straightThrough\\(zq\\)', () => straightThrough(z, 'zq' as never)],
      ['lookupRows\\(indices\\) must be an int32 tensor', () => lookupRows(z, tf.zeros([1]))],
    ];
    for (const [re, call] of cases) {
      assert.throws(() => tf.tidy(() => { call(); }), new RegExp(re), re);
    }
    z.dispose();
  });

  test('use after dispose(): every class and method says so, one wording', async () => {
    const w = world();
    const uses: [string, (w: ReturnType<typeof world>) => unknown][] = [
      ['VectorQuantizer', (v) => v.vq.forward(v.z4)],
      ['VectorQuantizer', (v) => v.vq.encode(v.z4)],
      ['VectorQuantizer', (v) => v.vq.decode([0])],
      ['FSQ', (v) => v.fsq.forward(v.z4)],
      ['FSQ', (v) => v.fsq.quantize(v.z2)],
      ['FSQ', (v) => v.fsq.indicesToCodes([0])],
      ['FSQ', (v) => v.fsq.codesToIndices(v.z2)],
      ['VQVAE', (v) => v.model.encode(v.x)],
      ['VQVAE', (v) => v.model.reconstruct(v.x)],
      ['VQVAE', (v) => v.model.forward(v.x)],
      ['VQVAE', (v) => v.model.trainableVariables()],
      ['GatedPixelCNN', (v) => v.prior.logits(v.c)],
      ['GatedPixelCNN', (v) => v.prior.sample(1)],
      ['GatedPixelCNN', (v) => v.prior.nll(v.c)],
      ['VQVAETrainer', (v) => v.trainer.trainStep(v.x)],
      ['VQVAETrainer', (v) => v.trainer.fit(v.x)],
      ['PixelCNNTrainer', (v) => v.priorTrainer.trainStep(v.c)],
    ];
    const vq = w.vq, fsq = w.fsq, model = w.model, prior = w.prior, trainer = w.trainer, priorTrainer = w.priorTrainer;
    for (const o of [priorTrainer, trainer, prior, model, fsq, vq]) o.dispose();
    for (const [owner, use] of uses) await rejects(() => use(w), new RegExp(`^${owner}: used after dispose\\(\\)$`), owner);
    tf.dispose([w.x, w.c, w.z4, w.z2]);
  });

  test('codes and indices outside their range, or off the grid, are rejected', async () => {
    const w = world();
    const K = 8;
    const [codeK, codeNeg, codeHalf, code9, offGrid, beyond, nanZ, empty] = [
      tf.fill([1, 7, 7], K, 'int32'), tf.fill([1, 7, 7], -1, 'int32'), tf.fill([1, 7, 7], 1.5), tf.fill([2, 7, 7], 9, 'int32'),
      tf.tensor2d([[0.3, 0]]), tf.tensor2d([[0, 1]]), tf.tensor2d([[NaN, 0, 0, 0]]), tf.zeros([0, 8, 8, 1]),
    ];
    await rejects(() => w.prior.loss(codeK as tf.Tensor3D), /GatedPixelCNN\.loss\(indices\) must hold integers in \[0, 7\], got min 8/, 'loss, code K');
    await rejects(() => w.prior.logits(codeNeg as tf.Tensor3D), /GatedPixelCNN\.logits\(indices\) must hold integers in \[0, 7\], got min -1/, 'logits, code -1');
    await rejects(() => w.prior.loss(codeHalf as tf.Tensor3D), /GatedPixelCNN\.loss\(indices\) must be an int32 tensor/, 'loss, non-integer codes');
    await rejects(() => w.priorTrainer.trainStep(code9 as tf.Tensor3D), /PixelCNNTrainer\.trainStep\(codes\) must hold integers in \[0, 7\]/, 'trainStep, code 9');
    const f = new FSQ({ levels: [3, 4] });
    await rejects(() => f.codesToIndices(offGrid), /FSQ\.codesToIndices\(codes\) must hold codes on the grid \(channel 0: -1, 0, 1\), found 0\.3/, 'FSQ off-grid');
    await rejects(() => f.codesToIndices(beyond), /channel 1: -1, -0\.5, 0, 0\.5\), found 1 at flat position 1/, 'FSQ beyond the grid');
    const all = f.implicitCodebook();
    const idx = f.codesToIndices(all);
    assert.deepEqual(Array.from(idx.dataSync()), [...Array(12).keys()], 'the grid itself still maps to 0..K−1');
    tf.dispose([all, idx]); f.dispose();
    await rejects(() => w.vq.encode(nanZ), /VectorQuantizer\.encode\(z\) must be finite/, 'encode NaN');
    await rejects(() => w.vq.decode([[1, 2], [3]]), /VectorQuantizer\.decode\(indices\) must be a rectangular array, but row 1 has shape \[1\]/, 'ragged indices');
    await rejects(() => w.prior.logits(w.c, [[0], [1, 2]] as never), /must be 2 labels|unconditional/, 'ragged labels');
    await rejects(() => evaluateVQVAE(w.model, empty as tf.Tensor4D), /evaluateVQVAE\(images\) must hold at least one image, got shape \[0, 8, 8, 1\]/, 'evaluate on 0 images');
    await rejects(() => w.model.forward(w.x, { trainng: false } as never), /VQVAE\.forward\(x, options\): unknown option 'trainng' \(did you mean 'training'\?\)/, 'misspelt training');
    tf.dispose([codeK, codeNeg, codeHalf, code9, offGrid, beyond, nanZ, empty]);
    w.dispose();
  });

  test('sizes too large to allocate are rejected up front, with the limit', async () => {
    await rejects(() => new VectorQuantizer({ codebookSize: 1e9, dim: 2 }), /codebookSize must be an integer in \[2, 16777216\], got 1000000000/, 'K = 1e9');
    await rejects(() => new VectorQuantizer({ codebookSize: 2 ** 20, dim: 1024 }), /codebookSize × dim must be at most 268435456/, 'K × dim');
    await rejects(() => new FSQ({ levels: [1000, 1000, 1000] }), /levels must give at most 16777216 codes \(2\^24\), got 1000 × 1000 × 1000 = 1000000000/, 'FSQ product');
    await rejects(() => new GatedPixelCNN({ codebookSize: 2 ** 23, channels: 64 }), /codebookSize × channels must be at most 268435456/, 'PixelCNN K × p');
  });

  test('a failing training step or forward leaves no tensor behind', async () => {
    const w = world();
    const nanBatch = tf.fill([2, 8, 8, 1], NaN) as tf.Tensor4D;
    await rejects(() => w.trainer.trainStep(nanBatch), /VQVAETrainer\.trainStep\(batch\) must be finite/, 'NaN batch');
    nanBatch.dispose();
    const weight = w.model.encoder.conv1.weight;
    const saved = weight.clone();
    const nanWeight = tf.fill(weight.shape, NaN);
    weight.assign(nanWeight);
    nanWeight.dispose();
    // NaN latents: the quantizer throws inside the gradient tape.
    await rejects(() => w.trainer.trainStep(w.x), /VectorQuantizer\.forward\(z\) must be finite/, 'NaN latent in a step');
    await rejects(() => w.model.forward(w.x), /VectorQuantizer\.forward\(z\) must be finite/, 'forward outside tidy');
    weight.assign(saved);
    saved.dispose();
    const ok = await w.trainer.trainStep(w.x);
    assert.ok(Number.isFinite(ok.loss), 'training goes on after the failures');
    w.dispose();
  });

  test('damaged IDX files: the message names the file and the fault', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vq-idx-'));
    try {
      const header = (magic: number, dims: number[]) => {
        const b = Buffer.alloc(4 + 4 * dims.length);
        b.writeUInt32BE(magic, 0);
        dims.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
        return b;
      };
      const imgs = Buffer.concat([header(2051, [2, 28, 28]), Buffer.alloc(2 * 784)]);
      const labs = Buffer.concat([header(2049, [2]), Buffer.from([3, 4])]);
      fs.writeFileSync(path.join(dir, IDX_FILES.trainImages), imgs.subarray(0, 10)); // cut inside the header
      fs.writeFileSync(path.join(dir, IDX_FILES.trainLabels), labs);
      fs.writeFileSync(path.join(dir, IDX_FILES.testImages), imgs);
      fs.writeFileSync(path.join(dir, `${IDX_FILES.testLabels}.gz`), zlib.gzipSync(labs).subarray(0, 12)); // cut gzip stream
      const file = path.join(dir, IDX_FILES.trainImages).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      await rejects(() => idxMnistArrays(dir), new RegExp(`${file}: file truncated: 10 bytes, shorter than the 16-byte IDX header`), 'cut header');
      fs.writeFileSync(path.join(dir, IDX_FILES.trainImages), imgs);
      const gz = path.join(dir, `${IDX_FILES.testLabels}.gz`).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      await rejects(() => loadMnist({ source: 'idx', dir }), new RegExp(`MNIST IDX file ${gz}: damaged gzip data`), 'cut gzip');
      fs.writeFileSync(path.join(dir, `${IDX_FILES.testLabels}.gz`), zlib.gzipSync(Buffer.concat([header(2049, [2]), Buffer.from([3, 12])])));
      await rejects(() => idxMnistArrays(dir), /t10k-labels-idx1-ubyte\.gz: label 12 at row 1 is not a digit 0\.\.9/, 'bad label');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('before initBackend(): a clear hint, not a missing-kernel error later', () => {
    const lib = path.join(__dirname, '..', 'lib', 'index.js');
    const script = `const vq = require(${JSON.stringify(lib)});
      try { new vq.VectorQuantizer({ codebookSize: 4, dim: 2 }); console.log('no error'); } catch (e) { console.log(e.message); }`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 120_000 });
    assert.match(r.stdout, /VectorQuantizer: no TensorFlow\.js backend yet: call `await vq\.initBackend\(\)` first/, r.stderr);
  });
});
