/**
 * The VQ layer's memory path: the custom gradient of the distance → argmin / soft-usage path
 * (assignCodes) and the per-code gather (gatherRows) give the old autodiff path's values and
 * gradients, on the test backend and cpu, while the forward + backward peak drops from ~21 to under 7
 * [N, K] tensors; a VQ step that cannot fit in wasm's 4 GiB heap is refused up front with a
 * catchable error saying memory is the cause and what size fits, and the backend lives on.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { TEST_AND_CPU } from './support/backend';
import { VectorQuantizer, VectorQuantizerOptions } from '../lib/quantizer/index';
import { assignCodes, l2Normalize, squaredDistances, vqPeakBytes } from '../lib/quantizer/distance';
import { checkVQMemory } from '../lib/quantizer/memory';
import { stopGradient, straightThrough } from '../lib/quantizer/ste';

/** The VQ forward as it was before assignCodes/gatherRows (autodiff through every op). */
function oldLoss(q: VectorQuantizer, z: tf.Tensor2D): tf.Scalar {
  const o = q.options;
  const cos = o.distance === 'cosine';
  const x = cos ? l2Normalize(z) : z;
  const snap = o.ema ? stopGradient(q.codebook) : q.codebook.clone();
  const e = cos ? l2Normalize(snap) : snap;
  const d = squaredDistances(x, e);
  const idx = tf.argMin(d, 1);
  const onehot = tf.cast(tf.oneHot(idx, q.codebookSize), 'float32');
  const zq = tf.matMul(onehot, e);
  const commit = tf.mean(tf.square(tf.sub(x, stopGradient(zq))));
  const cb = tf.mean(tf.square(tf.sub(stopGradient(x), zq)));
  const pbar = tf.mean(tf.softmax(tf.div(tf.neg(d), o.entropyTemperature)), 0);
  const ent = tf.sum(tf.mul(pbar, tf.log(tf.add(pbar, 1e-10))));
  const loss = tf.addN([cb, tf.mul(commit, o.commitmentWeight), tf.mul(ent, o.entropyWeight)]);
  // a downstream use of the quantized output, so the straight-through path is in the gradient too
  return tf.add(loss, tf.mean(tf.square(tf.mul(straightThrough(x, zq), 0.3)))) as tf.Scalar;
}
function newLoss(q: VectorQuantizer, z: tf.Tensor2D): tf.Scalar {
  const o = q.forward(z, { training: false });
  return tf.add(o.loss, tf.mean(tf.square(tf.mul(o.quantized, 0.3)))) as tf.Scalar;
}

/** Loss and gradients to z and to the codebook (when trainable). */
function lossAndGrads(q: VectorQuantizer, z: tf.Tensor2D, f: typeof oldLoss) {
  return tf.tidy(() => {
    const g = tf.valueAndGrads((zz: tf.Tensor) => f(q, zz as tf.Tensor2D))([z]);
    const vg = q.trainableVariables().length ? tf.variableGrads(() => f(q, z), [q.codebook]) : null;
    return {
      loss: g.value.dataSync()[0],
      dz: Array.from(g.grads[0].dataSync()),
      de: vg ? Array.from(vg.grads[q.codebook.name].dataSync()) : [],
    };
  });
}

function close(a: number[], b: number[], what: string, rtol = 1e-5): void {
  assert.equal(a.length, b.length, what);
  const scale = Math.max(1e-12, ...b.map(Math.abs));
  const worst = Math.max(0, ...a.map((x, i) => Math.abs(x - b[i])));
  assert.ok(worst <= rtol * scale, `${what}: max |diff| ${worst} > ${rtol} · max |ref| ${scale}`);
}

const VARIANTS: Array<[string, Partial<VectorQuantizerOptions>]> = [
  ['plain with entropy term', { entropyWeight: 0.1, entropyTemperature: 0.5 }],
  ['cosine', { distance: 'cosine', entropyWeight: 0.2, entropyTemperature: 0.01 }],
  ['EMA (no codebook gradient)', { ema: { decay: 0.9 }, entropyWeight: 0.1 }],
  ['no entropy term', {}],
];

for (const backend of TEST_AND_CPU) {
  describe(`VQ custom gradient on ${backend}`, () => {
    for (const [name, opts] of VARIANTS) {
      test(`${name}: same loss, same gradients (to z and the codebook) as the autodiff path; no leaks`, async () => {
        await initBackend(backend, { quiet: true });
        const q = new VectorQuantizer({ codebookSize: 48, dim: 12, seed: 3, init: 'normal', ...opts } as VectorQuantizerOptions);
        const z = tf.randomNormal([300, 12], 0, 1, 'float32', 9) as tf.Tensor2D;
        const n0 = tf.memory().numTensors;
        const a = lossAndGrads(q, z, oldLoss);
        const b = lossAndGrads(q, z, newLoss);
        assert.equal(tf.memory().numTensors, n0, 'no tensors left behind');
        assert.equal(b.loss, a.loss, 'the loss is bit-identical');
        close(b.dz, a.dz, 'dL/dz');
        close(b.de, a.de, 'dL/dcodebook');
        // outputs are the old ones exactly
        const out = tf.tidy(() => {
          const o = q.forward(z, { training: false });
          return [o.indices, o.quantized, o.perplexity, o.usage, o.entropyLoss].map((t) => Array.from(t.dataSync()));
        });
        const ref = tf.tidy(() => {
          const x = q.options.distance === 'cosine' ? l2Normalize(z) : z;
          const e = q.options.distance === 'cosine' ? l2Normalize(q.codebook) : q.codebook;
          const d = squaredDistances(x, e);
          const idx = tf.argMin(d, 1);
          return [Array.from(idx.dataSync()), Array.from(tf.gather(e, idx).dataSync())];
        });
        assert.deepEqual(out[0], ref[0], 'indices');
        assert.deepEqual(out[1], ref[1], 'quantized = e[idx]');
        q.dispose(); z.dispose();
      });
    }

    test('assignCodes alone: gradient of any function of p̄ matches autodiff', async () => {
      await initBackend(backend, { quiet: true });
      const x = tf.randomNormal([64, 5], 0, 1, 'float32', 1) as tf.Tensor2D;
      const e = tf.randomNormal([7, 5], 0, 1, 'float32', 2) as tf.Tensor2D;
      const w = tf.randomNormal([7], 0, 1, 'float32', 3);
      const f1 = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(w, tf.square(assignCodes(a as tf.Tensor2D, b as tf.Tensor2D, 0.7).softUsage)));
      const f2 = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(w, tf.square(tf.mean(tf.softmax(tf.div(tf.neg(squaredDistances(a as tf.Tensor2D, b as tf.Tensor2D)), 0.7)), 0))));
      const n0 = tf.memory().numTensors;
      const [g1, g2] = [f1, f2].map((f) => tf.tidy(() => tf.grads(f)([x, e]).map((g) => Array.from(g.dataSync()))));
      assert.equal(tf.memory().numTensors, n0);
      close(g1[0], g2[0], 'd/dx');
      close(g1[1], g2[1], 'd/de');
      tf.dispose([x, e, w]);
    });
  });
}

describe('VQ memory', () => {
  test('forward + backward peak: under 7 [N, K] tensors (was ~21); the estimate covers it', async () => {
    await initBackend('wasm', { quiet: true });
    const [N, K, D] = [2048, 512, 16];
    const q = new VectorQuantizer({ codebookSize: K, dim: D, seed: 1, entropyWeight: 0.1, checkFinite: false });
    const z = tf.randomNormal([N, D], 0, 1, 'float32', 4) as tf.Tensor2D;
    const peak = async (f: typeof oldLoss) => (await tf.profile(() => {
      const r = tf.variableGrads(() => f(q, z), [q.codebook]);
      tf.dispose([r.value, ...Object.values(r.grads)]);
    })).peakBytes / (4 * N * K);
    const before = await peak(oldLoss);
    const after = await peak(newLoss);
    assert.ok(before > 18, `old path peak ${before.toFixed(1)} [N, K]`);
    assert.ok(after < 7, `new path peak ${after.toFixed(1)} [N, K]`);
    assert.ok(vqPeakBytes(N, K, D, true) >= after * 4 * N * K, 'the estimate is not below the measured peak');
    q.dispose(); z.dispose();
  });

  test('a VQ step too large for the wasm heap: a catchable error naming memory and the size that fits; the backend lives on', async () => {
    await initBackend('wasm', { quiet: true });
    // 262,144 vectors × 1,024 codes: ~6 GiB of distances, more than wasm32 can address
    const q = new VectorQuantizer({ codebookSize: 1024, dim: 64, seed: 1, checkFinite: false });
    const z = tf.zeros([262144, 64]) as tf.Tensor2D;
    const n0 = tf.memory().numTensors;
    let message = '';
    assert.throws(() => q.forward(z), (e: Error) => { message = e.message; return true; });
    assert.match(message, /^VectorQuantizer\.forward\(z\): out of memory — 262,144 vectors × 1,024 codes \(dim 64\) need about 6\.\d+ GiB for the forward pass, more than the \d\.\d+ GiB left of the wasm backend's 4 GiB heap/);
    const fits = Number(/Pass at most ([\d,]+) vectors/.exec(message)![1].replace(/,/g, ''));
    assert.ok(fits > 100_000 && fits < 262_144, `suggested ${fits}`);
    // under a gradient the backward is counted too
    assert.throws(() => tf.variableGrads(() => q.forward(z).loss, [q.codebook]), /need about .* GiB for the forward and backward pass/);
    assert.equal(tf.memory().numTensors, n0, 'nothing allocated');
    // the backend still works, and the suggested size is accepted by the check
    assert.equal(tf.tidy(() => tf.add(tf.scalar(1), 2).dataSync()[0]), 3);
    checkVQMemory('x', fits, 1024, 64, { withGradient: false });
    assert.throws(() => checkVQMemory('x', fits + 1, 1024, 64, { withGradient: false }), /out of memory/);
    // not on other backends (their memory is the machine's)
    checkVQMemory('x', 262144, 1024, 64, { backend: 'cpu' });
    q.dispose(); z.dispose();
  });
});
