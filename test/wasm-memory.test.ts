/**
 * Training memory stays flat on wasm: tf.memory().numTensors / numBytes and the wasm backend's
 * own buffer count are the same after 200 VQ-VAE training steps as after the first few (the
 * optimizer's slots are created on step 1). Small batch so it runs in seconds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmKernels } from '../lib/wasm/index';
import { VectorQuantizer } from '../lib/quantizer/index';
import { VQVAE, VQVAETrainer } from '../lib/vqvae/index';

tf.enableProdMode();

test('200 VQ-VAE training steps on wasm leave memory flat', async () => {
  assert.ok(await tf.setBackend('wasm'));
  registerWasmKernels();
  const backend = tf.engine().backend;
  const x = tf.tidy(() => tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 4) as tf.Tensor4D);
  const start = { tensors: tf.memory().numTensors, bytes: tf.memory().numBytes };
  const vq = new VectorQuantizer({ codebookSize: 32, dim: 32, seed: 0, checkFinite: false });
  const model = new VQVAE({ bottleneck: vq, dim: 32, seed: 0 });
  const trainer = new VQVAETrainer(model, { batchSize: x.shape[0], learningRate: 2e-4 });
  const s = { step: async () => { await trainer.trainStep(x); }, what: 'lib/vqvae VQVAE + VQVAETrainer' };
  for (let i = 0; i < 3; i++) await s.step();
  const after3 = { tensors: tf.memory().numTensors, bytes: tf.memory().numBytes, buffers: backend.numDataIds() };
  for (let i = 3; i < 200; i++) await s.step();
  const after200 = { tensors: tf.memory().numTensors, bytes: tf.memory().numBytes, buffers: backend.numDataIds() };
  assert.deepEqual(after200, after3, `memory grew over 200 steps (${s.what})`);
  trainer.dispose();
  model.dispose();
  vq.dispose();
  assert.deepEqual({ tensors: tf.memory().numTensors, bytes: tf.memory().numBytes }, start, 'dispose() frees everything');
  x.dispose();
});
