/**
 * VectorQuantizer: hand-computed cases, independent reference values, straight-through and
 * entropy gradients, determinism, leaks and argument errors — on the wasm and cpu backends.
 */
import { describe, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_AND_CPU } from './support/backend';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { VectorQuantizer } from '../lib/quantizer/index';
import { near, num, vals } from './support/numeric';

/** |a − e| ≤ atol + rtol·|e| elementwise. */
/** Exact equality by ===, under which −0 and +0 are the same number (adding a zero gradient turns −0 into +0). */
function same(actual: number[], expected: number[], what: string): void {
  assert.equal(actual.length, expected.length, what);
  actual.forEach((x, i) => assert.ok(x === expected[i], `${what}[${i}]: ${x} !== ${expected[i]}`));
}

/** The data of /tmp reference script (see below): z[i][j] = s·sin(a·i + b·j + off), e[k][j] = 0.5·cos(0.9k − 0.4j). */
function zdata(n: number, d: number, a = 1.3, b = 0.7, s = 1, off = 0): tf.Tensor2D {
  return tf.tensor2d(Array.from({ length: n }, (_, i) => Array.from({ length: d }, (_, j) => s * Math.sin(a * i + b * j + off))));
}
function cbdata(k: number, d: number): tf.Tensor2D {
  return tf.tensor2d(Array.from({ length: k }, (_, i) => Array.from({ length: d }, (_, j) => 0.5 * Math.cos(0.9 * i - 0.4 * j))));
}

/** Hand case: e0 = (0,0), e1 = (1,0), e2 = (0,2), e3 = (5,5) (never chosen). */
const HAND_CB = [[0, 0], [1, 0], [0, 2], [5, 5]];
const HAND_Z = [[[0.9, 0.1], [0.1, 1.5]], [[0.2, -0.1], [-0.1, 0.2]]]; // [2, 2, 2]

function handVQ(extra: object = {}): VectorQuantizer {
  const vq = new VectorQuantizer({ codebookSize: 4, dim: 2, seed: 0, ...extra });
  vq.codebook.assign(tf.tensor2d(HAND_CB));
  return vq;
}

for (const backend of TEST_AND_CPU) {
  describe(`VectorQuantizer on ${backend}`, () => {
    before(async () => {
      await initBackend(backend, { quiet: true });
      assert.equal(tf.getBackend(), backend === 'node' || backend === 'node-gpu' ? 'tensorflow' : backend);
    });

    test('hand-computed distances, indices, losses, perplexity and usage', () => {
      const vq = handVQ();
      const z = tf.tensor3d(HAND_Z);
      const out = vq.forward(z);
      // squared distances to the nearest code: 0.02 (z0→e1), 0.26 (z1→e2), 0.05 (z2→e0), 0.05 (z3→e0)
      assert.deepEqual(out.indices.shape, [2, 2]);
      assert.equal(out.indices.dtype, 'int32');
      assert.deepEqual(vals(out.indices), [1, 2, 0, 0]);
      assert.deepEqual(out.quantized.shape, [2, 2, 2]);
      assert.deepEqual(vals(out.quantized), [1, 0, 0, 2, 0, 0, 0, 0]); // exactly the codes
      near(num(out.commitLoss), (0.02 + 0.26 + 0.05 + 0.05) / 8, 1e-7, 1e-5, 'commit'); // mean over N·dim = 8
      near(num(out.codebookLoss), 0.0475, 1e-7, 1e-5, 'codebook');
      near(num(out.loss), 0.0475 * 1.25, 1e-7, 1e-5, 'loss'); // codebook + 0.25·commit, entropyWeight 0
      near(num(out.perplexity), 2 ** 1.5, 1e-6, 1e-5, 'perplexity'); // p = (1/2, 1/4, 1/4, 0): exp(1.5 ln 2)
      near(num(out.usage), 0.75, 0, 0, 'usage'); // 3 of 4 codes
      // entropy term: p̄ = mean softmax(−d), d computed by hand from the four codes.
      const d = HAND_Z.flat().map(([x, y]) => HAND_CB.map(([a, b]) => (x - a) ** 2 + (y - b) ** 2));
      const soft = d.map((r) => { const m = r.map((v) => Math.exp(-v)); const s = m.reduce((p, q) => p + q); return m.map((v) => v / s); });
      const pbar = [0, 1, 2, 3].map((k) => soft.reduce((s, r) => s + r[k], 0) / 4);
      near(num(out.entropyLoss), pbar.reduce((s, p) => s + p * Math.log(p + 1e-10), 0), 1e-6, 1e-5, 'entropy');
      tf.dispose([out, z]);
      vq.dispose();
    });

    test("entropy forms: 'batch' is −H(p̄), 'sample-and-batch' adds mean H(p_n); codebookWeight scales the codebook loss", () => {
      const z = tf.tensor3d(HAND_Z);
      const d = HAND_Z.flat().map(([x, y]) => HAND_CB.map(([a, b]) => (x - a) ** 2 + (y - b) ** 2));
      const soft = d.map((r) => { const m = r.map((v) => Math.exp(-v)); const s = m.reduce((p, q) => p + q); return m.map((v) => v / s); });
      const pbar = [0, 1, 2, 3].map((k) => soft.reduce((s, r) => s + r[k], 0) / 4);
      const hBatch = -pbar.reduce((s, p) => s + p * Math.log(p), 0);
      const hSample = soft.reduce((s, r) => s - r.reduce((t, p) => t + p * Math.log(p), 0), 0) / 4;
      const batch = handVQ({ entropyWeight: 0.5 });
      const both = handVQ({ entropyWeight: 0.5, entropyForm: 'sample-and-batch', codebookWeight: 0 });
      const ob = batch.forward(z, { training: false });
      const os = both.forward(z, { training: false });
      const ents = batch.softAssignmentEntropies(z);
      near([ents.batch, ents.sample], [hBatch, hSample], 1e-6, 1e-5, 'softAssignmentEntropies');
      near(num(ob.entropyLoss), -hBatch, 1e-6, 1e-5, 'batch form');
      near(num(os.entropyLoss), hSample - hBatch, 1e-6, 1e-5, 'sample-and-batch form');
      near(num(ob.loss), 0.0475 * 1.25 - 0.5 * hBatch, 1e-6, 1e-5, 'loss, batch form');
      near(num(os.loss), 0.0475 * 0.25 + 0.5 * (hSample - hBatch), 1e-6, 1e-5, 'loss without the codebook term');
      // codebookWeight 0: the codebook's gradient comes from the entropy term alone
      const noCb = handVQ({ codebookWeight: 0 });
      const g0 = tf.tidy(() => vals(tf.variableGrads(() => noCb.forward(z, { training: false }).loss, [noCb.codebook]).grads[noCb.codebook.name]));
      assert.ok(g0.every((v) => v === 0), 'no codebook loss, no entropy term: no codebook gradient');
      noCb.dispose();
      assert.throws(() => handVQ({ entropyForm: 'sample' }), /entropyForm must be one of/);
      assert.throws(() => handVQ({ codebookWeight: -1 }), /codebookWeight/);
      tf.dispose([z, ob, os]);
      batch.dispose();
      both.dispose();
    });

    test('matches float64 numpy reference values of the ginka-generator VectorQuantizer (euclidean and cosine)', () => {
      // Reference: numpy float64 re-implementation of ginka-generator's VectorQuantizer (github.com/unanmed/ginka-generator) (distances, argmin, mse, softmax
      // entropy with 1e-10, Sonnet perplexity) on zdata(12, 3) and cbdata(5, 3).
      const refIdx = [1, 0, 4, 4, 3, 1, 0, 4, 4, 2, 1, 0];
      const cases = [
        { distance: 'euclidean' as const, T: 1, commit: 0.1701778750700791, ent: -1.600091275061245, loss: 0.052713216331474355 },
        { distance: 'euclidean' as const, T: 0.7, commit: 0.1701778750700791, ent: -1.5914599740694366, loss: 0.053576346430655175 },
        { distance: 'cosine' as const, T: 1, commit: 0.11003910548399858, ent: -1.6001758373653112, loss: -0.02246870188153291 },
      ];
      for (const c of cases) {
        const vq = new VectorQuantizer({ codebookSize: 5, dim: 3, distance: c.distance, entropyTemperature: c.T, entropyWeight: 0.1, seed: 1 });
        const cb = cbdata(5, 3);
        vq.codebook.assign(cb);
        const z = zdata(12, 3);
        const out = vq.forward(z);
        const tag = `${c.distance} T=${c.T}`;
        assert.deepEqual(vals(out.indices), refIdx, tag);
        near(num(out.commitLoss), c.commit, 1e-6, 1e-5, `${tag} commit`);
        near(num(out.entropyLoss), c.ent, 1e-6, 1e-5, `${tag} entropy`);
        near(num(out.loss), c.loss, 1e-6, 1e-4, `${tag} loss`);
        near(num(out.perplexity), 4.364494541704638, 1e-6, 1e-5, `${tag} perplexity`);
        near(num(out.usage), 1, 0, 0, `${tag} usage`);
        tf.dispose([out, z, cb]);
        vq.dispose();
      }
    });

    test('straight-through: dL/dz equals the upstream gradient exactly, the codebook gets none (the STE gradient check of a VQ-VAE study page)', () => {
      const vq = handVQ();
      const z = tf.tensor3d(HAND_Z);
      const w = tf.tensor3d([[[1, -2], [3, 0.5]], [[-1, 4], [2, -3]]]);
      const f = (q: tf.Tensor) => tf.sum(tf.mul(tf.square(q), w)) as tf.Scalar;
      const gz = tf.grad((x: tf.Tensor) => f(vq.forward(x, { training: false }).quantized))(z);
      const q = tf.tidy(() => vq.forward(z, { training: false }).quantized);
      const upstream = tf.grad(f)(q);
      same(vals(gz), vals(upstream), 'dL/dz vs upstream'); // exactly equal: that check's allclose, at zero tolerance
      const { grads } = tf.variableGrads(() => f(vq.forward(z, { training: false }).quantized), [vq.codebook]);
      same(vals(grads[vq.codebook.name]), new Array(8).fill(0), 'codebook grad');
      tf.dispose([z, w, gz, q, upstream, grads]);
      vq.dispose();
    });

    test('commit loss trains only z, codebook loss trains only the codebook (hand-computed gradients)', () => {
      const vq = handVQ();
      const z = tf.tensor3d(HAND_Z);
      const zFlat = HAND_Z.flat();
      const zq = [[1, 0], [0, 2], [0, 0], [0, 0]];
      const commit = tf.variableGrads(() => vq.forward(z, { training: false }).commitLoss, [vq.codebook]);
      same(vals(commit.grads[vq.codebook.name]), new Array(8).fill(0), 'commit → codebook');
      const gz = tf.grad((x: tf.Tensor) => vq.forward(x, { training: false }).commitLoss)(z);
      near(vals(gz), zFlat.flatMap((r, n) => r.map((v, j) => (2 * (v - zq[n][j])) / 8)), 1e-7, 1e-5, 'd commit / dz');
      const gzc = tf.grad((x: tf.Tensor) => vq.forward(x, { training: false }).codebookLoss)(z);
      same(vals(gzc), new Array(8).fill(0), 'codebook loss → z');
      const cbk = tf.variableGrads(() => vq.forward(z, { training: false }).codebookLoss, [vq.codebook]);
      // d/de_k mean((z − e_idx)²) = Σ_{n: idx_n = k} 2(e_k − z_n) / 8
      const expected = [[0, 0], [0, 0], [0, 0], [0, 0]];
      [1, 2, 0, 0].forEach((k, n) => zq[n].forEach((v, j) => (expected[k][j] += (2 * (v - zFlat[n][j])) / 8)));
      near(vals(cbk.grads[vq.codebook.name]), expected.flat(), 1e-7, 1e-5, 'd codebook / de');
      tf.dispose([z, gz, gzc, commit.grads, cbk.grads, commit.value, cbk.value]);
      vq.dispose();
    });

    test('entropy term gradient matches central finite differences (z and codebook)', () => {
      // float32 central differences with h = 1e-2; truncation error O(h²·f''') and rounding
      // ~1e-7/h keep agreement within |g − fd| ≤ 2e-3 + 2e-2·|fd|.
      const vq = new VectorQuantizer({ codebookSize: 4, dim: 3, entropyTemperature: 0.5, seed: 3 });
      const cb = tf.tensor2d([[0.3, -0.2, 0.1], [-0.4, 0.5, 0.2], [0.1, 0.1, -0.6], [0.6, 0.3, 0.4]]);
      vq.codebook.assign(cb);
      const zArr = [[0.2, 0.1, -0.3], [-0.5, 0.4, 0.3], [0.7, 0.2, 0.5], [0.0, -0.1, -0.4], [0.3, 0.3, 0.3]];
      const H = (zz: number[][], e?: number[][]): number => tf.tidy(() => {
        if (e) vq.codebook.assign(tf.tensor2d(e));
        const v = num(vq.forward(tf.tensor2d(zz), { training: false }).entropyLoss);
        vq.codebook.assign(cb);
        return v;
      });
      const z = tf.tensor2d(zArr);
      const gz = vals(tf.tidy(() => tf.grad((x: tf.Tensor) => vq.forward(x, { training: false }).entropyLoss)(z)));
      const ge = tf.tidy(() => vals(tf.variableGrads(() => vq.forward(z, { training: false }).entropyLoss, [vq.codebook]).grads[vq.codebook.name]));
      const h = 1e-2;
      const fd = (arr: number[][], i: number, j: number, f: (a: number[][]) => number) => {
        const p = arr.map((r) => [...r]); p[i][j] += h;
        const m = arr.map((r) => [...r]); m[i][j] -= h;
        return (f(p) - f(m)) / (2 * h);
      };
      const cbArr = cb.arraySync();
      let maxAbs = 0;
      zArr.forEach((r, i) => r.forEach((_, j) => {
        const want = fd(zArr, i, j, (a) => H(a));
        near(gz[i * 3 + j], want, 2e-3, 2e-2, `dH/dz[${i},${j}]`);
        maxAbs = Math.max(maxAbs, Math.abs(want));
      }));
      cbArr.forEach((r, k) => r.forEach((_, j) => near(ge[k * 3 + j], fd(cbArr, k, j, (e) => H(zArr, e)), 2e-3, 2e-2, `dH/de[${k},${j}]`)));
      assert.ok(maxAbs > 1e-2, 'the check must not be vacuous: some gradient is well above tolerance');
      tf.dispose([z, cb]);
      vq.dispose();
    });

    test('encode / decode / quantize agree with forward and have no side effects', () => {
      const vq = handVQ({ distance: 'euclidean' });
      const z = tf.tensor3d(HAND_Z);
      const before = vals(vq.codebook);
      const idx = vq.encode(z);
      assert.deepEqual(idx.shape, [2, 2]);
      assert.deepEqual(vals(idx), [1, 2, 0, 0]);
      const dec = vq.decode(idx);
      assert.deepEqual(dec.shape, [2, 2, 2]);
      assert.deepEqual(vals(dec), [1, 0, 0, 2, 0, 0, 0, 0]);
      const dec2 = vq.decode([[3, 1]]);
      assert.deepEqual(dec2.shape, [1, 2, 2]);
      assert.deepEqual(vals(dec2), [5, 5, 1, 0]);
      const q = vq.quantize(z);
      assert.deepEqual(vals(q), vals(dec));
      assert.deepEqual(vals(vq.codebook), before);
      assert.equal(vq.stats.batches, 0, 'encode/decode/quantize record no stats');
      tf.dispose([z, idx, dec, dec2, q]);
      vq.dispose();
    });

    test('cosine distance compares directions and decodes unit vectors', () => {
      const vq = new VectorQuantizer({ codebookSize: 2, dim: 2, distance: 'cosine', seed: 0 });
      vq.codebook.assign(tf.tensor2d([[10, 0], [0, 0.1]]));
      const z = tf.tensor2d([[0.1, 0.2], [3, 1]]); // directions closer to e1 and e0; euclidean would say e1, e1
      const out = vq.forward(z);
      assert.deepEqual(vals(out.indices), [1, 0]);
      near(vals(out.quantized), [0, 1, 1, 0], 1e-6, 0, 'unit codes');
      // commit = mean((ẑ − ê)²) with ẑ = z/|z|: hand value
      const n0 = Math.hypot(0.1, 0.2), n1 = Math.hypot(3, 1);
      const want = ((0.1 / n0) ** 2 + (0.2 / n0 - 1) ** 2 + (3 / n1 - 1) ** 2 + (1 / n1) ** 2) / 4;
      near(num(out.commitLoss), want, 1e-6, 1e-5, 'cosine commit');
      tf.dispose([out, z]);
      vq.dispose();
    });

    test('deterministic under a seed: same init, same indices; another seed differs', () => {
      for (const init of ['uniform', 'normal', 'kmeans'] as const) {
        const z = zdata(40, 4, 0.77, 1.9);
        const a = new VectorQuantizer({ codebookSize: 8, dim: 4, init, seed: 42 });
        const b = new VectorQuantizer({ codebookSize: 8, dim: 4, init, seed: 42 });
        const c = new VectorQuantizer({ codebookSize: 8, dim: 4, init, seed: 43 });
        if (init !== 'kmeans') assert.deepEqual(vals(a.codebook), vals(b.codebook), `${init} init`);
        const oa = a.forward(z), ob = b.forward(z), oc = c.forward(z);
        assert.deepEqual(vals(a.codebook), vals(b.codebook), `${init} codebook after first batch`);
        assert.deepEqual(vals(oa.indices), vals(ob.indices), `${init} indices`);
        assert.notDeepEqual(vals(a.codebook), vals(c.codebook), `${init}: seed 43 differs`);
        if (init === 'uniform') assert.ok(vals(a.codebook).every((v) => Math.abs(v) <= 1 / 8), 'U(−1/K, 1/K)');
        tf.dispose([z, oa, ob, oc]);
        [a, b, c].forEach((v) => v.dispose());
      }
    });

    test('no leaks: forward + dispose, forward inside tidy/variableGrads, encode/decode', () => {
      const vq = new VectorQuantizer({ codebookSize: 8, dim: 3, entropyWeight: 0.1, ema: {}, deadCodeThreshold: 0.5, seed: 5 });
      const z = zdata(10, 3);
      const n0 = tf.memory().numTensors;
      const out = vq.forward(z);
      tf.dispose(out);
      assert.equal(tf.memory().numTensors, n0, 'forward + dispose(outputs)');
      const zv = tf.variable(z);
      const n1 = tf.memory().numTensors;
      tf.tidy(() => {
        tf.variableGrads(() => {
          const o = vq.forward(zv);
          return tf.add(o.loss, tf.sum(o.quantized)) as tf.Scalar;
        }, [zv]);
      });
      assert.equal(tf.memory().numTensors, n1, 'variableGrads in tidy');
      zv.dispose();
      const idx = vq.encode(z);
      tf.dispose([idx, vq.decode(idx), vq.quantize(z)]);
      assert.equal(tf.memory().numTensors, n0, 'encode/decode/quantize');
      z.dispose();
      const n2 = tf.memory().numTensors;
      vq.dispose();
      assert.ok(tf.memory().numTensors < n2, 'dispose frees the variables');
      assert.throws(() => vq.encode(tf.zeros([1, 3])), /after dispose/);
    });

    test('100 Adam steps leave tf.memory().numTensors constant (gradient codebook and EMA + restarts)', () => {
      for (const extra of [{}, { ema: { decay: 0.9 }, deadCodeThreshold: 0.2, entropyWeight: 0.05 }]) {
        const vq = new VectorQuantizer({ codebookSize: 16, dim: 4, seed: 9, ...extra });
        const x = zdata(32, 4, 0.37, 1.1);
        const enc = tf.variable(tf.eye(4).mul(0.5));
        const opt = tf.train.adam(0.01);
        const step = () => {
          const cost = opt.minimize(() => {
            const out = vq.forward(tf.matMul(x, enc));
            const recon = tf.mean(tf.square(tf.sub(tf.matMul(out.quantized, enc, false, true), x)));
            return tf.add(recon, out.loss) as tf.Scalar;
          }, true, [enc, ...vq.trainableVariables()])!;
          const v = num(cost);
          cost.dispose();
          return v;
        };
        const first = step(); // creates Adam's slots
        const n0 = tf.memory().numTensors;
        let last = first;
        for (let i = 0; i < 100; i++) last = step();
        assert.equal(tf.memory().numTensors, n0, `numTensors after 100 steps (${JSON.stringify(extra)})`);
        assert.ok(Number.isFinite(last) && last < first, `loss decreases: ${first} → ${last}`);
        assert.equal(vq.stats.batches, 101);
        opt.dispose();
        tf.dispose([x, enc]);
        vq.dispose();
      }
    });

    test('bad input: clear errors naming the argument, before any tensor work', () => {
      const n0 = tf.memory().numTensors;
      const bad: Array<[() => unknown, RegExp]> = [
        [() => new VectorQuantizer({ codebookSize: 0, dim: 2 }), /VectorQuantizer: codebookSize must be an integer in \[2, 16777216\], got 0/],
        [() => new VectorQuantizer({ codebookSize: 2.5, dim: 2 }), /codebookSize must be an integer/],
        [() => new VectorQuantizer({ codebookSize: 4, dim: 0 }), /dim must be an integer >= 1/],
        [() => new VectorQuantizer({ codebookSize: 4, dim: 2, commitmentWieght: 1 } as never), /unknown option 'commitmentWieght' \(did you mean 'commitmentWeight'\?\)/],
        [() => new VectorQuantizer({ codebookSize: 4, dim: 2, ema: { decay: 1 } }), /ema.decay must be a finite number in \[0, 1\)/],
        [() => new VectorQuantizer({ codebookSize: 4, dim: 2, ema: { decy: 0.9 } as never }), /unknown option 'decy' \(did you mean 'decay'\?\)/],
        [() => new VectorQuantizer({ codebookSize: 4, dim: 2, init: 'kmean' as never }), /init must be one of 'uniform', 'normal', 'kmeans'/],
        [() => new VectorQuantizer({ codebookSize: 4, dim: 2, distance: 'l1' as never }), /distance must be one of/],
        [() => new VectorQuantizer({ codebookSize: 4, dim: 2, deadCodeThreshold: 0 }), /deadCodeThreshold must be a finite number > 0/],
        [() => new VectorQuantizer({ codebookSize: 4, dim: 2, entropyTemperature: 0 }), /entropyTemperature must be a finite number > 0, got 0/],
        [() => new VectorQuantizer(undefined as never), /options must be an object/],
      ];
      for (const [f, re] of bad) assert.throws(f, re);
      assert.equal(tf.memory().numTensors, n0, 'constructor checks run before any tensor is made');
      const vq = new VectorQuantizer({ codebookSize: 4, dim: 3, seed: 0 });
      const wrong = tf.zeros([2, 4]);
      const nan = tf.tensor2d([[0, NaN, 1]]);
      const inf = tf.tensor2d([[0, Infinity, 1]]);
      const ints = tf.zeros([2, 3], 'int32');
      const empty = tf.zeros([0, 3]);
      const one = tf.zeros([1, 3]);
      const n1 = tf.memory().numTensors;
      assert.throws(() => vq.forward(wrong), /forward\(z\) must have shape \[\.\.\., 3\] \(last axis = dim = 3\), got shape \[2, 4\]/);
      assert.throws(() => vq.forward([[1, 2, 3]] as never), /forward\(z\) must be a tf.Tensor/);
      assert.throws(() => vq.forward(ints), /forward\(z\) must be a float32 tensor/);
      assert.throws(() => vq.forward(nan), /forward\(z\) must be finite/);
      assert.throws(() => vq.forward(inf), /forward\(z\) must be finite/);
      assert.throws(() => vq.forward(empty), /at least one vector/);
      assert.throws(() => vq.forward(one, { train: true } as never), /unknown option 'train' \(did you mean 'training'\?\)/);
      assert.throws(() => vq.encode(wrong), /encode\(z\) must have shape/);
      assert.throws(() => vq.decode([0, 4]), /decode\(indices\) must hold integers in \[0, 3\], found 4/);
      assert.throws(() => vq.decode([1.5]), /decode\(indices\) must hold integers in \[0, 3\], found 1.5/);
      assert.throws(() => vq.decode([-1]), /decode\(indices\)/);
      assert.equal(tf.memory().numTensors, n1, 'failed calls leave nothing behind');
      vq.checkFinite = false; // switchable off for speed
      tf.dispose(vq.forward(nan, { training: false }));
      tf.dispose([wrong, nan, inf, ints, empty, one]);
      vq.dispose();
    });
  });
}
