/**
 * VQ-VAE (DL-Demos, github.com/SingleZombie/DL-Demos): shapes, PyTorch-like seeded init, conv-transpose semantics, training
 * reduces the loss, the training loop's seeding / callbacks / no leaks, FSQ bottleneck, errors.
 * Runs on wasm (with lib/wasm's training kernels); sizes are small to stay fast on 2 cores.
 */
import { describe, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestBackend } from './support/backend';
import * as tf from '@tensorflow/tfjs';
import { FSQ, VectorQuantizer } from '../lib/quantizer/index';
import { VQVAE, VQVAETrainer, encodeDataset, evaluateVQVAE, codeStats } from '../lib/vqvae/index';
import { epochBatches } from '../lib/train/index';
import { ConvTranspose2D } from '../lib/nn/layers';
import { fitWithLog, readTrainLog, reconstructionPng } from '../lib/notebook/index';
import { mulberry32 } from '../lib/rng';

const vq = (dim = 8, K = 8, seed = 0) => new VectorQuantizer({ codebookSize: K, dim, seed, checkFinite: false });
/** A smooth batch of digit-like blobs [n, 28, 28, 1] in [0, 1]. */
function blobs(n: number, seed = 1): tf.Tensor4D {
  const r = mulberry32(seed);
  const a = new Float32Array(n * 784);
  for (let i = 0; i < n; i++) {
    const cx = 8 + 12 * r(), cy = 8 + 12 * r(), s = 3 + 3 * r();
    for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) a[i * 784 + y * 28 + x] = Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * s * s));
  }
  return tf.tensor4d(a, [n, 28, 28, 1]);
}

describe('VQVAE', () => {
  before(async () => { await useTestBackend(); });

  test('shapes through encoder, quantizer and decoder', () => {
    const q = vq();
    const m = new VQVAE({ bottleneck: q, dim: 8, seed: 0 });
    const x = blobs(3);
    const f = m.forward(x);
    assert.deepEqual(f.ze.shape, [3, 7, 7, 8]);
    assert.deepEqual(f.q.quantized.shape, [3, 7, 7, 8]);
    assert.deepEqual(f.q.indices.shape, [3, 7, 7]);
    assert.deepEqual(f.xHat.shape, [3, 28, 28, 1]);
    const idx = m.encodeIndices(x);
    assert.equal(idx.dtype, 'int32');
    assert.deepEqual(idx.shape, [3, 7, 7]);
    assert.deepEqual(Array.from(idx.dataSync()), Array.from(f.q.indices.dataSync()));
    const dec = m.decodeIndices(idx);
    assert.deepEqual(dec.shape, [3, 28, 28, 1]);
    // decoding the indices = decoding z_q: the same image as the forward pass.
    const diff = tf.max(tf.abs(tf.sub(dec, f.xHat))).dataSync()[0];
    assert.ok(diff < 1e-5, `decodeIndices vs forward: ${diff}`);
    tf.dispose([x, f.ze, f.xHat, idx, dec, ...(Object.values(f.q) as tf.Tensor[])]);
    m.dispose();
    q.dispose();
  });

  test('init: deterministic under a seed, PyTorch bounds U(±1/√fan_in)', () => {
    const a = new VQVAE({ bottleneck: vq(), dim: 8, seed: 3 });
    const b = new VQVAE({ bottleneck: vq(), dim: 8, seed: 3 });
    const c = new VQVAE({ bottleneck: vq(), dim: 8, seed: 4 });
    const va = [...a.namedVariables()], vb = [...b.namedVariables()], vc = [...c.namedVariables()];
    assert.deepEqual(va.map(([k]) => k), vb.map(([k]) => k));
    assert.ok(va.some(([k]) => k === 'bottleneck/codebook'), 'codebook is among the named variables');
    for (let i = 0; i < va.length; i++) assert.deepEqual(va[i][1].dataSync(), vb[i][1].dataSync(), va[i][0]);
    assert.notDeepEqual(va[0][1].dataSync(), vc[0][1].dataSync());
    const maxAbs = (t: tf.Tensor) => Math.max(...Array.from(t.dataSync(), Math.abs));
    // conv1: 1→8, 4×4: fan_in 16; up2 (transposed 8→1, 4×4): PyTorch fan_in = outC·k·k = 16.
    assert.ok(maxAbs(a.encoder.conv1.weight) <= 1 / 4 && maxAbs(a.encoder.conv1.weight) > 0.2);
    assert.ok(maxAbs(a.encoder.conv2.weight) <= 1 / Math.sqrt(8 * 16));
    assert.ok(maxAbs(a.decoder.up2.weight) <= 1 / 4 && maxAbs(a.decoder.up2.weight) > 0.2);
    for (const m of [a, b, c]) { m.dispose(); (m.bottleneck as VectorQuantizer).dispose(); }
  });

  test('ConvTranspose2D matches the PyTorch definition (k4 s2 p1: 7 → 14)', () => {
    const t = new ConvTranspose2D(2, 3, 4, 2, 1, mulberry32(5));
    const x = tf.randomUniform([1, 7, 7, 2], -1, 1, 'float32', 9) as tf.Tensor4D;
    const y = t.apply(x);
    assert.deepEqual(y.shape, [1, 14, 14, 3]);
    // y[o, p, q] = b[o] + Σ x[i, h, w]·W[kh, kw, o, i] where p = 2h − 1 + kh, q = 2w − 1 + kw.
    const xs = x.arraySync()[0], W = t.weight.arraySync() as number[][][][], b = t.bias.dataSync();
    const ref = Array.from({ length: 14 }, () => Array.from({ length: 14 }, (_, __) => Array.from(b)));
    for (let h = 0; h < 7; h++) for (let w = 0; w < 7; w++) for (let kh = 0; kh < 4; kh++) for (let kw = 0; kw < 4; kw++) {
      const p = 2 * h - 1 + kh, q = 2 * w - 1 + kw;
      if (p < 0 || p >= 14 || q < 0 || q >= 14) continue;
      for (let o = 0; o < 3; o++) for (let i = 0; i < 2; i++) ref[p][q][o] += xs[h][w][i] * W[kh][kw][o][i];
    }
    const got = y.arraySync()[0];
    for (let p = 0; p < 14; p++) for (let q = 0; q < 14; q++) for (let o = 0; o < 3; o++) {
      assert.ok(Math.abs(got[p][q][o] - ref[p][q][o]) < 1e-5, `(${p},${q},${o})`);
    }
    tf.dispose([x, y, t.weight, t.bias]);
  });

  test('a few Adam steps reduce the loss; no tensor leaks across steps', async () => {
    const q = vq(8, 8, 1);
    const m = new VQVAE({ bottleneck: q, dim: 8, seed: 1 });
    const tr = new VQVAETrainer(m, { batchSize: 16, learningRate: 3e-3, seed: 2 });
    const x = blobs(16, 3);
    await tr.fit(x, { epochs: 1 }); // first step creates Adam's slots
    const n0 = tf.memory().numTensors;
    const hist = await tr.fit(x, { epochs: 14 });
    assert.equal(tf.memory().numTensors, n0, 'numTensors unchanged over 14 steps');
    const first = tr.history[0].loss, last = hist[hist.length - 1].loss;
    assert.ok(last < 0.5 * first, `loss ${first} → ${last}`);
    assert.ok(hist.every((h) => Number.isFinite(h.loss) && h.reconMse <= h.loss + 1e-7));
    const ev = await evaluateVQVAE(m, x, { batchSize: 5 });
    assert.ok(Math.abs(ev.mse - tr.history[tr.history.length - 1].reconMse) < 0.05 && ev.counts.reduce((a, b) => a + b) === 16 * 49);
    const all = await encodeDataset(m, x, { batchSize: 5 });
    const once = m.encodeIndices(x);
    assert.deepEqual(all.shape, [16, 7, 7]);
    assert.deepEqual(all.dataSync(), once.dataSync());
    tf.dispose([all, once]);
    assert.equal(tf.memory().numTensors, n0, 'numTensors unchanged after evaluate / encodeIndices');
    tr.dispose(); m.dispose(); q.dispose(); x.dispose();
  });

  test('trainer: seeded shuffling, metrics, callbacks, maxSteps and abort', async () => {
    const p1 = epochBatches(10, 4, mulberry32(7)), p2 = epochBatches(10, 4, mulberry32(7));
    assert.deepEqual(p1.map((b) => Array.from(b)), p2.map((b) => Array.from(b)));
    assert.deepEqual(p1.map((b) => b.length), [4, 4, 2]);
    assert.deepEqual(p1.flatMap((b) => Array.from(b)).sort((a, b) => a - b), [...Array(10).keys()]);
    assert.deepEqual(epochBatches(10, 4, mulberry32(7), true).map((b) => b.length), [4, 4]);
    assert.deepEqual(codeStats([2, 2, 0, 0]), { perplexity: 2, usage: 0.5 });

    const q = vq(8, 8, 0);
    const m = new VQVAE({ bottleneck: q, dim: 8, seed: 0 });
    const tr = new VQVAETrainer(m, { batchSize: 4, seed: 0 });
    const x = blobs(10);
    const seen: number[] = [];
    const epochs: number[] = [];
    const out = await tr.fit(x, { epochs: 3, maxSteps: 4, onStep: async (s) => { seen.push(s.step); }, onEpoch: (e) => { epochs.push(e); } });
    assert.deepEqual(seen, [1, 2, 3, 4]);
    assert.deepEqual(epochs, [0, 1]);
    const s = out[3];
    assert.deepEqual([s.epoch, s.stepInEpoch, s.stepsPerEpoch], [1, 1, 3]);
    for (const k of ['loss', 'reconMse', 'quantizerLoss', 'perplexity', 'usage', 'deadCodes', 'imagesPerSec', 'elapsedSec', 'etaSec'] as const) {
      assert.ok(Number.isFinite(s[k]), `${k} = ${s[k]}`);
    }
    assert.ok(s.perplexity >= 1 && s.perplexity <= 8 && s.usage > 0 && s.usage <= 1 && s.deadCodes >= 0 && s.deadCodes <= 8);
    assert.equal(s.etaSec, 0);
    const ac = new AbortController();
    const out2 = await tr.fit(x, { epochs: 5, signal: ac.signal, onStep: (st) => { if (st.step === 6) ac.abort(); } });
    assert.equal(out2.length, 2);
    tr.dispose(); m.dispose(); q.dispose(); x.dispose();
  });

  test('FSQ bottleneck: trains with the reconstruction loss only', async () => {
    const f = new FSQ({ levels: [5, 4, 3], dim: 8, seed: 0 });
    const m = new VQVAE({ bottleneck: f, dim: 8, seed: 0 });
    assert.ok([...m.namedVariables().keys()].includes('bottleneck/projectIn.kernel'));
    const tr = new VQVAETrainer(m, { batchSize: 8, learningRate: 3e-3 });
    const x = blobs(8);
    const h = await tr.fit(x, { epochs: 6 });
    assert.ok(h.every((s) => s.quantizerLoss === 0 && Math.abs(s.loss - s.reconMse) < 1e-7));
    assert.ok(h[5].loss < h[0].loss, `${h[0].loss} → ${h[5].loss}`);
    const idx = m.encodeIndices(x);
    assert.ok(Math.max(...idx.dataSync()) < 60);
    assert.deepEqual(m.decodeIndices(idx).shape, [8, 28, 28, 1]);
    tr.dispose(); m.dispose(); f.dispose(); x.dispose();
  });

  test('cpu and wasm agree on the loss and every gradient (the wasm training kernels)', async () => {
    const q = vq(8, 8, 2);
    const m = new VQVAE({ bottleneck: q, dim: 8, seed: 2 });
    const x = blobs(2, 4);
    const run = () => {
      const { value, grads } = tf.variableGrads(() => m.computeLoss(x).loss, m.trainableVariables());
      const out = [value, ...Object.values(grads)].map((t) => Array.from(t.dataSync()));
      tf.dispose([value, ...Object.values(grads)]);
      return out;
    };
    const onWasm = run();
    await tf.setBackend('cpu');
    const onCpu = run();
    await useTestBackend();
    assert.equal(onWasm.length, m.trainableVariables().length + 1);
    onWasm.forEach((w, i) => {
      const c = onCpu[i];
      const scale = Math.max(1e-6, ...c.map(Math.abs));
      const err = Math.max(...w.map((v, j) => Math.abs(v - c[j])));
      assert.ok(err <= 1e-3 * scale + 1e-6, `tensor ${i}: max |wasm − cpu| ${err} (scale ${scale})`);
    });
    m.dispose(); q.dispose(); x.dispose();
  });

  test('bad input: clear errors naming the argument', () => {
    const q = vq();
    assert.throws(() => new VQVAE({ bottleneck: q, dim: 16 }), /VQVAE: bottleneck\.dim must equal dim \(the latent channels\), got bottleneck\.dim 8 and dim 16/);
    assert.throws(() => new VQVAE({ bottleneck: q, dim: 8, sed: 1 } as never), /VQVAE: unknown option 'sed' \(did you mean 'seed'\?\)/);
    assert.throws(() => new VQVAE({ bottleneck: {} as never }), /VQVAE: bottleneck must be a quantizer with forward\(z\), decode\(indices\) and stats/);
    assert.throws(() => new VQVAE({ bottleneck: q, dim: 0 }), /VQVAE: dim must be an integer in \[1, 4096\], got 0/);
    const m = new VQVAE({ bottleneck: q, dim: 8 });
    assert.throws(() => m.encode(tf.zeros([2, 28, 28, 3]) as tf.Tensor4D), /VQVAE\.encode\(x\) must be a tensor \[N, H, W, 1\], got a float32 tensor of shape \[2, 28, 28, 3\]/);
    assert.throws(() => m.encode(tf.zeros([2, 30, 30, 1]) as tf.Tensor4D), /VQVAE\.encode\(x\) must have a height and width that are multiples of 4, got shape \[2, 30, 30, 1\]/);
    assert.throws(() => m.decode(tf.zeros([2, 7, 7, 3]) as tf.Tensor4D), /VQVAE\.decode\(zq\) must be a tensor \[N, H, W, 8\]/);
    assert.throws(() => m.decodeIndices(tf.zeros([2, 7]) as never), /VQVAE\.decodeIndices\(indices\) must be a tensor \[N, h, w\]/);
    assert.throws(() => new VQVAETrainer(m, { batchSize: 0 }), /VQVAETrainer: batchSize must be an integer >= 1, got 0/);
    assert.throws(() => new VQVAETrainer(m, { learningRat: 1 } as never), /VQVAETrainer: unknown option 'learningRat' \(did you mean 'learningRate'\?\)/);
    m.dispose(); q.dispose();
  });

  test('fitWithLog: a step and epoch record that survives JSON, deterministic, leak-free', async () => {
    const make = () => { const q = vq(8, 8, 5); return { q, m: new VQVAE({ bottleneck: q, dim: 8, seed: 5 }) }; };
    const train = blobs(20, 6), test = blobs(6, 7);
    const opts = { epochs: 2, batchSize: 8, learningRate: 1e-3, seed: 3, progress: false };
    const a = make();
    const n0 = tf.memory().numTensors;
    const logA = await fitWithLog(a.m, train, test, opts);
    assert.equal(tf.memory().numTensors, n0, 'numTensors unchanged by fitWithLog');
    for (const k of ['loss', 'reconMse', 'quantizerLoss', 'perplexity', 'used', 'deadCodes'] as const) assert.equal(logA.steps[k].length, 6, k);
    assert.deepEqual(logA.epochs.map((e) => [e.epoch, e.step]), [[1, 3], [2, 6]]);
    assert.deepEqual([logA.epochsTrained, logA.learningRate, logA.batchSize], [2, 1e-3, 8]);
    const e = await evaluateVQVAE(a.m, test);
    assert.ok(Math.abs(logA.epochs[1].mse - e.mse) <= 1e-5 * e.mse, `last epoch's test MSE ${logA.epochs[1].mse} = evaluate ${e.mse}`);
    assert.ok(logA.seconds > 0 && logA.imagesPerSec > 0);
    const stored = JSON.parse(JSON.stringify({ log: logA }));
    assert.deepEqual(readTrainLog(stored, 'ckpt'), logA);
    const b = make();
    const logB = await fitWithLog(b.m, train, test, opts);
    assert.deepEqual({ ...logB.steps }, { ...logA.steps }, 'same seeds, same per-step metrics');
    assert.deepEqual(logB.epochs, logA.epochs);

    assert.throws(() => readTrainLog({}, 'data/checkpoints/x.ckpt'), /data\/checkpoints\/x\.ckpt: its meta has no valid training log \(no "log" entry\)/);
    const cut = JSON.parse(JSON.stringify(stored));
    cut.log.steps.used.pop();
    assert.throws(() => readTrainLog(cut, 'c'), /steps\.used is not 6 numbers/);
    assert.throws(() => readTrainLog({ log: { steps: {} } }, 'c'), /c: its meta has no valid training log \(steps\.loss is not a list\)/);
    await assert.rejects(fitWithLog(a.m, tf.zeros([4, 28, 28]) as never, test, opts), /fitWithLog\(train\) must be a tensor \[N, H, W, 1\], got a float32 tensor of shape \[4, 28, 28\]/);
    await assert.rejects(fitWithLog(a.m, train, test, { ...opts, epoch: 1 } as never), /fitWithLog\(model, train, test, options\): unknown option 'epoch' \(did you mean 'epochs'\?\)/);
    await assert.rejects(fitWithLog(a.m, train, test, { ...opts, epochs: 0 }), /fitWithLog\(model, train, test, options\): epochs must be an integer >= 1, got 0/);
    for (const r of [a, b]) { r.m.dispose(); r.q.dispose(); }
    tf.dispose([train, test]);
  });

  test('parameterCount and reconstructionPng', () => {
    const q = vq(8, 8, 0);
    const m = new VQVAE({ bottleneck: q, dim: 8, seed: 0 });
    const pc = m.parameterCount();
    assert.equal(pc.bottleneck, 64, 'codebook 8 × 8');
    const all = [...m.namedVariables().values()].reduce((a, v) => a + v.size, 0);
    assert.equal(pc.conv + pc.bottleneck, all);
    const x = blobs(6);
    const n0 = tf.memory().numTensors;
    const png = reconstructionPng(m, x, { cols: 3, scale: 1 });
    assert.equal(tf.memory().numTensors, n0);
    assert.equal(png.toString('latin1', 1, 4), 'PNG');
    // 4 rows (originals, reconstructions, ×2) of 3 tiles of 28 px with 1 px padding.
    assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [3 * 29 + 1, 4 * 29 + 1]);
    assert.throws(() => reconstructionPng(m, x, { cols: 4 }), /6 images is not a multiple of options\.cols 4/);
    assert.throws(() => reconstructionPng(m, x, { col: 3 } as never), /reconstructionPng\(model, x, options\): unknown option 'col' \(did you mean 'cols'\?\)/);
    assert.throws(() => reconstructionPng(m, tf.zeros([2, 28, 28]) as never), /reconstructionPng\(x\) must be a tensor \[N, H, W, 1\], got a float32 tensor of shape \[2, 28, 28\]/);
    m.dispose(); q.dispose(); x.dispose();
  });
});
