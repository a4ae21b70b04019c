/**
 * The collapse fixes and the running statistics: EMA codebook (hand step and reference values
 * of Sonnet's debiased VectorQuantizerEMA), dead-code restarts, k-means init, CodebookStats.
 */
import { describe, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_AND_CPU } from './support/backend';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { CodebookStats, VectorQuantizer, perplexityOf } from '../lib/quantizer/index';
import { near, num, vals } from './support/numeric';

function zdata(n: number, d: number, a = 1.3, b = 0.7, s = 1, off = 0): tf.Tensor2D {
  return tf.tensor2d(Array.from({ length: n }, (_, i) => Array.from({ length: d }, (_, j) => s * Math.sin(a * i + b * j + off))));
}
function cbdata(k: number, d: number): tf.Tensor2D {
  return tf.tensor2d(Array.from({ length: k }, (_, i) => Array.from({ length: d }, (_, j) => 0.5 * Math.cos(0.9 * i - 0.4 * j))));
}
const rows = (t: tf.Tensor2D): number[][] => t.arraySync();

for (const backend of TEST_AND_CPU) {
  describe(`EMA, restarts, k-means, stats on ${backend}`, () => {
    before(async () => {
      await initBackend(backend, { quiet: true });
      assert.equal(tf.getBackend(), backend === 'node' || backend === 'node-gpu' ? 'tensorflow' : backend);
    });

    test('EMA update: two hand-computed steps (decay 0.5, ε = 0)', () => {
      const vq = new VectorQuantizer({ codebookSize: 2, dim: 1, ema: { decay: 0.5, epsilon: 0 }, seed: 0 });
      assert.equal(vq.codebook.trainable, false);
      assert.deepEqual(vq.trainableVariables(), []);
      vq.codebook.assign(tf.tensor2d([[0], [10]]));
      const z1 = tf.tensor2d([[1], [3], [9]]);
      const o1 = vq.forward(z1);
      // outputs use the codebook before the update (Sonnet order)
      assert.deepEqual(vals(o1.indices), [0, 0, 1]);
      assert.deepEqual(vals(o1.quantized), [0, 0, 10]);
      near(num(o1.commitLoss), (1 + 9 + 1) / 3, 1e-6, 1e-6, 'commit');
      near(num(o1.loss), 1.25 * (11 / 3), 1e-6, 1e-6, 'loss = codebook + β·commit (van den Oord et al. 2017, eq. 3; no gradient to the codebook)');
      // t = 1 debiased: averages = this batch: N = [2, 1], m = [1 + 3, 9] → e = [2, 9]
      near(vals(vq.emaState!.clusterSize), [2, 1], 1e-6, 1e-6, 'N after step 1');
      near(vals(vq.codebook), [2, 9], 1e-6, 1e-6, 'codebook after step 1');
      const z2 = tf.tensor2d([[2], [2], [8], [12]]);
      tf.dispose(vq.forward(z2)); // indices [0, 0, 1, 1]: counts [2, 2], sums [4, 20]
      // t = 2: a = d(1−d)/(1−d²) = 1/3, b = (1−d)/(1−d²) = 2/3
      // N = [2/3·… ] = [2·1/3 + 2·2/3, 1·1/3 + 2·2/3] = [2, 5/3]; m = [4/3 + 8/3, 9/3 + 40/3] = [4, 49/3]
      near(vals(vq.emaState!.clusterSize), [2, 5 / 3], 1e-6, 1e-6, 'N after step 2');
      near(vals(vq.codebook), [2, 49 / 5], 1e-6, 1e-6, 'codebook after step 2 = m/N');
      const before = vals(vq.codebook);
      tf.dispose(vq.forward(z2, { training: false }));
      assert.deepEqual(vals(vq.codebook), before, 'training: false leaves the codebook alone');
      assert.equal(vq.emaState!.steps, 2);
      tf.dispose([z1, z2, o1]);
      vq.dispose();
    });

    test('EMA update matches float64 reference of Sonnet VectorQuantizerEMA (Laplace ε = 1e-5, decay 0.9)', () => {
      // Reference: numpy float64 re-implementation of Sonnet v2 VectorQuantizerEMA with its debiased
      // ExponentialMovingAverage (hidden_0 = 0, average = hidden / (1 − d^t)), on cbdata(4, 2), then
      // batches zdata(8, 2, s=0.8) and zdata(8, 2, a=0.9, b=0.3, s=0.8, off=0.5).
      const vq = new VectorQuantizer({ codebookSize: 4, dim: 2, ema: { decay: 0.9 }, seed: 0 });
      const e0 = cbdata(4, 2);
      vq.codebook.assign(e0);
      const b1 = zdata(8, 2, 1.3, 0.7, 0.8), b2 = zdata(8, 2, 0.9, 0.3, 0.8, 0.5);
      const o1 = vq.forward(b1);
      assert.deepEqual(vals(o1.indices), [1, 0, 2, 3, 3, 1, 0, 2]);
      near(vals(vq.emaState!.clusterSize), [2, 2, 2, 2], 1e-6, 1e-6, 'N1');
      near(vals(vq.codebook), [0.7848406123, 0.6831138158, 0.0860479952, 0.5751542204,
        0.3338398937, -0.2096899294, -0.628488326, -0.5470270674], 1e-6, 1e-5, 'e1');
      const o2 = vq.forward(b2);
      assert.deepEqual(vals(o2.indices), [1, 0, 0, 2, 3, 3, 3, 1]);
      near(vals(vq.emaState!.clusterSize), [2, 2, 1.4736842105, 2.5263157895], 1e-6, 1e-5, 'N2');
      near(vals(vq.codebook), [0.7362202779, 0.6408783722, 0.2457151324, 0.5769309741,
        0.1979326801, -0.2350240285, -0.5941967496, -0.5162955079], 1e-6, 1e-5, 'e2');
      tf.dispose([e0, b1, b2, o1, o2]);
      vq.dispose();
    });

    test('EMA codebook gets no gradient; the encoder side still does', () => {
      const vq = new VectorQuantizer({ codebookSize: 3, dim: 2, ema: {}, entropyWeight: 1, seed: 2 });
      const zv = tf.variable(tf.tensor2d([[0.1, 0.2], [-0.3, 0.4]]));
      const cb0 = vals(vq.codebook);
      const opt = tf.train.sgd(0.1);
      // minimize with no varList trains every trainable variable: the codebook is not one of them.
      tf.dispose(opt.minimize(() => vq.forward(zv, { training: false }).loss, true)!);
      assert.deepEqual(vals(vq.codebook), cb0);
      assert.notDeepEqual(vals(zv), [0.1, 0.2, -0.3, 0.4].map(Math.fround));
      opt.dispose();
      zv.dispose();
      vq.dispose();
    });

    test('dead-code restarts re-seed only the dead codes, from rows of the batch (no EMA)', () => {
      const make = () => {
        const vq = new VectorQuantizer({ codebookSize: 4, dim: 2, deadCodeThreshold: 0.5, seed: 7 });
        vq.codebook.assign(tf.tensor2d([[0, 0], [1, 1], [50, 50], [-50, 50]]));
        return vq;
      };
      const z = tf.tensor2d([[0.1, 0], [0, 0.2], [-0.1, 0.1], [1, 0.9], [1.2, 1], [0.8, 1.1]]);
      const zr = rows(z);
      const vq = make();
      const o = vq.forward(z);
      assert.deepEqual(vals(o.indices), [0, 0, 0, 1, 1, 1]);
      assert.deepEqual(vq.lastRestarted, [2, 3]);
      assert.equal(vq.stats.restarts, 2);
      const cb = rows(vq.codebook);
      assert.deepEqual(cb.slice(0, 2), [[0, 0], [1, 1]], 'live codes untouched');
      const picked = cb.slice(2).map((r) => zr.findIndex((q) => q[0] === r[0] && q[1] === r[1]));
      assert.ok(picked.every((i) => i >= 0), `restarted codes are batch rows: ${JSON.stringify(cb.slice(2))}`);
      assert.notEqual(picked[0], picked[1], 'distinct rows while the batch has enough');
      near(vals(vq.emaState!.clusterSize), [3, 3, 0.5, 0.5], 1e-6, 1e-6, 'usage counts; restarted codes get the threshold as grace');
      // same seed, same restarts
      const again = make();
      tf.dispose(again.forward(z));
      assert.deepEqual(rows(again.codebook), cb);
      // the re-seeded codes now win their own rows and stay alive
      tf.dispose(vq.forward(z));
      assert.deepEqual(vq.lastRestarted, []);
      tf.dispose([z, o]);
      vq.dispose();
      again.dispose();
    });

    test('dead-code restarts with EMA: live codes follow the EMA, dead ones restart with grace counts', () => {
      const vq = new VectorQuantizer({ codebookSize: 4, dim: 2, ema: { decay: 0.9 }, deadCodeThreshold: 1, seed: 3 });
      vq.codebook.assign(tf.tensor2d([[0, 0], [1, 1], [50, 50], [-50, 50]]));
      const z = tf.tensor2d([[0.1, 0], [0, 0.2], [-0.1, 0.1], [1, 0.9], [1.2, 1], [0.8, 1.1]]);
      tf.dispose(vq.forward(z));
      assert.deepEqual(vq.lastRestarted, [2, 3]);
      const cb = rows(vq.codebook);
      // live: Laplace-smoothed means, N = [3, 3, 0, 0], n = 6: Ñ = (3 + ε)/(6 + 4ε)·6
      const s = ((3 + 1e-5) / (6 + 4e-5)) * 6;
      near(cb.slice(0, 2).flat(), [0 / s, 0.3 / s, 3 / s, 3 / s], 1e-6, 1e-5, 'live codes');
      const zr = rows(z);
      assert.ok(cb.slice(2).every((r) => zr.some((q) => q[0] === r[0] && q[1] === r[1])), 'dead codes are batch rows');
      near(vals(vq.emaState!.clusterSize), [3, 3, 1, 1], 1e-6, 1e-6, 'grace counts');
      near(rows(vq.emaState!.embedSum!).slice(2).flat(), cb.slice(2).flat(), 1e-6, 1e-6, 'sums = vector · grace count');
      z.dispose();
      vq.dispose();
    });

    test("init 'kmeans' places the codebook on the first batch's clusters (seeded)", () => {
      // three tight clusters around (0, 0), (5, 5), (−5, 5)
      const centres = [[0, 0], [5, 5], [-5, 5]];
      const pts = centres.flatMap(([cx, cy], c) => Array.from({ length: 10 }, (_, i) =>
        [cx + 0.3 * Math.sin(2.1 * i + c), cy + 0.3 * Math.cos(1.7 * i + 2 * c)]));
      const means = centres.map((_, c) => [0, 1].map((j) => pts.slice(10 * c, 10 * c + 10).reduce((s, p) => s + p[j], 0) / 10));
      const z = tf.tensor2d(pts);
      for (const seed of [1, 2, 3]) {
        const vq = new VectorQuantizer({ codebookSize: 3, dim: 2, init: 'kmeans', seed });
        const out = vq.forward(z);
        const cb = rows(vq.codebook).sort((a, b) => a[0] - b[0]);
        const want = [...means].sort((a, b) => a[0] - b[0]);
        near(cb.flat(), want.flat(), 1e-5, 1e-5, `seed ${seed} centroids`);
        near(num(out.perplexity), 3, 1e-5, 1e-5, 'each cluster its own code');
        tf.dispose(out);
        vq.dispose();
      }
      z.dispose();
    });

    test("init 'kmeans' waits for a training batch: evaluation and a restored checkpoint leave the codebook alone", () => {
      const z = tf.randomNormal([40, 2], 0, 3, 'float32', 5);
      const vq = new VectorQuantizer({ codebookSize: 3, dim: 2, init: 'kmeans', seed: 1 });
      const before = rows(vq.codebook);
      tf.dispose(vq.forward(z, { training: false }));
      assert.deepEqual(rows(vq.codebook), before, 'an evaluation forward placed the codebook');
      vq.restored(); // as loadCheckpoint does after assigning stored weights
      tf.dispose(vq.forward(z));
      assert.deepEqual(rows(vq.codebook), before, 'a restored codebook was overwritten by k-means');
      const fresh = new VectorQuantizer({ codebookSize: 3, dim: 2, init: 'kmeans', seed: 1 });
      tf.dispose(fresh.forward(z));
      assert.notDeepEqual(rows(fresh.codebook), before, 'the first training batch places the codebook');
      tf.dispose(z);
      vq.dispose();
      fresh.dispose();
    });

    test('CodebookStats: cumulative counts, windowed perplexity and dead codes (hand-computed)', () => {
      const s = new CodebookStats(4, 2);
      assert.equal(s.deadCount(), 4);
      const b1 = s.update([0, 0, 1, 2]);
      near(b1.perplexity, 2 ** 1.5, 1e-12, 0, 'batch 1'); // p = (1/2, 1/4, 1/4)
      assert.equal(b1.usage, 0.75);
      s.update(tf.tensor1d([1, 1], 'int32'));
      assert.equal(s.last!.perplexity, 1);
      assert.deepEqual(Array.from(s.counts), [2, 3, 1, 0]);
      near(s.windowPerplexity(), Math.exp(-[2, 3, 1].reduce((h, c) => h + (c / 6) * Math.log(c / 6), 0)), 1e-12, 0, 'window 1–2');
      assert.equal(s.deadCount(), 1);
      s.update([3]); // the window now holds batches 2 and 3: counts [0, 2, 0, 1]
      assert.deepEqual(Array.from(s.windowCounts), [0, 2, 0, 1]);
      assert.equal(s.deadCount(), 2);
      near(s.windowPerplexity(), Math.exp(-((2 / 3) * Math.log(2 / 3) + (1 / 3) * Math.log(1 / 3))), 1e-12, 0, 'window 2–3');
      assert.equal(s.windowUsage(), 0.5);
      assert.deepEqual(Array.from(s.counts), [2, 3, 1, 1]);
      assert.deepEqual(s.history.length, 3);
      assert.equal(s.vectors, 7);
      assert.match(s.summary(), /batches 3 \| perplexity 1\.9 \(last 2\) \| used 2\/4 \| dead 2 \| restarts 0/);
      assert.throws(() => s.update([4]), /indices must be integers in \[0, 3\], got 4/);
      s.reset();
      assert.equal(s.batches, 0);
      assert.equal(perplexityOf([5, 5, 0, 5, 5]), 4);
      assert.throws(() => new CodebookStats(0), /CodebookStats: codebookSize must be an integer in \[1, 16777216\], got 0/);
    });

    test('VectorQuantizer.stats follows training-mode forwards', () => {
      const vq = new VectorQuantizer({ codebookSize: 5, dim: 3, seed: 1 });
      const cb = cbdata(5, 3);
      vq.codebook.assign(cb);
      const z = zdata(12, 3);
      const out = vq.forward(z);
      near(vq.stats.last!.perplexity, num(out.perplexity), 1e-5, 1e-5, 'stats vs tensor perplexity');
      assert.equal(vq.stats.last!.usage, num(out.usage));
      assert.equal(vq.stats.batches, 1);
      tf.dispose(vq.forward(z, { training: false }));
      assert.equal(vq.stats.batches, 1, 'evaluation forwards are not recorded');
      tf.dispose([cb, z, out]);
      vq.dispose();
    });
  });
}
