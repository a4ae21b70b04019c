/**
 * Gated PixelCNN prior: DL-Demos masks, masked-support convs equal the full masked conv,
 * causality by perturbation (unconditional and class-conditional), sampling, learning
 * (nll < log2 K), no leaks, errors.
 */
import { describe, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestBackend } from './support/backend';
import * as tf from '@tensorflow/tfjs';
import { GatedPixelCNN, PixelCNNTrainer, causalMask } from '../lib/prior/index';
import { mulberry32 } from '../lib/rng';

const K = 8;
function grids(n: number, seed: number): Int32Array {
  const r = mulberry32(seed);
  return Int32Array.from({ length: n * 49 }, () => Math.floor(r() * K));
}
const logitsOf = (p: GatedPixelCNN, a: Int32Array, n: number, labels?: number[]) =>
  tf.tidy(() => p.logits(tf.tensor3d(a, [n, 7, 7], 'int32'), labels).dataSync() as Float32Array);

describe('GatedPixelCNN', () => {
  before(async () => { await useTestBackend(); });

  test('masks are those of DL-Demos (3×3)', () => {
    assert.deepEqual(Array.from(causalMask('vertical')), [1, 1, 1, 1, 1, 1, 0, 0, 0]);
    assert.deepEqual(Array.from(causalMask('A')), [0, 0, 0, 1, 0, 0, 0, 0, 0]);
    assert.deepEqual(Array.from(causalMask('B')), [0, 0, 0, 1, 1, 0, 0, 0, 0]);
    assert.deepEqual(Array.from(causalMask('A', 5)).slice(10, 15), [1, 1, 0, 0, 0]);
  });

  test('convs on the mask support equal the full masked 3×3 conv (pad 1)', () => {
    const p = new GatedPixelCNN({ codebookSize: K, channels: 4, blocks: 1, seed: 3 });
    const x = tf.randomNormal([2, 7, 7, 4], 0, 1, 'float32', 1) as tf.Tensor4D;
    for (const b of p.blocks) {
      for (const mc of [b.vConv, b.hConv]) {
        const full = tf.tidy(() => {
          const masked = tf.mul(mc.conv.weight, tf.tensor4d(causalMask(mc.type, 3), [3, 3, 1, 1])) as tf.Tensor4D;
          return tf.add(tf.conv2d(x, masked, 1, 'same'), mc.conv.bias);
        });
        const fast = mc.apply(x);
        const err = tf.tidy(() => tf.max(tf.abs(tf.sub(full, fast))).dataSync()[0]);
        assert.ok(err < 1e-5, `${b.type}/${mc.type}: ${err}`);
        tf.dispose([full, fast]);
      }
    }
    x.dispose(); p.dispose();
  });

  test('causal: the logits at position i do not depend on inputs at positions ≥ i', () => {
    for (const numClasses of [0, 3]) {
      const p = new GatedPixelCNN({ codebookSize: K, channels: 8, blocks: 3, numClasses, seed: 1 });
      const labels = numClasses ? [1, 2] : undefined;
      const a = grids(2, 5);
      const base = logitsOf(p, a, 2, labels);
      for (let q = 0; q < 49; q++) {
        const b = a.slice();
        b[q] = (b[q] + 3) % K; // change sample 0 at position q
        const l = logitsOf(p, b, 2, labels);
        for (let pos = 0; pos < 49; pos++) {
          const changed = [...Array(K).keys()].some((k) => l[pos * K + k] !== base[pos * K + k]); // exact
          if (pos <= q) assert.ok(!changed, `classes ${numClasses}: output ${pos} depends on input ${q}`);
          if (pos === q + 1 && q % 7 !== 6) assert.ok(changed, `output ${pos} should see input ${q} on its left`);
          if (pos === q + 7) assert.ok(changed, `output ${pos} should see input ${q} above it`);
        }
        // the other sample in the batch is untouched
        assert.deepEqual(l.subarray(49 * K), base.subarray(49 * K));
      }
      if (numClasses) {
        const other = logitsOf(p, a, 2, [0, 2]);
        assert.notDeepEqual(other.subarray(0, 49 * K), base.subarray(0, 49 * K), 'the class label matters');
      }
      p.dispose();
    }
  });

  test('the default depth (A + 5 B blocks) sees the whole past of a 7×7 grid: no blind spot', () => {
    const p = new GatedPixelCNN({ codebookSize: K, channels: 4, seed: 2 });
    assert.equal(p.blocks.length, 6);
    const a = grids(1, 3);
    const base = logitsOf(p, a, 1);
    for (let q = 0; q < 48; q++) {
      const b = a.slice();
      b[q] = (b[q] + 1) % K;
      const l = logitsOf(p, b, 1);
      assert.ok([...Array(K).keys()].some((k) => l[48 * K + k] !== base[48 * K + k]), `output 48 ignores input ${q}`);
    }
    p.dispose();
  });

  test('training lowers the NLL below log2 K bits per code; no leaks; sampling', async () => {
    // Structured codes: each grid is one of 4 patterns with a little noise.
    const r = mulberry32(9);
    const n = 64;
    const a = new Int32Array(n * 49);
    for (let i = 0; i < n; i++) {
      const pat = i % 4;
      for (let pos = 0; pos < 49; pos++) a[i * 49 + pos] = r() < 0.1 ? Math.floor(r() * K) : (pat * 2 + (pos % 7 > 3 ? 1 : 0)) % K;
    }
    const codes = tf.tensor3d(a, [n, 7, 7], 'int32');
    const p = new GatedPixelCNN({ codebookSize: K, channels: 16, blocks: 2, seed: 0 });
    const before = await p.nll(codes);
    const tr = new PixelCNNTrainer(p, { batchSize: 32, learningRate: 3e-3, seed: 0 });
    await tr.fit(codes, { epochs: 1, maxSteps: 1 });
    const n0 = tf.memory().numTensors;
    const hist = await tr.fit(codes, { epochs: 15 });
    assert.equal(tf.memory().numTensors, n0, 'numTensors unchanged over training steps');
    const after = await p.nll(codes, undefined, 20);
    assert.ok(Math.abs(before - Math.log2(K)) < 0.5, `untrained ≈ uniform: ${before}`);
    assert.ok(after < Math.log2(K) - 1, `trained nll ${after} bits vs log2 K = ${Math.log2(K)}`);
    assert.ok(Math.abs(hist[hist.length - 1].bitsPerCode - hist[hist.length - 1].loss / Math.LN2) < 1e-9);

    const s1 = await p.sample(5, { seed: 4 });
    assert.equal(tf.memory().numTensors, n0 + 1, 'sample leaves only its result');
    const s2 = await p.sample(5, { seed: 4 });
    assert.equal(s1.dtype, 'int32');
    assert.deepEqual(s1.shape, [5, 7, 7]);
    const v = Array.from(s1.dataSync());
    assert.ok(v.every((i) => Number.isInteger(i) && i >= 0 && i < K));
    assert.deepEqual(v, Array.from(s2.dataSync()), 'same seed, same samples');
    tf.dispose([s1, s2, codes]);
    tr.dispose(); p.dispose();
  });

  test('class-conditional: trains with labels and samples per class', async () => {
    const p = new GatedPixelCNN({ codebookSize: K, channels: 8, blocks: 1, numClasses: 2, seed: 0 });
    const a = new Int32Array(16 * 49).map((_, i) => (Math.floor(i / 49) % 2 === 0 ? 1 : 6));
    const labels = Array.from({ length: 16 }, (_, i) => i % 2);
    const codes = tf.tensor3d(a, [16, 7, 7], 'int32');
    const tr = new PixelCNNTrainer(p, { batchSize: 16, learningRate: 1e-2 });
    await tr.fit(codes, { epochs: 30, labels });
    const s0 = await p.sample(4, { seed: 1, classLabel: 0 });
    const s1 = await p.sample(4, { seed: 1, classLabel: 1 });
    const frac = (t: tf.Tensor, c: number) => Array.from(t.dataSync()).filter((x) => x === c).length / t.size;
    assert.ok(frac(s0, 1) > 0.8 && frac(s1, 6) > 0.8, `${frac(s0, 1)} ${frac(s1, 6)}`);
    assert.ok((await p.nll(codes, labels)) < 1);
    tf.dispose([s0, s1, codes]); tr.dispose(); p.dispose();
  });

  test('bad input: clear errors naming the argument', async () => {
    assert.throws(() => new GatedPixelCNN({ codebookSize: 1 }), /GatedPixelCNN: codebookSize must be an integer in \[2, 16777216\], got 1/);
    assert.throws(() => new GatedPixelCNN({ codebookSize: 8, chanels: 3 } as never), /GatedPixelCNN: unknown option 'chanels' \(did you mean 'channels'\?\)/);
    const p = new GatedPixelCNN({ codebookSize: K, channels: 4, blocks: 0 });
    assert.throws(() => p.logits(tf.zeros([2, 7, 6], 'int32') as tf.Tensor3D), /GatedPixelCNN\.logits\(indices\) must be an int32 tensor \[N, 7, 7\]/);
    assert.throws(() => p.logits(tf.zeros([2, 7, 7], 'int32') as tf.Tensor3D, [0, 1]), /labels given but the prior is unconditional/);
    await assert.rejects(p.nll(tf.fill([1, 7, 7], 8, 'int32') as tf.Tensor3D), /GatedPixelCNN\.nll\(indices\) must hold integers in \[0, 7\], got min 8, max 8/);
    await assert.rejects(p.nll(tf.zeros([1, 7, 7]) as tf.Tensor3D), /GatedPixelCNN\.nll\(indices\) must be an int32 tensor of code indices, got dtype float32/);
    await assert.rejects(p.sample(0), /GatedPixelCNN\.sample\(n\) must be an integer >= 1, got 0/);
    const c = new GatedPixelCNN({ codebookSize: K, channels: 4, blocks: 0, numClasses: 3 });
    await assert.rejects(c.sample(2, { classLabel: 3 }), /GatedPixelCNN\.sample\(options\.classLabel\) must hold integers in \[0, 2\], found 3/);
    await assert.rejects(c.sample(2), /class-conditional \(numClasses 3\): pass labels/);
    const tr = new PixelCNNTrainer(c);
    await assert.rejects(tr.fit(tf.zeros([2, 7, 7], 'int32') as tf.Tensor3D), /PixelCNNTrainer\.fit\(options\.labels\) must be 2 labels for a class-conditional prior/);
    tr.dispose(); p.dispose(); c.dispose();
  });
});
