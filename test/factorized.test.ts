/** FactorizedVQ (ViT-VQGAN's factorized ℓ2 codes): shapes, its projections (nn/layers' Linear), seeding, no leaks. */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { FactorizedVQ } from '../lib/quantizer/index';
import { useTestBackend } from './support/backend';

before(useTestBackend);

test('FactorizedVQ: [N, dim] → quantized [N, dim] and indices [N]; the same seed gives the same projections; nothing leaks', async () => {
  const before = tf.memory().numTensors;
  const make = (seed: number) => new FactorizedVQ({ codebookSize: 8, dim: 6, codeDim: 2, seed });
  const [a, b, c] = [make(0), make(0), make(1)];
  assert.deepEqual(a.projectIn.kernel.shape, [6, 2]);
  assert.deepEqual(a.projectOut.kernel.shape, [2, 6]);
  assert.deepEqual(await a.projectIn.kernel.data(), await b.projectIn.kernel.data());
  assert.notDeepEqual(await a.projectIn.kernel.data(), await c.projectIn.kernel.data());
  const s = 1 / Math.sqrt(6);
  assert.ok((await a.projectIn.kernel.data()).every((w) => Math.abs(w) <= s), 'torch.nn.Linear init: U(±1/√fanIn)');
  const z = tf.randomNormal([5, 6], 0, 1, 'float32', 3);
  const out = a.forward(z, { training: false });
  assert.deepEqual(out.quantized.shape, [5, 6]);
  assert.deepEqual(out.indices.shape, [5]);
  assert.ok((await out.indices.data()).every((k) => k >= 0 && k < 8));
  assert.equal([...a.namedVariables().keys()].slice(0, 4).join(','), 'projectIn.kernel,projectIn.bias,projectOut.kernel,projectOut.bias');
  tf.dispose([z, ...Object.values(out).filter((t): t is tf.Tensor => t instanceof tf.Tensor)]);
  for (const q of [a, b, c]) q.dispose();
  assert.equal(tf.memory().numTensors, before);
});
