/**
 * What user code can do to the process and the loops: uncaught errors after the wasm backend
 * loaded end a plain script with Node's short error (not Emscripten's 55 KB dump, exit 7);
 * kernel interrupts stop every long loop at the next step, leaving the model usable and no
 * tensors behind; batch sizes that could never advance a loop are rejected up front.
 * (The kernel side — un-awaited rejections and interrupts in a live tslab kernel — is in
 * test/python/test_kernel_survival.py.)
 */
import { describe, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { useTestBackend } from './support/backend';
import * as path from 'node:path';
import {
  GatedPixelCNN, InterruptedError, PixelCNNTrainer, VQVAE, VQVAETrainer, VectorQuantizer, encodeDataset, epochBatches, trainQuantizer,
  evaluateVQVAE, fitWithLog, interruptCount, signalInterrupt, tf,
} from '../lib/internal';

const LIB = path.resolve(__dirname, '..', 'lib', 'index.js');

/** Run `body` in a fresh Node after initBackend('wasm'); returns its exit code and stderr. */
function script(body: string): { status: number | null; stderr: string } {
  const src = `const vq = require(${JSON.stringify(LIB)});\n(async () => { await vq.initBackend('wasm', { quiet: true });\n${body}\n})();`;
  const r = spawnSync(process.execPath, ['-e', src], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, VQ_WASM_THREADS: '2' } });
  return { status: r.status, stderr: r.stderr };
}

describe('a plain script after initBackend(wasm)', () => {
  for (const [what, body, needle] of [
    ['a throw in a timer', "setTimeout(() => { throw new Error('thrown in a timer'); }, 5);", 'thrown in a timer'],
    ['an un-awaited rejection', "Promise.reject(new Error('nobody awaited me'));", 'nobody awaited me'],
  ] as const) {
    test(`${what} ends it with Node's short error (exit 1), not the Emscripten dump (exit 7)`, () => {
      const r = script(body);
      assert.equal(r.status, 1, r.stderr.slice(0, 500));
      assert.ok(r.stderr.includes(needle), r.stderr.slice(0, 500));
      assert.ok(r.stderr.length < 4000, `stderr is ${r.stderr.length} bytes`);
      assert.ok(!r.stderr.includes('GROWABLE_HEAP'), 'no minified Emscripten source');
    });
  }

  test('a script that handles its own errors keeps its handlers and runs on', () => {
    const r = script("process.on('unhandledRejection', (e) => console.error('handled:', e.message));\n" +
      "Promise.reject(new Error('x1')); setTimeout(() => { console.error('still here'); }, 50);");
    assert.equal(r.status, 0, r.stderr.slice(0, 500));
    assert.match(r.stderr, /handled: x1[\s\S]*still here/);
  });
});

describe('interrupts stop the long loops at the next step', () => {
  before(useTestBackend);
  const images = () => tf.randomUniform([12, 28, 28, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
  const vqvae = () => {
    const q = new VectorQuantizer({ codebookSize: 8, dim: 4, seed: 1 });
    const m = new VQVAE({ bottleneck: q, dim: 4, seed: 1 });
    return { m, free: () => { m.dispose(); q.dispose(); } };
  };

  test('VQVAETrainer.fit: stops after the step in which the interrupt came; the model trains on afterwards', async () => {
    const x = images();
    const { m, free } = vqvae();
    const trainer = new VQVAETrainer(m, { batchSize: 4, seed: 1 });
    let steps = 0;
    const c0 = interruptCount();
    await assert.rejects(
      trainer.fit(x, { epochs: 1000, onStep: () => { if (++steps === 2) signalInterrupt(); } }),
      (e: Error) => e instanceof InterruptedError && /fit: interrupted .* after 2 of 3000 steps/.test(e.message),
    );
    assert.equal(interruptCount(), c0 + 1);
    assert.equal(steps, 2, 'no step after the interrupt');
    assert.equal(trainer.history.length, 2);
    // usable: the next fit (a new guard) runs normally, and nothing leaked
    const more = await trainer.fit(x, { epochs: 1 });
    assert.equal(more.length, 3);
    assert.ok(more.every((s) => Number.isFinite(s.loss)));
    const n0 = tf.memory().numTensors;
    await assert.rejects(trainer.fit(x, { epochs: 5, onStep: () => signalInterrupt() }), InterruptedError);
    assert.equal(tf.memory().numTensors, n0, 'an interrupted fit leaves no tensors behind');
    trainer.dispose(); free(); x.dispose();
  });

  test('fitWithLog: an interrupt during training (or its per-epoch test scoring) stops it; nothing leaks', async () => {
    const x = images();
    const { m, free } = vqvae();
    const n0 = tf.memory().numTensors;
    for (const ticks of [1, 3, 8]) { // at various points: the first steps, later steps, the evaluation
      let left = ticks;
      const tick = () => { if (--left <= 0) signalInterrupt(); else setImmediate(tick); };
      setImmediate(tick);
      await assert.rejects(fitWithLog(m, x, x, { epochs: 100, batchSize: 4, learningRate: 1e-3, seed: 1, progress: false }),
        (e: Error) => e instanceof InterruptedError && /^(VQVAETrainer\.fit|evaluateVQVAE): interrupted/.test(e.message));
    }
    assert.equal(tf.memory().numTensors, n0, 'the trainer and its optimizer are freed');
    const log = await fitWithLog(m, x, x, { epochs: 1, batchSize: 4, learningRate: 1e-3, seed: 1, progress: false });
    assert.equal(log.steps.loss.length, 3);
    free(); x.dispose();
  });

  test('evaluateVQVAE, encodeDataset, prior nll / sample / fit: each stops, nothing leaks', async () => {
    const x = images();
    const { m, free } = vqvae();
    const n0 = tf.memory().numTensors;
    // an interrupt that arrives while the loop runs (between its steps)
    const interruptSoon = () => { setImmediate(signalInterrupt); };
    interruptSoon();
    await assert.rejects(evaluateVQVAE(m, x, { batchSize: 1 }), /evaluateVQVAE: interrupted .* after \d+ of 12 images/);
    interruptSoon();
    await assert.rejects(encodeDataset(m, x, { batchSize: 1 }), /encodeDataset: interrupted .* after \d+ of 12 images/);
    assert.equal(tf.memory().numTensors, n0, 'the loops free what they made');
    const p = new GatedPixelCNN({ codebookSize: 8, channels: 4, blocks: 1, seed: 1 });
    const codes = tf.tensor3d(Array.from({ length: 12 * 49 }, (_, i) => i % 8), [12, 7, 7], 'int32');
    const n1 = tf.memory().numTensors;
    interruptSoon();
    await assert.rejects(p.nll(codes, undefined, 1), /nll: interrupted .* after \d+ of 12 grids/);
    interruptSoon();
    await assert.rejects(p.sample(2, { seed: 1 }), /sample: interrupted .* after \d+ of 49 positions/);
    assert.equal(tf.memory().numTensors, n1);
    const pt = new PixelCNNTrainer(p, { batchSize: 2 });
    interruptSoon();
    await assert.rejects(pt.fit(codes, { epochs: 100 }), InterruptedError);
    // still usable
    assert.ok(Number.isFinite(await p.nll(codes)));
    pt.dispose(); p.dispose(); codes.dispose(); free(); x.dispose();
  });

  test('an interrupt before a loop starts does not stop it (each loop counts from its start)', async () => {
    signalInterrupt();
    const p = new GatedPixelCNN({ codebookSize: 8, channels: 4, blocks: 1, seed: 1 });
    const codes = tf.tensor3d(Array.from({ length: 2 * 49 }, (_, i) => i % 8), [2, 7, 7], 'int32');
    assert.ok(Number.isFinite(await p.nll(codes, undefined, 1)));
    p.dispose(); codes.dispose();
  });
});

describe('batch sizes that could never advance a loop are rejected', () => {
  before(useTestBackend);

  test('GatedPixelCNN.nll(indices, labels, batchSize) with batchSize 0, -1, 0.5, NaN: an error naming batchSize', async () => {
    const p = new GatedPixelCNN({ codebookSize: 8, channels: 4, blocks: 1, seed: 1 });
    const codes = tf.tensor3d(Array.from({ length: 2 * 49 }, (_, i) => i % 8), [2, 7, 7], 'int32');
    const n0 = tf.memory().numTensors;
    for (const bs of [0, -1, 0.5, NaN, Infinity]) {
      await assert.rejects(p.nll(codes, undefined, bs), /GatedPixelCNN\.nll\(batchSize\) must be an integer >= 1/);
    }
    assert.equal(tf.memory().numTensors, n0);
    p.dispose(); codes.dispose();
  });

  test('every other batch-size argument: trainers, evaluateVQVAE, encodeDataset, epochBatches, fit maxSteps', async () => {
    const q = new VectorQuantizer({ codebookSize: 8, dim: 4, seed: 1 });
    const m = new VQVAE({ bottleneck: q, dim: 4, seed: 1 });
    const p = new GatedPixelCNN({ codebookSize: 8, channels: 4, blocks: 1, seed: 1 });
    const x = tf.zeros([2, 28, 28, 1]) as tf.Tensor4D;
    const t = new VQVAETrainer(m, { batchSize: 2 });
    const n0 = tf.memory().numTensors;
    for (const bs of [0, -2, 1.5, NaN]) {
      assert.throws(() => new VQVAETrainer(m, { batchSize: bs }), /VQVAETrainer.*batchSize must be an integer >= 1/);
      assert.throws(() => new PixelCNNTrainer(p, { batchSize: bs }), /PixelCNNTrainer.*batchSize must be an integer >= 1/);
      await assert.rejects(evaluateVQVAE(m, x, { batchSize: bs }), /evaluateVQVAE.*batchSize must be an integer >= 1/);
      await assert.rejects(encodeDataset(m, x, { batchSize: bs }), /encodeDataset.*batchSize must be an integer >= 1/);
      assert.throws(() => epochBatches(10, bs, Math.random), /epochBatches\(batchSize\) must be an integer >= 1/);
    }
    for (const ms of [-1, 0.5, NaN]) await assert.rejects(t.fit(x, { maxSteps: ms }), /maxSteps must be an integer >= 0/);
    assert.deepEqual(await t.fit(x, { maxSteps: 0 }), []);
    assert.equal(tf.memory().numTensors, n0);
    t.dispose(); m.dispose(); q.dispose(); p.dispose(); x.dispose();
  });
});
