/**
 * trainQuantizer: trains a VectorQuantizer (gradient and EMA) and an FSQ with projections,
 * deterministic under a seed, and leaves tf.memory().numTensors unchanged.
 */
import { describe, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_AND_CPU } from './support/backend';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { FSQ, VectorQuantizer, trainQuantizer } from '../lib/quantizer/index';

for (const backend of TEST_AND_CPU) {
  describe(`trainQuantizer on ${backend}`, () => {
    before(async () => {
      await initBackend(backend, { quiet: true });
    });

    test('VQ (gradient, EMA) and FSQ train; numTensors unchanged; same seed, same run', async () => {
      const data = tf.randomNormal([300, 8], 0, 1, 'float32', 5) as tf.Tensor2D;
      const n0 = tf.memory().numTensors;
      const runs: number[][] = [];
      for (const extra of [{}, {}, { ema: true }, { entropyWeight: 0.1, entropyForm: 'sample-and-batch' as const }]) {
        const q = new VectorQuantizer({ codebookSize: 16, dim: 8, seed: 1, init: 'normal', ...extra });
        const nq = tf.memory().numTensors;
        let calls = 0;
        const r = await trainQuantizer(q, data, { steps: 30, learningRate: 0.02, batchSize: 64, seed: 3, onStep: () => { calls++; } });
        assert.equal(tf.memory().numTensors, nq, `numTensors unchanged by training (${JSON.stringify(extra)})`);
        assert.equal(calls, 30);
        assert.equal(r.errors.length, 30);
        assert.ok(r.errors.slice(-5).reduce((a, b) => a + b) < r.errors.slice(0, 5).reduce((a, b) => a + b), `error falls (${JSON.stringify(extra)})`);
        runs.push(r.errors);
        q.dispose();
      }
      assert.deepEqual(runs[0], runs[1], 'same seeds: same run');
      const f = new FSQ({ levels: [5, 5], dim: 8, seed: 2 });
      const nf = tf.memory().numTensors;
      const rf = await trainQuantizer(f, (s) => tf.randomNormal([64, 8], 0, 1, 'float32', 100 + s) as tf.Tensor2D, { steps: 40, learningRate: 0.02 });
      assert.equal(tf.memory().numTensors, nf, 'FSQ with batches from a function: numTensors unchanged');
      assert.ok(rf.losses[39] < rf.losses[0]);
      f.dispose();
      data.dispose();
      assert.equal(tf.memory().numTensors, n0 - 1);
      await assert.rejects(trainQuantizer(f, data, { steps: 0 }), /steps must be an integer >= 1/);
      await assert.rejects(trainQuantizer(f, data, { steps: 1, lr: 1 } as never), /unknown option 'lr'/);
    });
  });
}
