/**
 * Construct-then-dispose leaves no tensor behind, for every stateful class of the library,
 * and the non-differentiable lookups (encode/decode/quantize) are safe under tf.grad.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestBackend } from './support/backend';
import { FSQ, GatedPixelCNN, VectorQuantizer, VQVAE, initBackend, tf } from '../lib/index';

const makers: Record<string, () => { dispose(): void }> = {
  'VectorQuantizer (plain)': () => new VectorQuantizer({ codebookSize: 8, dim: 4, seed: 1 }),
  'VectorQuantizer (ema)': () => new VectorQuantizer({ codebookSize: 8, dim: 4, seed: 1, ema: {} }),
  'VectorQuantizer (dead-code restarts)': () => new VectorQuantizer({ codebookSize: 8, dim: 4, seed: 1, deadCodeThreshold: 0.5 }),
  'FSQ (with projections)': () => new FSQ({ levels: [3, 3], dim: 5, seed: 1 }),
  'VQVAE + its quantizer': () => {
    const q = new VectorQuantizer({ codebookSize: 8, dim: 4, seed: 1 });
    const m = new VQVAE({ bottleneck: q, dim: 4, seed: 1 });
    return { dispose: () => { m.dispose(); q.dispose(); } };
  },
  'GatedPixelCNN (class-conditional)': () => new GatedPixelCNN({ codebookSize: 8, channels: 4, blocks: 1, numClasses: 3, seed: 1 }),
};

for (const [name, make] of Object.entries(makers)) {
  test(`${name}: construct + dispose leaves tf.memory().numTensors unchanged`, async () => {
    await useTestBackend();
    const before = tf.memory().numTensors;
    make().dispose();
    assert.equal(tf.memory().numTensors, before);
  });
}

test('GatedPixelCNN.sample with a class label leaves no tensor behind', async () => {
  await useTestBackend();
  const prior = new GatedPixelCNN({ codebookSize: 4, height: 3, width: 3, channels: 4, blocks: 1, numClasses: 3, seed: 1 });
  const before = tf.memory().numTensors;
  const idx = await prior.sample(2, { seed: 0, classLabel: 1 });
  idx.dispose();
  assert.equal(tf.memory().numTensors, before);
  prior.dispose();
});

test('VectorQuantizer.quantize/encode/decode under tf.grad: no error, zero gradient', async () => {
  await useTestBackend();
  const q = new VectorQuantizer({ codebookSize: 8, dim: 4, seed: 3 });
  const z = tf.randomNormal([5, 4], 0, 1, 'float32', 4);
  const before = tf.memory().numTensors;
  const g = tf.grad((x: tf.Tensor) => tf.sum(q.quantize(x)))(z);
  assert.deepEqual(Array.from(g.dataSync()), new Array(20).fill(0));
  const idx = q.encode(z);
  const decoded = q.decode(idx);
  const direct = q.quantize(z);
  assert.deepEqual(Array.from(decoded.dataSync()), Array.from(direct.dataSync()));
  tf.dispose([g, idx, decoded, direct]);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([z]);
  q.dispose();
});
