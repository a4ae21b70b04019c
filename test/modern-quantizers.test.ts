/**
 * The modern quantizers: rotation trick, LFQ, SimVQ, ResidualVQ (VQ and FSQ stages).
 *
 * 1. Agreement with vector-quantize-pytorch on fixed inputs and weights: the numbers come from
 *    test/fixtures/vqpytorch-reference.json, written by bench/vqpytorch_reference.py (run once by
 *    hand with PyTorch; this test needs no Python). Objective there: sum(quantized·G) + aux loss.
 * 2. Behaviour: shapes, gradients (analytic and finite-difference), rotation = STE in value,
 *    LFQ indices ↔ bits, residual decoding from the first n stages, seeded quantizer dropout,
 *    SimVQ trains only W, option checks, leaks, dispose, the VQ-VAE accepting each one.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { LFQ, ResidualVQ, SimVQ, VectorQuantizer, rotateTo, rotationTransform } from '../lib/quantizer/index';
import { VQVAE } from '../lib/vqvae/index';
import { near, num, vals } from './support/numeric';
import { TEST_AND_CPU, TEST_BACKEND, useTestBackend } from './support/backend';

type J = { shape: number[]; data: number[] };
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const REF: any = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'test', 'fixtures', 'vqpytorch-reference.json'), 'utf8'));
const f32 = (j: J): tf.Tensor => tf.tensor(j.data, j.shape, 'float32');

/** Largest |actual − expected| per comparison, reported at the end (the report's "max abs diff"). */
const maxDiffs = new Map<string, number>();
function cmp(actual: tf.Tensor | number, expected: J | number, what: string, atol = 1e-5, rtol = 1e-5): void {
  const a = typeof actual === 'number' ? [actual] : vals(actual);
  const e = typeof expected === 'number' ? [expected] : expected.data;
  if (typeof actual !== 'number' && typeof expected !== 'number') assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  near(a, e, atol, rtol, what);
  const d = a.reduce((m, x, i) => Math.max(m, Math.abs(x - e[i]!)), 0);
  maxDiffs.set(what, Math.max(maxDiffs.get(what) ?? 0, d));
}
function sameInts(actual: tf.Tensor, expected: J, what: string): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  assert.deepEqual(vals(actual), expected.data, what);
}

/** grad of sum(f(x).quantized · G) + (withLoss ? f(x).loss : 0) with respect to x. */
function gradX(x: tf.Tensor, g: tf.Tensor, f: (x: tf.Tensor) => { quantized: tf.Tensor; loss?: tf.Tensor }, withLoss: boolean): tf.Tensor {
  return tf.grad((xx: tf.Tensor) => {
    const o = f(xx);
    const s = tf.sum(tf.mul(o.quantized, g));
    return (withLoss && o.loss ? tf.add(s, o.loss) : s) as tf.Scalar;
  })(x);
}

function assertNoLeak(fn: () => void, what: string): void {
  const n0 = tf.memory().numTensors;
  fn();
  assert.equal(tf.memory().numTensors, n0, `${what}: tensors leaked`);
}

after(() => {
  const lines = [...maxDiffs].map(([k, v]) => `  ${k}: ${v.toExponential(2)}`);
  console.log(`max |TS − vector-quantize-pytorch| (${REF.meta.vector_quantize_pytorch}, torch ${REF.meta.torch}):\n${lines.join('\n')}`);
});

for (const backend of TEST_AND_CPU) {
  describe(`vector-quantize-pytorch reference on ${backend}`, () => {
    before(async () => {
      await initBackend(backend, { quiet: true });
      assert.equal(tf.getBackend(), backend === 'node' || backend === 'node-gpu' ? 'tensorflow' : backend);
    });

    test('rotate_to: λR·e equals the reference value, rotateTo returns q exactly, gradients agree', () => {
      const r = REF.rotateTo;
      tf.tidy(() => {
        const src = f32(r.src) as tf.Tensor2D, tgt = f32(r.tgt) as tf.Tensor2D, g = f32(r.G);
        cmp(rotationTransform(src, tgt), r.value, 'rotate_to value (λRe)');
        assert.deepEqual(vals(rotateTo(src, tgt)), vals(tgt), 'rotateTo value is exactly q');
        cmp(tf.grad((s: tf.Tensor) => tf.sum(tf.mul(rotateTo(s, tgt), g)) as tf.Scalar)(src), r.grad_src, 'rotate_to grad src');
      });
    });

    test('VectorQuantize, STE and rotation trick: codes, indices, commitment loss, gradient', () => {
      const r = REF.vq;
      for (const gradient of ['ste', 'rotation'] as const) {
        const vq = new VectorQuantizer({ codebookSize: 8, dim: 4, gradient, seed: 0 });
        tf.tidy(() => {
          vq.codebook.assign(f32(r.codebook) as tf.Tensor2D);
          const x = f32(r.x), g = f32(r.G);
          const o = vq.forward(x, { training: false });
          cmp(o.quantized, r[gradient].quantized, `VQ ${gradient} quantized`);
          sameInts(o.indices, r[gradient].indices, `VQ ${gradient} indices`);
          cmp(o.commitLoss, r[gradient].commit_loss, `VQ ${gradient} commit loss`);
          cmp(gradX(x, g, (xx) => vq.forward(xx, { training: false }), false), r[gradient].grad_x, `VQ ${gradient} grad x`);
        });
        vq.dispose();
      }
    });

    test('LFQ: codes, indices (bits), entropy terms, commitment and aux loss, gradients to x and project_in', () => {
      for (const c of REF.lfq) {
        const lfq = new LFQ({
          codebookSize: c.codebook_size, dim: c.dim ?? undefined, codebookScale: c.codebook_scale, entropyWeight: c.entropy_loss_weight,
          commitmentWeight: c.commitment_loss_weight, diversityGamma: c.diversity_gamma, inverseTemperature: c.inv_temperature, seed: 0,
        });
        tf.tidy(() => {
          if (c.project_in) {
            lfq.projectIn!.kernel.assign(f32(c.project_in.kernel));
            lfq.projectIn!.bias.assign(f32(c.project_in.bias));
            lfq.projectOut!.kernel.assign(f32(c.project_out.kernel));
            lfq.projectOut!.bias.assign(f32(c.project_out.bias));
          }
          const x = f32(c.x), g = f32(c.G);
          const o = lfq.forward(x);
          cmp(o.quantized, c.quantized, `LFQ ${c.name} quantized`);
          sameInts(o.indices, c.indices, `LFQ ${c.name} indices`);
          cmp(o.perSampleEntropy, c.per_sample_entropy, `LFQ ${c.name} per-sample entropy`);
          cmp(o.codebookEntropy, c.codebook_entropy, `LFQ ${c.name} codebook entropy`);
          cmp(o.commitLoss, c.commit_loss, `LFQ ${c.name} commit loss`);
          cmp(o.loss, c.aux_loss, `LFQ ${c.name} aux loss`);
          cmp(gradX(x, g, (xx) => lfq.forward(xx), true), c.grad_x, `LFQ ${c.name} grad x`);
          if (c.project_in) {
            const { grads } = tf.variableGrads(() => {
              const oo = lfq.forward(x);
              return tf.add(tf.sum(tf.mul(oo.quantized, g)), oo.loss) as tf.Scalar;
            }, [lfq.projectIn!.kernel]);
            cmp(grads[lfq.projectIn!.kernel.name]!, c.grad_project_in_kernel, `LFQ ${c.name} grad project_in`);
          }
        });
        lfq.dispose();
      }
    });

    test('SimVQ (rotation trick and STE): codes, indices, loss, gradients to x and W', () => {
      for (const c of REF.simvq) {
        const sim = new SimVQ({ codebookSize: 8, dim: 4, gradient: c.gradient, seed: 0 });
        tf.tidy(() => {
          sim.frozenCodebook.assign(f32(c.frozen_codebook) as tf.Tensor2D);
          sim.transform.assign(f32(c.transform) as tf.Tensor2D);
          const x = f32(c.x), g = f32(c.G);
          const o = sim.forward(x);
          cmp(o.quantized, c.quantized, `SimVQ ${c.gradient} quantized`);
          sameInts(o.indices, c.indices, `SimVQ ${c.gradient} indices`);
          cmp(o.loss, c.loss, `SimVQ ${c.gradient} loss`);
          cmp(gradX(x, g, (xx) => sim.forward(xx), true), c.grad_x, `SimVQ ${c.gradient} grad x`);
          const { grads } = tf.variableGrads(() => {
            const oo = sim.forward(x);
            return tf.add(tf.sum(tf.mul(oo.quantized, g)), oo.loss) as tf.Scalar;
          }, [sim.transform]);
          cmp(grads[sim.transform.name]!, c.grad_transform, `SimVQ ${c.gradient} grad W`);
        });
        sim.dispose();
      }
    });

    test('ResidualVQ (STE, rotation trick, shared codebook): codes, per-stage indices and commitment losses, gradient, decoding from the first n stages', () => {
      for (const c of REF.rvq) {
        const rvq = new ResidualVQ({
          numQuantizers: 3, vq: { codebookSize: 8, dim: 4, gradient: c.gradient, commitmentWeight: 1 }, sharedCodebook: c.shared, seed: 0,
        });
        tf.tidy(() => {
          const books = tf.unstack(f32(c.codebooks));
          rvq.layers.forEach((l, i) => (l as VectorQuantizer).codebook.assign(books[c.shared ? 0 : i] as tf.Tensor2D));
          const x = f32(c.x), g = f32(c.G);
          const o = rvq.forward(x);
          cmp(o.quantized, c.quantized, `RVQ ${c.name} quantized`);
          sameInts(o.indices, c.indices, `RVQ ${c.name} indices`);
          cmp(o.commitLosses, c.commit_losses, `RVQ ${c.name} commit losses`);
          cmp(gradX(x, g, (xx) => rvq.forward(xx), false), c.grad_x, `RVQ ${c.name} grad x`);
          const firstN = tf.unstack(f32(c.decoded_first_n));
          for (let n = 1; n <= 3; n++) {
            const dn = rvq.decode(o.indices, n);
            cmp(dn, { shape: firstN[n - 1]!.shape, data: vals(firstN[n - 1]!) }, `RVQ ${c.name} decode first n`);
          }
        });
        rvq.dispose();
      }
    });

    test('residual FSQ: codes, per-stage indices, gradient (ResidualFSQ loop over default FSQ layers)', () => {
      const c = REF.rfsq;
      const rfsq = new ResidualVQ({ numQuantizers: c.num_quantizers, fsq: { levels: c.levels } });
      tf.tidy(() => {
        const x = f32(c.x), g = f32(c.G);
        const o = rfsq.forward(x);
        cmp(o.quantized, c.quantized, 'RFSQ quantized');
        sameInts(o.indices, c.indices, 'RFSQ indices');
        cmp(gradX(x, g, (xx) => rfsq.forward(xx), false), c.grad_x, 'RFSQ grad x');
        cmp(rfsq.decode(o.indices), c.quantized, 'RFSQ decode');
      });
      rfsq.dispose();
    });
  });
}

describe(`modern quantizers: behaviour on ${TEST_BACKEND}`, () => {
  before(useTestBackend);

  test('shapes on a [2, 3, 3, dim] feature map', () => {
    const cases: Array<[string, { dim: number; forward: (z: tf.Tensor) => { quantized: tf.Tensor; indices: tf.Tensor }; dispose(): void }, number[]]> = [
      ['LFQ', new LFQ({ codebookSize: 32, seed: 1 }), [2, 3, 3]],
      ['LFQ proj', new LFQ({ codebookSize: 32, dim: 8, seed: 1 }), [2, 3, 3]],
      ['SimVQ', new SimVQ({ codebookSize: 16, dim: 8, frozenDim: 5, seed: 1 }), [2, 3, 3]],
      ['RVQ', new ResidualVQ({ numQuantizers: 4, vq: { codebookSize: 16, dim: 8 }, seed: 1 }), [2, 3, 3, 4]],
      ['RFSQ', new ResidualVQ({ numQuantizers: 2, fsq: { levels: [8, 5, 5] } }), [2, 3, 3, 2]],
    ];
    for (const [name, q, idxShape] of cases) {
      assertNoLeak(() => tf.tidy(() => {
        const z = tf.randomNormal([2, 3, 3, q.dim]);
        const o = q.forward(z);
        assert.deepEqual(o.quantized.shape, z.shape, `${name} quantized`);
        assert.deepEqual(o.indices.shape, idxShape, `${name} indices`);
        assert.equal(o.indices.dtype, 'int32', `${name} indices dtype`);
      }), name);
      q.dispose();
    }
  });

  test('rotation trick: same forward values as the STE, a different gradient, of norm λ‖g‖ (a rotation times ‖q‖/‖e‖)', () => {
    const opts = { codebookSize: 16, dim: 6, seed: 5 };
    const a = new VectorQuantizer({ ...opts, gradient: 'ste' }), b = new VectorQuantizer({ ...opts, gradient: 'rotation' });
    assertNoLeak(() => tf.tidy(() => {
      const z = tf.randomNormal([10, 6], 0, 0.3, 'float32', 3), g = tf.randomNormal([10, 6], 0, 1, 'float32', 4);
      const oa = a.forward(z, { training: false }), ob = b.forward(z, { training: false });
      assert.deepEqual(vals(ob.quantized), vals(oa.quantized), 'forward values identical');
      assert.deepEqual(vals(ob.indices), vals(oa.indices));
      assert.equal(num(ob.loss), num(oa.loss));
      const ga = gradX(z, g, (x) => a.forward(x, { training: false }), false);
      const gb = gradX(z, g, (x) => b.forward(x, { training: false }), false);
      near(vals(ga), vals(g), 0, 0, 'STE gradient is g');
      assert.ok(num(tf.max(tf.abs(tf.sub(ga, gb)))) > 1e-2, 'rotation gradient differs from the STE');
      const lambda = tf.div(tf.norm(oa.quantized, 'euclidean', 1), tf.norm(z, 'euclidean', 1));
      near(vals(tf.norm(gb, 'euclidean', 1)), vals(tf.mul(lambda, tf.norm(g, 'euclidean', 1))), 1e-5, 1e-4, '‖∂/∂e‖ = λ‖g‖');
    }), 'rotation');
    // e parallel to q: R = I, gradient λ·g
    tf.tidy(() => {
      const e = tf.tensor2d([[1, 2, -1]]), q = tf.tensor2d([[2, 4, -2]]), g = tf.tensor2d([[0.3, -1, 0.5]]);
      near(vals(tf.grad((x: tf.Tensor) => tf.sum(tf.mul(rotateTo(x, q), g)) as tf.Scalar)(e)), [0.6, -2, 1], 1e-6, 1e-5, 'parallel: 2g');
    });
    a.dispose();
    b.dispose();
  });

  test('LFQ: indices ↔ bits ↔ codes round-trip over every code; MSB first; sign(0) → −s', () => {
    const lfq = new LFQ({ codebookSize: 64, codebookScale: 0.5 });
    assertNoLeak(() => tf.tidy(() => {
      const all = tf.range(0, 64, 1, 'int32');
      const bits = lfq.indicesToBits(all);
      assert.deepEqual(vals(lfq.bitsToIndices(bits)), vals(all), 'bits → indices');
      const codes = lfq.indicesToCodes(all);
      assert.deepEqual([...new Set(vals(codes))].sort(), [-0.5, 0.5]);
      assert.deepEqual(vals(lfq.codesToIndices(codes)), vals(all), 'codes → indices');
      assert.deepEqual(vals(lfq.indicesToBits([11])), [0, 0, 1, 0, 1, 1], '11 = 001011, channel 0 most significant');
      const o = lfq.forward(tf.tensor2d([[0, 1, -1, 0.2, 0, -3]]));
      assert.deepEqual(vals(o.codes), [-0.5, 0.5, -0.5, 0.5, -0.5, -0.5]);
      assert.equal(num(o.indices), 0b010100);
      assert.deepEqual(vals(lfq.decode(o.indices)), vals(o.codes));
    }), 'lfq round trip');
    lfq.dispose();
  });

  test('LFQ: the entropy + commitment loss gradient matches central finite differences', () => {
    const lfq = new LFQ({ codebookSize: 8, inverseTemperature: 1.5, entropyWeight: 1, commitmentWeight: 0.3, diversityGamma: 0.7 });
    const x0 = tf.randomNormal([5, 3], 0, 0.7, 'float32', 11);
    const loss = (x: tf.Tensor): tf.Scalar => lfq.forward(x, { training: false }).loss;
    const g = vals(tf.tidy(() => tf.grad(loss)(x0)));
    const base = vals(x0);
    const h = 1e-2;
    const fd = base.map((_, i) => tf.tidy(() => {
      const plus = base.slice(), minus = base.slice();
      plus[i]! += h;
      minus[i]! -= h;
      return (num(loss(tf.tensor2d(plus, [5, 3]))) - num(loss(tf.tensor2d(minus, [5, 3])))) / (2 * h);
    }));
    near(g, fd, 2e-3, 2e-2, 'LFQ loss gradient vs finite differences');
    x0.dispose();
    lfq.dispose();
  });

  test('ResidualVQ: decoding from the first n stages = partial sums; residual = z − ẑ; rate n·log2 K; encode = forward indices', () => {
    const rvq = new ResidualVQ({ numQuantizers: 3, vq: { codebookSize: 16, dim: 4, init: 'normal' }, seed: 9 });
    assert.equal(rvq.rate(), 12);
    assert.equal(rvq.rate(1), 4);
    assertNoLeak(() => tf.tidy(() => {
      const z = tf.randomNormal([6, 4], 0, 1, 'float32', 2);
      const o = rvq.forward(z, { training: false });
      const stages = tf.unstack(o.indices, 1);
      let partial = tf.zerosLike(z);
      for (let n = 1; n <= 3; n++) {
        partial = tf.add(partial, rvq.layers[n - 1]!.decode(stages[n - 1]!));
        near(vals(rvq.decode(o.indices, n)), vals(partial), 1e-6, 1e-6, `first ${n}`);
        near(vals(rvq.decode(tf.slice(o.indices, [0, 0], [6, n]))), vals(partial), 1e-6, 1e-6, `given ${n} stages`);
      }
      near(vals(o.quantized), vals(partial), 1e-6, 1e-6, 'ẑ = Σ stages');
      near(vals(o.residual), vals(tf.sub(z, o.quantized)), 1e-6, 1e-6, 'residual');
      assert.deepEqual(vals(rvq.encode(z)), vals(o.indices));
      // a stage marked −1 (dropped) decodes to zero
      const dropped = tf.concat([tf.slice(o.indices, [0, 0], [6, 1]), tf.fill([6, 2], -1, 'int32')], 1);
      near(vals(rvq.decode(dropped)), vals(rvq.decode(o.indices, 1)), 0, 0, '−1 stages add nothing');
    }), 'rvq decode');
    rvq.dispose();
  });

  test('ResidualVQ quantizer dropout: seeded, in [cutoff + 1, n_q], dropped stages −1 with zero loss, none in eval mode', () => {
    const make = (seed: number) => new ResidualVQ({
      numQuantizers: 5, vq: { codebookSize: 8, dim: 3 }, quantizeDropout: true, quantizeDropoutCutoffIndex: 1, seed,
    });
    const run = (rvq: ResidualVQ): number[] => Array.from({ length: 30 }, () => tf.tidy(() => {
      const o = rvq.forward(tf.randomNormal([4, 3], 0, 1, 'float32', 1));
      const idx = o.indices.arraySync() as number[][];
      const n = rvq.lastActive;
      idx.forEach((row) => row.forEach((v, s) => assert.ok(s < n ? v >= 0 : v === -1, `stage ${s} of ${n} active: ${v}`)));
      vals(o.losses).forEach((l, s) => { if (s >= n) assert.equal(l, 0); });
      return n;
    }));
    const a = make(7), b = make(7), c = make(8);
    const ra = run(a), rb = run(b), rc = run(c);
    assert.deepEqual(ra, rb, 'same seed, same draws');
    assert.notDeepEqual(ra, rc, 'another seed, other draws');
    assert.ok(ra.every((n) => n >= 2 && n <= 5), `in [2, 5]: ${ra}`);
    assert.ok(new Set(ra).size >= 3, `varied: ${ra}`);
    // stats: (stage, code) pairs, 4 vectors per active stage per batch
    assert.equal(a.stats.codebookSize, 5 * 8);
    assert.equal(a.stats.vectors, 4 * ra.reduce((x, y) => x + y, 0));
    assert.equal(a.stats.counts.slice(8 * Math.min(...ra)).reduce((x, y) => x + y, 0) > 0, Math.max(...ra) > Math.min(...ra));
    tf.tidy(() => {
      const o = a.forward(tf.ones([2, 3]), { training: false });
      assert.equal(a.lastActive, 5);
      assert.ok(vals(o.indices).every((v) => v >= 0));
    });
    for (const q of [a, b, c]) q.dispose();
  });

  test('SimVQ: only W trains; one step moves every code (used or not) and leaves C alone', () => {
    const sim = new SimVQ({ codebookSize: 32, dim: 4, frozenDim: 6, seed: 3 });
    assert.deepEqual(sim.trainableVariables(), [sim.transform]);
    assert.equal(sim.frozenCodebook.trainable, false);
    const c0 = vals(sim.frozenCodebook);
    const codes0 = sim.codes();
    const z = tf.randomNormal([3, 4], 0, 1, 'float32', 5); // 3 vectors: at most 3 of 32 codes used
    const opt = tf.train.sgd(0.1);
    const cost = opt.minimize(() => sim.forward(z).loss, true);
    cost?.dispose();
    assert.deepEqual(vals(sim.frozenCodebook), c0, 'C unchanged');
    const moved = tf.tidy(() => vals(tf.sum(tf.abs(tf.sub(sim.codes(), codes0)), 1)));
    assert.ok(moved.every((m) => m > 0), `every code moved: ${moved}`);
    const { grads } = tf.variableGrads(() => sim.forward(z).loss);
    assert.deepEqual(Object.keys(grads), [sim.transform.name], 'gradients reach W only');
    tf.dispose([grads, codes0, z]);
    opt.dispose();
    sim.dispose();
  });

  test('option checks name the option and list the allowed ones', () => {
    const throwsWith = (fn: () => unknown, re: RegExp) => assert.throws(fn, re);
    throwsWith(() => new LFQ({ codebookSize: 16, entropyWieght: 1 } as never), /LFQ: unknown option 'entropyWieght' \(did you mean 'entropyWeight'\?\); known options: codebookSize, dim/);
    throwsWith(() => new LFQ({ codebookSize: 12 }), /LFQ: codebookSize must be a power of two/);
    throwsWith(() => new LFQ({ codebookSize: 2.5 }), /LFQ: codebookSize must be an integer/);
    throwsWith(() => new LFQ({}), /LFQ: codebookSize or dim is required/);
    throwsWith(() => new LFQ({ dim: 4, entropyWeight: NaN }), /LFQ: entropyWeight must be a finite number/);
    throwsWith(() => new LFQ({ dim: 4, inverseTemperature: 0 }), /LFQ: inverseTemperature must be a finite number > 0, got 0/);
    throwsWith(() => new SimVQ({ codebookSize: 8, dim: 4, rotation: true } as never), /SimVQ: unknown option 'rotation'.*known options: codebookSize, dim, frozenDim/);
    throwsWith(() => new SimVQ({ codebookSize: 8, dim: 4, frozenDim: 0 }), /SimVQ: frozenDim must be an integer >= 1/);
    throwsWith(() => new SimVQ({ codebookSize: 8, dim: 4, gradient: 'fancy' as never }), /SimVQ: gradient must be one of 'ste', 'rotation'/);
    throwsWith(() => new SimVQ({ codebookSize: 8, dim: 4, commitmentWeight: Infinity }), /SimVQ: commitmentWeight must be a finite number/);
    throwsWith(() => new VectorQuantizer({ codebookSize: 8, dim: 4, gradient: 'rot' as never }), /VectorQuantizer: gradient must be one of 'ste', 'rotation', got "rot"/);
    throwsWith(() => new ResidualVQ({ numQuantizers: 2, vq: { codebookSize: 8, dim: 4 }, dropout: true } as never), /ResidualVQ: unknown option 'dropout'.*known options: numQuantizers, vq, fsq/);
    throwsWith(() => new ResidualVQ({ numQuantizers: 1.5, vq: { codebookSize: 8, dim: 4 } }), /ResidualVQ: numQuantizers must be an integer in \[1, 64\], got 1.5/);
    throwsWith(() => new ResidualVQ({ numQuantizers: 2 }), /ResidualVQ: exactly one of vq .* and fsq .* is required/);
    throwsWith(() => new ResidualVQ({ numQuantizers: 2, vq: { codebookSize: 8, dim: 4 }, fsq: { levels: [3] } }), /exactly one of/);
    throwsWith(() => new ResidualVQ({ numQuantizers: 2, vq: { codebookSize: 8, dim: 4, seed: 1 } }), /ResidualVQ: vq.seed must be left out/);
    throwsWith(() => new ResidualVQ({ numQuantizers: 2, vq: { codebookSize: 8, dim: 4, gradiant: 'ste' } as never }), /VectorQuantizer: unknown option 'gradiant' \(did you mean 'gradient'\?\)/);
    throwsWith(() => new ResidualVQ({ numQuantizers: 3, vq: { codebookSize: 8, dim: 4 }, quantizeDropoutCutoffIndex: 3 }), /quantizeDropoutCutoffIndex must be an integer in \[0, 2\]/);
    throwsWith(() => new ResidualVQ({ numQuantizers: 2, fsq: { levels: [5], dim: 3 } as never }), /ResidualVQ: fsq: unknown option 'dim'; known options: levels, bound, statsWindow/);
    throwsWith(() => new ResidualVQ({ numQuantizers: 2, fsq: { levels: [5] }, sharedCodebook: true }), /ResidualVQ: sharedCodebook must be false with fsq stages/);
    const rvq = new ResidualVQ({ numQuantizers: 2, vq: { codebookSize: 8, dim: 4 } });
    throwsWith(() => rvq.decode([[1, 2, 3]]), /must have shape \[\.\.\., m\] with 1 <= m <= 2/);
    throwsWith(() => rvq.decode([[1, 8]]), /indices\) must hold integers in \[0, 7\], found 8/);
    throwsWith(() => rvq.decode([[1, 2]], 3), /n must be an integer in \[1, 2\]/);
    const z3 = tf.zeros([2, 3]);
    throwsWith(() => rvq.forward(z3), /last axis = dim = 4/);
    z3.dispose();
    throwsWith(() => rvq.rate(3), /ResidualVQ.rate\(n\) must be an integer in \[0, 2\], got 3/);
    rvq.dispose();
  });

  test('no leaks: forward, gradients, decode; dispose frees every variable; use after dispose throws', () => {
    const n0 = tf.memory().numTensors;
    const makers: Array<() => { dim: number; forward(z: tf.Tensor): { quantized: tf.Tensor; indices: tf.Tensor; loss: tf.Tensor }; decode(i: tf.Tensor): tf.Tensor; trainableVariables(): tf.Variable[]; dispose(): void }> = [
      () => new LFQ({ codebookSize: 16, dim: 5, seed: 1 }),
      () => new SimVQ({ codebookSize: 8, dim: 4, seed: 1 }),
      () => new ResidualVQ({ numQuantizers: 3, vq: { codebookSize: 8, dim: 4, ema: true, deadCodeThreshold: 0.5 }, quantizeDropout: true, seed: 1 }),
      () => new ResidualVQ({ numQuantizers: 3, vq: { codebookSize: 8, dim: 4, gradient: 'rotation' }, sharedCodebook: true, seed: 1 }),
      () => new ResidualVQ({ numQuantizers: 2, fsq: { levels: [5, 4] } }),
      () => new VectorQuantizer({ codebookSize: 8, dim: 4, gradient: 'rotation', seed: 1 }),
    ];
    for (const make of makers) {
      const q = make();
      const z = tf.randomNormal([3, 2, q.dim]);
      assertNoLeak(() => {
        const o = q.forward(z);
        const d = q.decode(o.indices);
        tf.dispose([o, d]);
        const vars = q.trainableVariables(); // none under EMA or for FSQ stages
        if (vars.length > 0) {
          const { value, grads } = tf.variableGrads(() => q.forward(z).loss as tf.Scalar, vars);
          tf.dispose([value, grads]);
        }
        tf.tidy(() => { tf.grad((x: tf.Tensor) => tf.sum(q.forward(x).quantized) as tf.Scalar)(z); });
      }, q.constructor.name);
      z.dispose();
      q.dispose();
      q.dispose(); // twice is harmless
      assert.equal(tf.memory().numTensors, n0, `${q.constructor.name}: dispose frees everything`);
      const z1 = tf.zeros([1, q.dim]);
      assert.throws(() => q.forward(z1), /used after dispose/);
      z1.dispose();
    }
  });

  test('each plugs into the VQ-VAE as its bottleneck (one training-loss evaluation)', () => {
    const bottlenecks = [
      new LFQ({ codebookSize: 32, dim: 8, seed: 1 }),
      new SimVQ({ codebookSize: 32, dim: 8, seed: 1 }),
      new ResidualVQ({ numQuantizers: 2, vq: { codebookSize: 32, dim: 8 }, seed: 1 }),
      new VectorQuantizer({ codebookSize: 32, dim: 8, gradient: 'rotation', seed: 1 }),
    ];
    for (const b of bottlenecks) {
      const m = new VQVAE({ bottleneck: b, dim: 8, seed: 0 });
      assertNoLeak(() => tf.tidy(() => {
        const x = tf.randomUniform([2, 28, 28, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
        const { value, grads } = tf.variableGrads(() => m.computeLoss(x).loss);
        assert.ok(Number.isFinite(num(value)), `${b.constructor.name}: finite loss`);
        assert.ok(Object.keys(grads).length > 0);
      }), b.constructor.name);
      m.dispose();
      b.dispose();
    }
  });

  test('VQ-VAE variables (checkpoints) include every ResidualVQ stage, a shared stage once, and SimVQ\'s frozen C', () => {
    const sep = new ResidualVQ({ numQuantizers: 3, vq: { codebookSize: 8, dim: 8, ema: true }, seed: 1 });
    const shared = new ResidualVQ({ numQuantizers: 3, vq: { codebookSize: 8, dim: 8 }, sharedCodebook: true, seed: 1 });
    const sim = new SimVQ({ codebookSize: 8, dim: 8, seed: 1 });
    const names = (b: ResidualVQ | SimVQ): string[] => {
      const m = new VQVAE({ bottleneck: b, dim: 8, seed: 0 });
      const out = [...m.namedVariables().keys()].filter((k) => k.startsWith('bottleneck/'));
      m.dispose();
      return out;
    };
    const ns = names(sep);
    for (let i = 0; i < 3; i++) {
      assert.ok(ns.includes(`bottleneck/layers.${i}.codebook`), `stage ${i} codebook in ${ns}`);
      assert.ok(ns.includes(`bottleneck/layers.${i}.emaState.clusterSize`), `stage ${i} EMA counts in ${ns}`);
    }
    assert.deepEqual(names(shared), ['bottleneck/layers.0.codebook']);
    assert.equal(shared.stats.codebookSize, 8, 'shared: stats over one codebook');
    assert.equal(sep.stats.codebookSize, 24, 'separate: stats over 3 codebooks');
    assert.deepEqual(names(sim).sort(), ['bottleneck/frozenCodebook', 'bottleneck/transform']);
    for (const b of [sep, shared, sim]) b.dispose();
  });
});
