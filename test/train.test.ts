/**
 * lib/train, the training room, and its thin users: one batching (fresh shuffle per pass),
 * resuming after whole epochs gives the weights of an uninterrupted run, divergence is named
 * with its step and keeps the last good weights, fitWithLog drives any trainer (the prior's
 * included), and trainQuantizer stops between steps on an interrupt, leaks nothing when the
 * forward throws, and trains every quantizer with its own loss (SimVQ's W, LFQ's entropy).
 */
import { describe, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestBackend } from './support/backend';
import {
  Batches, FSQ, GatedPixelCNN, InterruptedError, LFQ, PixelCNNTrainer, ResidualVQ, SimVQ, TrainingDivergedError, VQVAE,
  Rng, VQVAETrainer, VectorQuantizer, fitWithLog, permutationOf, rngSampleOf, signalInterrupt, tf, trainQuantizer,
} from '../lib/internal';

const images = (n: number, seed: number) => tf.tidy(() => tf.clipByValue(tf.randomUniform([n, 8, 8, 1], 0, 1, 'float32', seed), 0, 1)) as tf.Tensor4D;
const vqvae = (seed = 1) => {
  const q = new VectorQuantizer({ codebookSize: 4, dim: 4, seed, checkFinite: false });
  return { m: new VQVAE({ bottleneck: q, dim: 4, seed }), q };
};
const weights = (m: VQVAE) => [...m.namedVariables().values()].map((v) => Array.from(v.dataSync()));

describe('lib/train', () => {
  before(useTestBackend);

  test('Batches: epoch mode cuts one fresh permutation per pass; carry mode keeps every batch full across passes', () => {
    const b = new Batches(10, 4, permutationOf(7), 'epoch');
    const e1 = b.nextEpoch(), e2 = b.nextEpoch();
    assert.deepEqual(e1.map((x) => x.length), [4, 4, 2]);
    assert.deepEqual([...e1.flatMap((x) => [...x])].sort((p, q) => p - q), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.notDeepEqual(e1.map((x) => [...x]), e2.map((x) => [...x]), 'a fresh shuffle per pass');
    assert.deepEqual(new Batches(10, 4, permutationOf(7), 'epoch', true).nextEpoch().map((x) => x.length), [4, 4]);
    const c = new Batches(10, 4, rngSampleOf(3), 'carry');
    const seen = [c.next(), c.next(), c.next()];
    assert.ok(seen.every((x) => x.length === 4));
    assert.deepEqual([...seen[0], ...seen[1], ...seen[2].slice(0, 2)].sort((p, q) => p - q), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.throws(() => new Batches(0, 4, permutationOf(1)), /Batches\(n\) must be an integer >= 1/);
  });

  test('resumeAfter: 1 epoch, save weights + Adam, resume 1 more = 2 epochs straight (bit-identical)', async () => {
    const x = images(12, 3);
    const straight = vqvae();
    const t1 = new VQVAETrainer(straight.m, { batchSize: 4, learningRate: 3e-3, seed: 5 });
    await t1.fit(x, { epochs: 2 });
    const a = vqvae();
    const t2 = new VQVAETrainer(a.m, { batchSize: 4, learningRate: 3e-3, seed: 5 });
    await t2.fit(x, { epochs: 1 });
    const saved = [...a.m.namedVariables()].map(([k, v]) => [k, v.clone()] as const);
    const moments = [...t2.optimizer.namedState(a.m.namedVariables())].map(([k, v]) => [k, v.clone()] as const);
    const counts = t2.optimizer.counts(a.m.namedVariables());
    const b = vqvae(9); // other init: everything comes from the "checkpoint"
    const named = b.m.namedVariables();
    for (const [k, v] of saved) named.get(k)!.assign(v);
    b.m.restored();
    const t3 = new VQVAETrainer(b.m, { batchSize: 4, learningRate: 3e-3, seed: 5 });
    const state = t3.optimizer.namedState(b.m.namedVariables());
    for (const [k, v] of moments) state.get(k)!.assign(v);
    t3.optimizer.setCounts(b.m.namedVariables(), counts);
    t3.resumeAfter(1, 12);
    const n0 = tf.memory().numTensors;
    const more = await t3.fit(x, { epochs: 1 });
    assert.equal(tf.memory().numTensors, n0 + 2, 'nothing leaks; the two new tensors are Adam\'s moments kept flat between steps');
    assert.equal(more[0].epoch, 1, 'the resumed trainer counts on from epoch 2');
    assert.deepEqual(weights(b.m), weights(straight.m), 'resumed run = straight run');
    assert.throws(() => t3.resumeAfter(1, 12), /already trained/);
    tf.dispose([...saved.map((s) => s[1]), ...moments.map((s) => s[1])]);
    for (const r of [straight, a, b]) { r.m.dispose(); r.q.dispose(); }
    for (const t of [t1, t2, t3]) t.dispose();
    x.dispose();
  });

  test('divergence: a non-finite loss is not applied; the error names the step and the learning rate', async () => {
    const x = images(8, 4);
    const { m, q } = vqvae();
    const n0 = tf.memory().numTensors;
    const t = new VQVAETrainer(m, { batchSize: 4, learningRate: 1e12, seed: 1 });
    await assert.rejects(t.fit(x, { epochs: 50 }), (e: Error) => e instanceof TrainingDivergedError
      && /VQVAETrainer: training diverged at step \d+ \(epoch \d+\): .*Try a lower learningRate \(now 1000000000000\)/.test(e.message));
    t.dispose();
    assert.equal(tf.memory().numTensors, n0, 'nothing leaked');
    m.dispose(); q.dispose(); x.dispose();
  });

  test('fitWithLog(trainer, data, …): the prior trains through the same loop, with its evaluation and log', async () => {
    const codes = tf.tidy(() => tf.randomUniform([16, 3, 3], 0, 4, 'int32', 2)) as tf.Tensor3D;
    const labels = Array.from({ length: 16 }, (_, i) => i % 2);
    const p = new GatedPixelCNN({ codebookSize: 4, numClasses: 2, channels: 8, blocks: 1, height: 3, width: 3, seed: 0 });
    const n0 = tf.memory().numTensors;
    const t = new PixelCNNTrainer(p, { batchSize: 8, seed: 0 });
    let stoppedAt = 0;
    const log = await fitWithLog(t, codes, {
      epochs: 5, progress: false, unit: 'grids', fit: { labels },
      record: (s) => ({ bits: s.bitsPerCode }),
      evaluate: async () => ({ bits: await p.nll(codes, labels) }),
      afterEpoch: (l) => { stoppedAt = l.epochsTrained; return l.epochsTrained === 3; },
    });
    t.dispose();
    assert.equal(tf.memory().numTensors, n0);
    assert.equal(stoppedAt, 3);
    assert.equal(log.epochsTrained, 3, 'afterEpoch stopped it after 3 epochs');
    assert.equal(log.steps.bits.length, 6);
    assert.deepEqual(log.epochs.map((e) => e.step), [2, 4, 6]);
    assert.ok(log.epochs.every((e) => Number.isFinite(e.bits)));
    const t2 = new PixelCNNTrainer(p, { batchSize: 8, seed: 0 });
    await assert.rejects(fitWithLog(t2, codes, { epochs: 1, progres: false } as never), /unknown option 'progres'/);
    t2.dispose(); p.dispose(); codes.dispose();
  });
});

describe('trainQuantizer on lib/train', () => {
  before(useTestBackend);

  test('bit-identical to the loop notebooks 03–05 were trained with (tf.train.adam, Rng.sample batches)', async () => {
    const data = tf.randomNormal([500, 16], 0, 1, 'float32', 2) as tf.Tensor2D;
    const mk = () => new VectorQuantizer({ codebookSize: 64, dim: 16, commitmentWeight: 1, seed: 0, checkFinite: false });
    const q1 = mk(), q2 = mk();
    const rng = new Rng(1000);
    let order: number[] = [];
    const opt = tf.train.adam(1e-3);
    const old: number[] = [];
    for (let s = 0; s < 20; s++) {
      if (order.length < 32) order = order.concat(rng.sample(500, 500));
      const rows = order.splice(0, 32);
      old.push(tf.tidy(() => {
        const x = tf.gather(data, tf.tensor1d(rows, 'int32'));
        return opt.minimize(() => q1.forward(x).loss, true, q1.trainableVariables())!.dataSync()[0];
      }));
    }
    const r = await trainQuantizer(q2, data, { steps: 20, learningRate: 1e-3, batchSize: 32, seed: 1000 });
    assert.deepEqual(r.losses, old);
    assert.deepEqual(Array.from(q2.codebook.dataSync()), Array.from(q1.codebook.dataSync()));
    opt.dispose(); q1.dispose(); q2.dispose(); data.dispose();
  });

  test('an interrupt stops it between two steps, with an InterruptedError; nothing leaks; tf is left clean', async () => {
    const data = tf.randomNormal([64, 4], 0, 1, 'float32', 1) as tf.Tensor2D;
    const q = new VectorQuantizer({ codebookSize: 8, dim: 4, seed: 1 });
    const n0 = tf.memory().numTensors;
    let steps = 0;
    await assert.rejects(trainQuantizer(q, data, { steps: 1e6, batchSize: 16, onStep: () => { if (++steps === 3) signalInterrupt(); } }),
      (e: Error) => e instanceof InterruptedError && /trainQuantizer: interrupted .* after 3 of 1000000 steps/.test(e.message));
    assert.equal(steps, 3);
    assert.equal(tf.memory().numTensors, n0);
    const scopes = (tf.engine().state as unknown as { gradientDepth: number; activeTape: unknown }).gradientDepth;
    assert.equal(scopes, 0, 'no gradient tape left recording');
    q.dispose(); data.dispose();
  });

  test('a forward that throws (bad dim, N = 0, int32, NaN) leaks nothing and names the argument', async () => {
    const q = new VectorQuantizer({ codebookSize: 8, dim: 4, seed: 1 });
    const bad: [string, () => tf.Tensor2D, RegExp][] = [
      ['dim 3', () => tf.zeros([8, 3]) as tf.Tensor2D, /trainQuantizer\(data\) must be a float32 tensor \[N ≥ 1, 4\]/],
      ['N 0', () => tf.zeros([0, 4]) as tf.Tensor2D, /trainQuantizer\(data\) must be a float32 tensor/],
      ['int32', () => tf.zeros([8, 4], 'int32') as tf.Tensor2D, /trainQuantizer\(data\) must be a float32 tensor/],
      ['NaN', () => tf.fill([8, 4], NaN) as tf.Tensor2D, /trainQuantizer\(data\) must be finite/],
    ];
    for (const [what, make, re] of bad) {
      const x = make();
      const n0 = tf.memory().numTensors;
      await assert.rejects(trainQuantizer(q, x, { steps: 2 }), re, what);
      await assert.rejects(trainQuantizer(q, () => make(), { steps: 2 }), /trainQuantizer\(data\(0\)\)/, `${what} from a function`);
      assert.equal(tf.memory().numTensors, n0, `${what}: numTensors unchanged`);
      x.dispose();
    }
    q.dispose();
  });

  test('every quantizer trains with its own loss: SimVQ moves W, LFQ minimises its entropy loss, ResidualVQ, FSQ', async () => {
    const data = tf.randomNormal([256, 4], 0, 1, 'float32', 2) as tf.Tensor2D;
    const sim = new SimVQ({ codebookSize: 16, dim: 4, seed: 1 });
    const w0 = sim.trainableVariables().map((v) => Array.from(v.dataSync()));
    await trainQuantizer(sim, data, { steps: 5, learningRate: 1e-2, batchSize: 64 });
    assert.notDeepEqual(sim.trainableVariables().map((v) => Array.from(v.dataSync())), w0, 'SimVQ: W changed');
    const data8 = tf.randomNormal([256, 8], 0, 1, 'float32', 4) as tf.Tensor2D;
    const lfq = new LFQ({ codebookSize: 16, dim: 8, entropyWeight: 1, seed: 1 }); // 8 → 4 bits: projections to train
    const r = await trainQuantizer(lfq, data8, { steps: 40, learningRate: 1e-2, batchSize: 64 });
    const own = tf.tidy(() => lfq.forward(data8, { training: false }).loss.dataSync()[0]);
    assert.ok(Math.abs(r.losses[r.losses.length - 1] - own) < 0.2, `LFQ: the minimised value is its own loss (${r.losses.at(-1)} vs ${own})`);
    assert.ok(r.losses.at(-1)! < r.losses[0], 'LFQ: its loss falls');
    const rvq = new ResidualVQ({ numQuantizers: 2, seed: 1, vq: { codebookSize: 8, dim: 4 } });
    const rr = await trainQuantizer(rvq, data, { steps: 20, learningRate: 1e-2, batchSize: 64 });
    assert.ok(rr.errors.at(-1)! < rr.errors[0], 'ResidualVQ: its error falls');
    const n0 = tf.memory().numTensors;
    await trainQuantizer(new FSQ({ levels: [5, 5], dim: 4, seed: 1 }), data, { steps: 2 }).then(() => undefined);
    assert.ok(tf.memory().numTensors >= n0);
    for (const x of [sim, lfq, rvq]) x.dispose();
    tf.dispose([data, data8]);
  });

  test('divergence names its step; a non-quantizer is refused by name', async () => {
    const data = tf.randomNormal([64, 4], 0, 1, 'float32', 3) as tf.Tensor2D;
    const q = new VectorQuantizer({ codebookSize: 8, dim: 4, seed: 1 });
    await assert.rejects(trainQuantizer(q, data, { steps: 200, learningRate: 1e30, batchSize: 16 }),
      (e: Error) => e instanceof TrainingDivergedError && /trainQuantizer: training diverged at step \d+/.test(e.message));
    await assert.rejects(trainQuantizer({} as never, data, { steps: 1 }), /trainQuantizer\(quantizer\) must be a VectorQuantizer, FSQ, LFQ, SimVQ, ResidualVQ or LinearAutoencoder/);
    q.dispose(); data.dispose();
  });
});
