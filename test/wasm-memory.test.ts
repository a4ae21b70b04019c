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
import { SeedVQVAE } from '../bench/seed-vqvae';

tf.enableProdMode();

interface Stepper { step(): Promise<void>; dispose(): void; what: string }

/** The library's VQ-VAE and trainer when lib/vqvae exports them, else the bench's model. */
function makeStepper(x: tf.Tensor4D): Stepper {
  let lib: Record<string, unknown> = {};
  let quant: Record<string, unknown> = {};
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    lib = require('../lib/vqvae/index') as Record<string, unknown>;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    quant = require('../lib/quantizer/index') as Record<string, unknown>;
  } catch {
    // fall through to the bench model
  }
  type Ctor = new (...a: unknown[]) => { dispose(): void; trainStep?(b: tf.Tensor4D): Promise<unknown> };
  const VQVAE = lib.VQVAE as Ctor | undefined;
  const Trainer = lib.VQVAETrainer as Ctor | undefined;
  const VQ = quant.VectorQuantizer as Ctor | undefined;
  if (VQVAE && Trainer && VQ) {
    const vq = new VQ({ codebookSize: 32, dim: 32, seed: 0, checkFinite: false });
    const model = new VQVAE({ bottleneck: vq, dim: 32, seed: 0 });
    const trainer = new Trainer(model, { batchSize: x.shape[0], learningRate: 2e-4 });
    return {
      what: 'lib/vqvae VQVAE + VQVAETrainer',
      step: async () => { await trainer.trainStep!(x); },
      dispose: () => { trainer.dispose(); model.dispose(); vq.dispose(); },
    };
  }
  const m = new SeedVQVAE();
  return { what: 'bench/seed-vqvae', step: async () => { m.trainStep(x); }, dispose: () => m.dispose() };
}

test('200 VQ-VAE training steps on wasm leave memory flat', async () => {
  assert.ok(await tf.setBackend('wasm'));
  registerWasmKernels();
  const backend = tf.engine().backend;
  const x = tf.tidy(() => tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 4) as tf.Tensor4D);
  const s = makeStepper(x);
  for (let i = 0; i < 3; i++) await s.step();
  const after3 = { tensors: tf.memory().numTensors, bytes: tf.memory().numBytes, buffers: backend.numDataIds() };
  for (let i = 3; i < 200; i++) await s.step();
  const after200 = { tensors: tf.memory().numTensors, bytes: tf.memory().numBytes, buffers: backend.numDataIds() };
  assert.deepEqual(after200, after3, `memory grew over 200 steps (${s.what})`);
  // (Not asserted here: whether dispose() returns to the starting count. That is the model's
  // business, and constant per model, not per step.)
  s.dispose();
  x.dispose();
});
