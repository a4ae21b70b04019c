/**
 * FSQ (Mentzer et al. 2023; lucidrains' vector-quantize-pytorch): bound and quantize values for odd and even L, the
 * codes ↔ indices bijection over every recommended level set, straight-through gradient,
 * projections, numCodebooks, stats, leaks and argument errors — on wasm and cpu.
 */
import { describe, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_AND_CPU } from './support/backend';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { FSQ, roundSte } from '../lib/quantizer/index';
import { near, num, vals } from './support/numeric';

/** Exact equality by === (round(−0.3) is −0, which equals 0). */
function same(actual: number[], expected: number[], what = ''): void {
  assert.equal(actual.length, expected.length, what);
  actual.forEach((x, i) => assert.ok(x === expected[i], `${what}[${i}]: ${x} !== ${expected[i]}`));
}

const RECOMMENDED: Array<[number, number[]]> = [
  [256, [8, 6, 5]], [1024, [8, 5, 5, 5]], [4096, [7, 5, 5, 5, 5]], [16384, [8, 8, 8, 6, 5]], [65536, [8, 8, 8, 5, 5, 5]],
];

for (const backend of TEST_AND_CPU) {
  describe(`FSQ on ${backend}`, () => {
    before(async () => {
      await initBackend(backend, { quiet: true });
      assert.equal(tf.getBackend(), backend === 'node' || backend === 'node-gpu' ? 'tensorflow' : backend);
    });

    test('bound: hand values for odd and even L, bound(0) = 0', () => {
      const fsq = new FSQ({ levels: [3, 4, 5, 8] });
      const z = tf.tensor2d([[0, 0, 0, 0], [0.5, 0.5, 0.5, 0.5], [-1, -1, -1, -1]]);
      const b = fsq.bound(z);
      // half_l = (L−1)(1.001)/2 = 1.001, 1.5015, 2.002, 3.5035; offset = 0, .5, 0, .5; shift = atanh(offset/half_l)
      const hl = [1.001, 1.5015, 2.002, 3.5035], off = [0, 0.5, 0, 0.5];
      const want = [0, 0.5, -1].flatMap((v) => hl.map((h, i) => Math.tanh(v + Math.atanh(off[i] / h)) * h - off[i]));
      near(vals(b), want, 1e-6, 1e-5, 'bound');
      near(vals(b).slice(0, 4), [0, 0, 0, 0], 1e-6, 0, 'bound(0)');
      tf.dispose([z, b]);
      fsq.dispose();
    });

    test('quantize: extremes per L, and exactly L distinct codes over a sweep (L = 3 … 8)', () => {
      const fsq = new FSQ({ levels: [3, 4, 5, 8] });
      const z = tf.tensor2d([[-10, -10, -10, -10], [0, 0, 0, 0], [10, 10, 10, 10]]);
      const q = fsq.quantize(z);
      // even L reaches −1 … (L/2 − 1)/(L/2): round(±half_l − offset) = −L/2 … L/2 − 1
      same(vals(q), [-1, -1, -1, -1, 0, 0, 0, 0, 1, 0.5, 1, 0.75], 'extremes');
      tf.dispose([z, q]);
      fsq.dispose();
      const levels = [3, 4, 5, 6, 7, 8];
      const sweep = new FSQ({ levels });
      const grid = tf.tidy(() => tf.tile(tf.reshape(tf.linspace(-6, 6, 2001), [-1, 1]), [1, levels.length]));
      const codes = sweep.quantize(grid).arraySync() as number[][];
      levels.forEach((L, i) => {
        const distinct = [...new Set(codes.map((r) => r[i] + 0))].sort((a, b) => a - b); // + 0: −0 → 0
        const hw = Math.floor(L / 2);
        const expected = Array.from({ length: L }, (_, d) => Math.fround((d - hw) / hw));
        assert.deepEqual(distinct, expected, `L = ${L}`);
      });
      grid.dispose();
      sweep.dispose();
    });

    test('bound / quantize / indices match a float64 numpy reference of the vector-quantize-pytorch FSQ', () => {
      // Reference: numpy float64 re-implementation of vector-quantize-pytorch's bound, quantize (np.round is half
      // to even like torch.round) and codes_to_indices, levels [8, 5, 4, 3], z[i][j] = 2.5·sin(1.3i + 0.7j).
      const fsq = new FSQ({ levels: [8, 5, 4, 3] });
      const z = tf.tensor2d(Array.from({ length: 6 }, (_, i) => Array.from({ length: 4 }, (_, j) => 2.5 * Math.sin(1.3 * i + 0.7 * j))));
      const bound = [0, 1.8483273023, 0.9906506949, 0.9746204016, 2.9612570963, 1.9599855567, 0.8340485806, -0.5646820186,
        2.6257082584, -0.7509832066, -1.8710062001, -0.9875958045, -3.7159707538, -1.9743489333, -1.9107822407, -0.6040428813,
        -3.892578186, -1.4670131749, 0.715192713, 0.9729051561, 1.5757909976, 1.9277096181, 0.9913560378, 0.9513594323];
      const codes = [0, 1, 0.5, 1, 0.75, 1, 0.5, -1, 0.75, -0.5, -1, -1, -1, -1, -1, -1, -1, -0.5, 0.5, 1, 0.5, 1, 0.5, 1];
      const b = fsq.bound(z), q = fsq.quantize(z), idx = fsq.codesToIndices(q);
      near(vals(b), bound, 1e-5, 1e-5, 'bound');
      same(vals(q), codes, 'codes');
      assert.equal(idx.dtype, 'int32');
      assert.deepEqual(vals(idx), [476, 159, 15, 0, 448, 478]);
      const out = fsq.forward(z);
      assert.deepEqual(vals(out.indices), [476, 159, 15, 0, 448, 478]);
      same(vals(out.quantized), codes, 'no projections: quantized = codes');
      tf.dispose([z, b, q, idx, out]);
      fsq.dispose();
    });

    test('levelsFor below 2^8: exact powers of two, at most 8 levels, fewest channels, even bits', () => {
      const want: Record<number, number[]> = { 4: [4], 8: [8], 16: [4, 4], 32: [8, 4], 64: [8, 8], 128: [8, 4, 4] };
      for (const [size, levels] of Object.entries(want)) {
        const got = FSQ.levelsFor(Number(size));
        assert.deepEqual(got, levels, `levelsFor(${size})`);
        assert.equal(got.reduce((a, b) => a * b, 1), Number(size));
      }
      const a = FSQ.levelsFor(32);
      a.push(99);
      assert.deepEqual(FSQ.levelsFor(32), [8, 4], 'returns a copy');
      for (const size of [2, 4, 8, 16, 32, 64, 128, 256, 1024, 4096, 16384, 65536]) {
        let got: number[] = [];
        try { got = FSQ.levelsFor(size); } catch { continue; }
        assert.ok(got.every((L) => L >= 3), `levelsFor(${size}) = [${got}] has no degenerate 2-level channel`);
      }
      assert.throws(() => FSQ.levelsFor(2), /levelsFor\(2\).*stuck.*bound: 'symmetric'/);
    });

    test("the paper's bound leaves L = 2 stuck; it is refused, and bound 'symmetric' makes 2 and 4 levels work", () => {
      // Paper bound for L = 2: 0.5005·tanh(z + atanh(0.5/0.5005)) − 0.5 < −0.5 only for z < −atanh(0.999) ≈ −3.8.
      assert.ok(Math.atanh(0.5 / 0.5005) > 3.7 && Math.atanh(0.5 / 0.5005) < 3.9);
      assert.throws(() => new FSQ({ levels: [8, 2] }), /levels must be integers >= 3, or >= 2 with bound: 'symmetric', got \[8, 2\].*stuck/);
      assert.throws(() => new FSQ({ levels: [4], bound: 'round' as never }), /bound must be one of/);
      const n0 = tf.memory().numTensors;
      const sym = new FSQ({ levels: [2, 4, 5], bound: 'symmetric' });
      assert.equal(sym.options.bound, 'symmetric');
      const grid = tf.tidy(() => tf.tile(tf.reshape(tf.linspace(-6, 6, 2001), [-1, 1]), [1, 3]));
      const codes = tf.tidy(() => sym.quantize(grid).arraySync() as number[][]);
      const want = [[-1, 1], [-1, -1 / 3, 1 / 3, 1], [-1, -0.5, 0, 0.5, 1]];
      want.forEach((w, i) => {
        const distinct = [...new Set(codes.map((r) => r[i] + 0))].sort((a, b) => a - b);
        near(distinct, w, 1e-6, 0, `symmetric L = ${[2, 4, 5][i]}`);
      });
      // symmetric about z = 0: q(−z) = −q(z), and L = 2 switches at z = 0
      const pm = tf.tensor2d([[-0.01, -0.01, -0.7], [0.01, 0.01, 0.7]]);
      const q = tf.tidy(() => vals(sym.quantize(pm)));
      near(q.slice(0, 3), q.slice(3).map((v) => -v), 1e-7, 0, 'odd symmetry');
      assert.equal(q[0], -1); assert.equal(q[3], 1);
      // indices ↔ codes still an exact bijection
      const cb = sym.implicitCodebook();
      const idx = sym.codesToIndices(cb);
      assert.deepEqual(vals(idx), Array.from({ length: 40 }, (_, i) => i));
      const back = sym.indicesToCodes(idx);
      assert.ok(tf.tidy(() => tf.all(tf.equal(back, cb)).dataSync()[0]));
      // straight-through gradient = slope of bound / halfWidth = sech²(z)
      const g = tf.tidy(() => vals(tf.grad((z: tf.Tensor) => tf.sum(sym.quantize(z)))(pm)));
      near(g, [-0.01, -0.01, -0.7, 0.01, 0.01, 0.7].map((z) => 1 / Math.cosh(z) ** 2), 1e-5, 1e-5, 'ste gradient');
      tf.dispose([grid, pm, cb, idx, back]);
      sym.dispose();
      assert.equal(tf.memory().numTensors, n0);
    });

    test('codes ↔ indices are exact inverses over the whole codebook, every recommended level set', () => {
      for (const [size, levels] of RECOMMENDED) {
        assert.deepEqual(FSQ.levelsFor(size), levels);
        const fsq = new FSQ({ levels });
        const K = levels.reduce((a, b) => a * b, 1);
        assert.equal(fsq.codebookSize, K);
        const cb = fsq.implicitCodebook();
        assert.deepEqual(cb.shape, [K, levels.length]);
        const idx = fsq.codesToIndices(cb);
        const got = idx.dataSync();
        for (let i = 0; i < K; i++) if (got[i] !== i) assert.fail(`levels ${levels}: index ${i} ↦ code ↦ ${got[i]}`);
        // implicit codebook rows in index order: digit_j = ⌊i / basis_j⌋ mod L_j (mixed radix, first channel fastest)
        const basis = levels.map((_, j) => levels.slice(0, j).reduce((a, b) => a * b, 1));
        const c = cb.dataSync();
        for (const i of [0, 1, 2, K - 2, K - 1, Math.floor(K / 3)]) {
          const want = levels.map((L, j) => { const hw = Math.floor(L / 2); return (Math.floor(i / basis[j]) % L - hw) / hw; });
          near(Array.from(c.slice(i * levels.length, (i + 1) * levels.length)), want, 1e-7, 0, `levels ${levels} row ${i}`);
        }
        const back = fsq.indicesToCodes(idx);
        assert.ok(tf.tidy(() => tf.all(tf.equal(back, cb)).dataSync()[0]), `levels ${levels}: codes → indices → codes`);
        tf.dispose([cb, idx, back]);
        fsq.dispose();
      }
    });

    test('straight-through rounding: the upstream gradient passes exactly; quantize has the gradient of bound', () => {
      const x = tf.tensor1d([-1.7, -0.2, 0.49, 2.5, 3.51]);
      const w = tf.tensor1d([1, -2, 3, 0.5, -4]);
      const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(roundSte(v), w)))(x);
      assert.deepEqual(vals(g), vals(w));
      const fsq = new FSQ({ levels: [4, 5] });
      const z = tf.tensor2d([[0.3, -0.8], [-1.2, 0.1], [2, 0.6]]);
      const wz = tf.tensor2d([[1, 2], [-1, 0.5], [3, -2]]);
      const gz = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(fsq.quantize(v), wz)))(z);
      // d/dz [round_ste(tanh(z + shift)·half_l − offset) / hw] = w · half_l·(1 − tanh²(z + shift)) / hw
      const hl = [1.5015, 2.002], sh = [Math.atanh(0.5 / 1.5015), 0], hw = [2, 2];
      const want = (z.arraySync() as number[][]).flatMap((r, i) => r.map((v, j) =>
        ((wz.arraySync() as number[][])[i][j] * hl[j] * (1 - Math.tanh(v + sh[j]) ** 2)) / hw[j]));
      near(vals(gz), want, 1e-6, 1e-5, 'dq/dz');
      tf.dispose([x, w, g, z, wz, gz]);
      fsq.dispose();
    });

    test('projections in/out when dim ≠ levels·numCodebooks: shapes, gradients, decode, seed', () => {
      const fsq = new FSQ({ levels: [5, 5, 5], dim: 6, seed: 1 });
      assert.ok(fsq.projectIn && fsq.projectOut);
      assert.deepEqual(fsq.projectIn!.kernel.shape, [6, 3]);
      assert.deepEqual(fsq.projectOut!.kernel.shape, [3, 6]);
      const z = tf.tidy(() => tf.sin(tf.reshape(tf.range(0, 36), [2, 3, 6])));
      const out = fsq.forward(z);
      assert.deepEqual(out.quantized.shape, [2, 3, 6]);
      assert.deepEqual(out.indices.shape, [2, 3]);
      assert.deepEqual(out.codes.shape, [2, 3, 3]);
      const dec = fsq.decode(out.indices);
      near(vals(dec), vals(out.quantized), 1e-6, 1e-5, 'decode(indices) = quantized');
      const { grads } = tf.variableGrads(() => tf.sum(tf.square(fsq.forward(z, { training: false }).quantized)) as tf.Scalar, fsq.trainableVariables());
      assert.equal(Object.keys(grads).length, 4);
      for (const g of Object.values(grads)) assert.ok(num(tf.tidy(() => tf.sum(tf.abs(g)))) > 0, 'every projection variable gets a gradient');
      const twin = new FSQ({ levels: [5, 5, 5], dim: 6, seed: 1 });
      assert.deepEqual(vals(twin.projectIn!.kernel), vals(fsq.projectIn!.kernel), 'same seed, same projections');
      const s = 1 / Math.sqrt(6);
      assert.ok(vals(fsq.projectIn!.kernel).every((v) => Math.abs(v) <= s), 'U(±1/√fanIn) as torch.nn.Linear');
      tf.dispose([z, out, dec, grads]);
      fsq.dispose();
      twin.dispose();
    });

    test('numCodebooks = 2: indices [..., 2], decode(indices) = quantized', () => {
      const fsq = new FSQ({ levels: [4, 3], numCodebooks: 2 });
      assert.equal(fsq.dim, 4);
      assert.equal(fsq.projectIn, null);
      const z = tf.tensor2d([[0.3, -2, 5, 0.1], [-3, 0.4, -0.2, 1]]);
      const out = fsq.forward(z);
      assert.deepEqual(out.indices.shape, [2, 2]);
      // group codes: row 0 → (0, −1) and (0.5, 0); digits (2, 0), (3, 1); index = d0 + 4·d1 → 2, 7
      same(vals(out.quantized), [0, -1, 0.5, 0, -1, 0, 0, 1], 'quantized');
      assert.deepEqual(vals(out.indices), [2, 7, 4, 10]);
      const dec = fsq.decode(out.indices);
      same(vals(dec), vals(out.quantized), 'decode');
      assert.throws(() => fsq.decode([1, 2, 3]), /decode\(indices\) must have shape \[\.\.\., 2\]/);
      tf.dispose([z, out, dec]);
      fsq.dispose();
    });

    test('perplexity and usage (hand-computed), stats', () => {
      const fsq = new FSQ({ levels: [5] });
      const z = tf.tensor2d([[-10], [10], [10], [10]]);
      const out = fsq.forward(z);
      assert.deepEqual(vals(out.indices), [0, 4, 4, 4]);
      near(num(out.perplexity), Math.exp(-(0.25 * Math.log(0.25) + 0.75 * Math.log(0.75))), 1e-6, 1e-5, 'perplexity');
      near(num(out.usage), 2 / 5, 1e-7, 0, 'usage');
      assert.equal(fsq.stats.batches, 1);
      near(fsq.stats.last!.perplexity, num(out.perplexity), 1e-6, 1e-5, 'stats');
      tf.dispose([z, out]);
      fsq.dispose();
    });

    test('no leaks: forward + dispose, codebook maps, 100 Adam steps on the projections', () => {
      const fsq = new FSQ({ levels: [8, 5, 5, 5], dim: 8, seed: 4 });
      const z = tf.tidy(() => tf.cos(tf.reshape(tf.range(0, 64), [8, 8])));
      const n0 = tf.memory().numTensors;
      tf.dispose(fsq.forward(z));
      const cb = fsq.implicitCodebook();
      const some = tf.tensor1d([1, 2], 'int32');
      tf.dispose([cb, fsq.decode([3, 999]), fsq.indicesToCodes(some), some]);
      assert.equal(tf.memory().numTensors, n0);
      const opt = tf.train.adam(0.01);
      const step = () => {
        const cost = opt.minimize(() => {
          const out = fsq.forward(z);
          return tf.mean(tf.square(tf.sub(out.quantized, z))) as tf.Scalar;
        }, true)!;
        const v = num(cost);
        cost.dispose();
        return v;
      };
      const first = step();
      const n1 = tf.memory().numTensors;
      let last = first;
      for (let i = 0; i < 100; i++) last = step();
      assert.equal(tf.memory().numTensors, n1);
      assert.ok(last < first, `reconstruction improves: ${first} → ${last}`);
      opt.dispose();
      z.dispose();
      fsq.dispose();
    });

    test('bad input: clear errors naming the argument', () => {
      const n0 = tf.memory().numTensors;
      const bad: Array<[() => unknown, RegExp]> = [
        [() => new FSQ({ levels: [] }), /levels must be a non-empty array of integers >= 3, or >= 2 with bound: 'symmetric'.*got \[\]/],
        [() => new FSQ({ levels: [8, 1] }), /levels must be a non-empty array of integers >= 3, or >= 2 with bound: 'symmetric'.*got \[8, 1\]/],
        [() => new FSQ({ levels: [2.5, 3] }), /levels must be a non-empty array of integers >= 3, or >= 2 with bound: 'symmetric'/],
        [() => new FSQ({} as never), /FSQ: levels is required/],
        [() => new FSQ({ level: [8, 5] } as never), /unknown option 'level' \(did you mean 'levels'\?\)/],
        [() => new FSQ({ levels: [8, 5], numCodebooks: 0 }), /numCodebooks must be an integer >= 1, got 0/],
        [() => new FSQ({ levels: [8, 5], dim: -1 }), /dim must be an integer >= 1/],
        [() => FSQ.levelsFor(1000), /levelsFor\(targetSize\): expected 256, 1024, 4096, 16384 or 65536 .* or a power of two from 2 to 128, got 1000/],
        [() => FSQ.levelsFor(512), /got 512/],
        [() => FSQ.levelsFor(48), /got 48/],
        [() => FSQ.levelsFor(1), /got 1/],
        [() => FSQ.levelsFor(Number.NaN), /got NaN/],
      ];
      for (const [f, re] of bad) assert.throws(f, re);
      assert.equal(tf.memory().numTensors, n0);
      const fsq = new FSQ({ levels: [8, 5, 4, 3] });
      const wrong = tf.zeros([2, 3]);
      const nan = tf.tensor2d([[0, 1, NaN, 0]]);
      const n1 = tf.memory().numTensors;
      assert.throws(() => fsq.forward(wrong), /FSQ.forward\(z\) must have shape \[\.\.\., 4\] \(last axis = dim = 4\), got shape \[2, 3\]/);
      assert.throws(() => fsq.bound(wrong), /FSQ.bound\(z\) must have shape \[\.\.\., 4\]/);
      assert.throws(() => fsq.codesToIndices(wrong), /FSQ.codesToIndices\(codes\) must have shape/);
      assert.throws(() => fsq.forward(nan), /FSQ.forward\(z\) must be finite/);
      assert.throws(() => fsq.indicesToCodes([0, 480]), /indicesToCodes\(indices\) must hold integers in \[0, 479\], found 480/);
      assert.throws(() => fsq.indicesToCodes([2.5]), /indicesToCodes\(indices\) must hold integers in \[0, 479\], found 2.5/);
      assert.throws(() => fsq.indicesToCodes('7' as never), /indicesToCodes\(indices\) must be a tf.Tensor or an array of integers/);
      assert.equal(tf.memory().numTensors, n1, 'failed calls leave nothing behind');
      tf.dispose([wrong, nan]);
      fsq.dispose();
    });
  });
}
