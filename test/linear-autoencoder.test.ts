/**
 * LinearAutoencoder (a quantizer between identity-initialised linear maps, itself a quantizer)
 * and evaluateQuantizer (held-out usage, perplexity, MSE): trainQuantizer trains the wrapper bit
 * for bit as notebook 11's hand-written loop did (tf.train.adam, Rng(seed).sample batches);
 * nothing leaks; bad input is refused naming the argument.
 */
import { describe, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_AND_CPU } from './support/backend';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { FSQ, LinearAutoencoder, SimVQ, VectorQuantizer, evaluateQuantizer, trainQuantizer } from '../lib/quantizer/index';
import { Rng } from '../lib/rng';
import { perplexityOf } from '../lib/metrics';

const [N, D, K] = [200, 8, 16];

/**
 * Notebook 11's loop before it used the library (cell 5, as committed up to 321534b). It drew a
 * fresh pass when fewer than a batch of rows were left, dropping them, where trainQuantizer's
 * Batches carry them into the next batch: the two agree while the steps stay within one pass
 * (the notebook: 200 × 32 < 10,000) or the batch divides N (here).
 */
function handLoop(q: VectorQuantizer | SimVQ, data: tf.Tensor2D, steps: number, batch: number, seed: number): { enc: tf.Variable; dec: tf.Variable } {
  const enc = tf.tidy(() => tf.variable(tf.eye(D))), dec = tf.tidy(() => tf.variable(tf.eye(D)));
  const vars = [enc, dec, ...q.trainableVariables()];
  const opt = tf.train.adam(1e-2);
  const rng = new Rng(seed);
  let order: number[] = [];
  for (let step = 1; step <= steps; step++) {
    if (order.length < batch) order = rng.sample(N, N);
    const rows = order.splice(0, batch);
    tf.tidy(() => {
      const x = tf.gather(data, tf.tensor1d(rows, 'int32'));
      opt.minimize(() => {
        const out = q.forward(tf.matMul(x, enc));
        const recon = tf.mean(tf.square(tf.sub(tf.matMul(out.quantized, dec), x)));
        return tf.add(recon, out.loss) as tf.Scalar;
      }, false, vars);
    });
  }
  opt.dispose();
  return { enc, dec };
}

for (const backend of TEST_AND_CPU) {
  describe(`LinearAutoencoder and evaluateQuantizer on ${backend}`, () => {
    before(async () => {
      await initBackend(backend, { quiet: true });
    });

    test('starts as the bare quantizer; protocol fields; dispose frees E, G and the quantizer', () => {
      const n0 = tf.memory().numTensors;
      const x = tf.randomNormal([5, 3, D], 0, 1, 'float32', 1);
      const q = new VectorQuantizer({ codebookSize: K, dim: D, seed: 1, init: 'normal' });
      const ae = new LinearAutoencoder(q);
      assert.equal(ae.dim, D);
      assert.equal(ae.codebookSize, K);
      assert.equal(ae.indicesPerVector, 1);
      assert.equal(ae.stats, q.stats);
      assert.deepEqual(ae.config, { type: 'LinearAutoencoder', dim: D, quantizer: q.config });
      assert.deepEqual([...ae.namedVariables().keys()], ['encoder', 'decoder', ...[...q.namedVariables().keys()].map((k) => `quantizer.${k}`)]);
      assert.equal(ae.trainableVariables().length, 2 + q.trainableVariables().length);
      const nBefore = tf.memory().numTensors;
      tf.tidy(() => {
        const a = ae.forward(x, { training: false }), b = q.forward(x, { training: false });
        assert.deepEqual(a.quantized.shape, [5, 3, D]);
        assert.deepEqual(a.quantized.arraySync(), b.quantized.arraySync());
        assert.deepEqual(a.indices.arraySync(), b.indices.arraySync());
        assert.deepEqual(ae.decode(a.indices).arraySync(), b.quantized.arraySync());
      });
      assert.equal(tf.memory().numTensors, nBefore, 'forward and decode inside tidy leave nothing');
      ae.dispose();
      ae.dispose(); // twice is fine
      x.dispose();
      assert.equal(tf.memory().numTensors, n0, 'E, G and the quantizer freed');
      assert.throws(() => ae.forward(tf.zeros([1, D])), /LinearAutoencoder: used after dispose\(\)/);
      assert.throws(() => q.forward(tf.zeros([1, D])), /used after dispose/);
    });

    test('trainQuantizer trains it bit for bit as the hand-written tf.train.adam loop; numTensors unchanged', async () => {
      const data = tf.randomNormal([N, D], 0, 1, 'float32', 2) as tf.Tensor2D;
      for (const make of [
        () => new VectorQuantizer({ codebookSize: K, dim: D, seed: 3, commitmentWeight: 0.25, checkFinite: false }),
        () => new VectorQuantizer({ codebookSize: K, dim: D, seed: 3, commitmentWeight: 0.25, gradient: 'rotation', checkFinite: false }),
        () => new SimVQ({ codebookSize: K, dim: D, seed: 3, commitmentWeight: 0.25, gradient: 'ste', checkFinite: false }),
      ]) {
        const qa = make();
        const { enc, dec } = handLoop(qa, data, 15, 20, 1001);   // 200 = 10 × 20: the hand loop's fresh pass and Batches' carry agree
        const ae = new LinearAutoencoder(make());
        const n0 = tf.memory().numTensors;
        let calls = 0;
        const r = await trainQuantizer(ae, data, { steps: 15, learningRate: 1e-2, batchSize: 20, seed: 1001, onStep: () => { calls++; } });
        assert.equal(tf.memory().numTensors, n0, 'training leaves nothing allocated');
        assert.equal(calls, 15);
        assert.equal(r.losses.length, 15);
        assert.deepEqual(ae.encoder.dataSync(), enc.dataSync(), `${qa.config.type}: E bit for bit`);
        assert.deepEqual(ae.decoder.dataSync(), dec.dataSync(), `${qa.config.type}: G bit for bit`);
        const [va, vb] = [qa.trainableVariables(), ae.quantizer.trainableVariables()];
        va.forEach((v, i) => assert.deepEqual(vb[i].dataSync(), v.dataSync(), `${qa.config.type}: quantizer variable ${i} bit for bit`));
        assert.notDeepEqual(Array.from(ae.encoder.dataSync()), Array.from(tf.eye(D).dataSync()), 'E learned');
        tf.dispose([enc, dec]);
        qa.dispose();
        ae.dispose();
      }
      data.dispose();
    });

    test('evaluateQuantizer: counts, usage, perplexity and MSE as computed by hand, any chunk size; numTensors unchanged', async () => {
      const data = tf.randomNormal([N, D], 0, 1, 'float32', 4) as tf.Tensor2D;
      const q = new VectorQuantizer({ codebookSize: K, dim: D, seed: 5, init: 'normal' });
      const n0 = tf.memory().numTensors;
      const a = await evaluateQuantizer(q, data, { batchSize: 1000 });
      const b = await evaluateQuantizer(q, data, { batchSize: 7 });
      assert.equal(tf.memory().numTensors, n0);
      const [idx, err] = tf.tidy(() => {
        const out = q.forward(data, { training: false });
        return [out.indices.dataSync(), tf.mean(tf.square(tf.sub(data, out.quantized))).dataSync()[0]];
      });
      const counts = new Int32Array(K);
      for (const k of idx) counts[k]++;
      for (const s of [a, b]) {
        assert.deepEqual(s.counts, counts);
        assert.equal(s.used, counts.filter((c) => c > 0).length);
        assert.equal(s.usage, s.used / K);
        assert.equal(s.perplexity, perplexityOf(counts));
        assert.ok(Math.abs(s.mse - err) < 1e-6 * err, `mse ${s.mse} vs ${err}`);
      }
      assert.ok(a.used > 1 && a.perplexity > 1);
      // FSQ's grid may hold more codes than a nominal K: counted against its own codebookSize.
      const f = new FSQ({ levels: [7, 5, 5], dim: D, seed: 1 });
      const sf = await evaluateQuantizer(new LinearAutoencoder(f), data);
      assert.equal(sf.counts.length, 175);
      assert.equal(sf.counts.reduce((x, y) => x + y, 0), N);
      f.dispose();
      q.dispose();
      data.dispose();
    });

    test('bad input: a clear error naming the argument, nothing leaked', async () => {
      const n0 = tf.memory().numTensors;
      const data = tf.randomNormal([10, D], 0, 1, 'float32', 6) as tf.Tensor2D;
      const wide = tf.zeros([3, D + 1]) as tf.Tensor2D, rank3 = tf.zeros([2, 3, D]), nan = tf.fill([2, D], NaN) as tf.Tensor2D;
      const q = new VectorQuantizer({ codebookSize: K, dim: D, seed: 1 });
      const ae = new LinearAutoencoder(q);
      const n1 = tf.memory().numTensors;
      assert.throws(() => new LinearAutoencoder({} as never), /LinearAutoencoder\(quantizer\) must be a quantizer/);
      assert.throws(() => new LinearAutoencoder(null as never), /LinearAutoencoder\(quantizer\) must be a quantizer/);
      await assert.rejects(evaluateQuantizer({ forward: 1 } as never, data), /evaluateQuantizer\(quantizer\) must be a quantizer/);
      await assert.rejects(evaluateQuantizer(q, wide), /evaluateQuantizer\(data\) must have shape \[\.\.\., 8\]/);
      await assert.rejects(evaluateQuantizer(q, rank3 as never), /evaluateQuantizer\(data\) must be a tensor \[N, 8\]/);
      await assert.rejects(evaluateQuantizer(q, nan), /evaluateQuantizer\(data\) must be finite/);
      await assert.rejects(evaluateQuantizer(q, data, { batchSize: 0 }), /batchSize must be an integer >= 1/);
      await assert.rejects(evaluateQuantizer(q, data, { chunk: 5 } as never), /unknown option 'chunk'/);
      assert.throws(() => ae.forward(wide), /LinearAutoencoder\.forward\(x\) must have shape \[\.\.\., 8\]/);
      await assert.rejects(trainQuantizer(ae, wide, { steps: 1 }), /trainQuantizer\(data\) must be a float32 tensor \[N ≥ 1, 8\]/);
      assert.equal(tf.memory().numTensors, n1, 'no refusal leaves a tensor behind');
      ae.dispose();
      tf.dispose([data, wide, rank3, nan]);
      assert.equal(tf.memory().numTensors, n0);
    });
  });
}
