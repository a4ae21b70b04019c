/**
 * Convolutions with PyTorch-style numeric padding run on every backend: the native TensorFlow
 * backend accepts only 'valid'/'same', so lib/nn/layers.ts maps the padding to those or pads
 * explicitly. Checked against tfjs's own numeric padding on the cpu backend, values and gradients.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestBackend } from './support/backend';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { FUSED_CONV2D, FUSED_MATMUL, conv2dPadded, conv2dTransposePadded, matMulBias, type Pad } from '../lib/nn/layers';
import { TEST_TF_BACKEND } from './support/backend';
import { near } from './support/numeric';

type Case = { h: number; w: number; k: number; s: number; pad: Pad };
const convCases: Case[] = [
  { h: 28, w: 28, k: 4, s: 2, pad: 1 }, // 'same' (the VQ-VAE encoder)
  { h: 7, w: 7, k: 3, s: 1, pad: 1 }, // 'same'
  { h: 7, w: 7, k: 1, s: 1, pad: 0 }, // 'valid'
  { h: 8, w: 6, k: 3, s: 2, pad: 1 }, // not 'same' (TF would pad 0 on top): explicit
  { h: 5, w: 5, k: 3, s: 1, pad: 2 }, // wider than 'same': explicit
  { h: 7, w: 7, k: 2, s: 1, pad: [[0, 0], [1, 0], [1, 1], [0, 0]] }, // the PixelCNN's causal padding
];

/** conv2d value and its gradients w.r.t. input and filter, as plain arrays. */
function convRun(fn: (x: tf.Tensor4D, f: tf.Tensor4D) => tf.Tensor4D, c: Case, inC = 3, outC = 5) {
  return tf.tidy(() => {
    const kw = c.k === 2 ? 3 : c.k;
    const x = tf.randomNormal([2, c.h, c.w, inC], 0, 1, 'float32', 1) as tf.Tensor4D;
    const f = tf.randomNormal([c.k, kw, inC, outC], 0, 1, 'float32', 2) as tf.Tensor4D;
    const y = fn(x, f);
    const wts = tf.randomNormal(y.shape, 0, 1, 'float32', 3);
    const [dx, df] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(fn(a as tf.Tensor4D, b as tf.Tensor4D), wts)))([x, f]);
    return { shape: y.shape, y: Array.from(y.dataSync()), dx: Array.from(dx!.dataSync()), df: Array.from(df!.dataSync()) };
  });
}

test('conv2dPadded equals numeric padding (cpu reference), values and gradients', async () => {
  for (const c of convCases) {
    await initBackend('cpu', { quiet: true });
    const ref = convRun((x, f) => tf.conv2d(x, f, c.s, c.pad as never), c);
    await useTestBackend();
    const before = tf.memory().numTensors;
    const got = convRun((x, f) => conv2dPadded(x, f, c.s, c.pad), c);
    assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
    const what = JSON.stringify(c);
    assert.deepEqual(got.shape, ref.shape, what);
    near(got.y, ref.y, 1e-4, 1e-4, `${what} y`);
    near(got.dx, ref.dx, 1e-4, 1e-4, `${what} dx`);
    near(got.df, ref.df, 1e-3, 1e-4, `${what} df`);
  }
});

test('conv2dTransposePadded equals PyTorch ConvTranspose2d output sizes and tfjs numeric padding', async () => {
  const cases = [
    { h: 7, k: 4, s: 2, p: 1 }, // 7 → 14, 'same' (the VQ-VAE decoder)
    { h: 14, k: 4, s: 2, p: 1 }, // 14 → 28
    { h: 5, k: 3, s: 2, p: 1 }, // 5 → 9: cropped 'valid'
    { h: 6, k: 3, s: 1, p: 1 }, // 6 → 6, 'same'
    { h: 4, k: 2, s: 2, p: 0 }, // 4 → 8, 'valid'
  ];
  for (const c of cases) {
    const o = (c.h - 1) * c.s - 2 * c.p + c.k; // PyTorch's output size
    await initBackend('cpu', { quiet: true });
    // filter [k, k, outC = 3, inC = 2]
    const ref = tf.tidy(() => {
      const x = tf.randomNormal([2, c.h, c.h, 2], 0, 1, 'float32', 4) as tf.Tensor4D;
      const f = tf.randomNormal([c.k, c.k, 3, 2], 0, 1, 'float32', 5) as tf.Tensor4D;
      return Array.from(tf.conv2dTranspose(x, f, [2, o, o, 3], c.s, c.p).dataSync());
    });
    await useTestBackend();
    const before = tf.memory().numTensors;
    const got = tf.tidy(() => {
      const x = tf.randomNormal([2, c.h, c.h, 2], 0, 1, 'float32', 4) as tf.Tensor4D;
      const f = tf.randomNormal([c.k, c.k, 3, 2], 0, 1, 'float32', 5) as tf.Tensor4D;
      const y = conv2dTransposePadded(x, f, [2, o, o, 3], c.s, c.p);
      assert.deepEqual(y.shape, [2, o, o, 3]);
      return Array.from(y.dataSync());
    });
    assert.equal(tf.memory().numTensors, before);
    near(got, ref, 1e-4, 1e-4, JSON.stringify(c));
  }
});

test("relu's gradient (ReluGrad on the native backend) equals tfjs-core's dy·step(x) on cpu", async () => {
  const run = () => tf.tidy(() => {
    const x = tf.randomNormal([4, 5, 6, 3], 0, 1, 'float32', 7);
    const dy = tf.randomNormal([4, 5, 6, 3], 0, 1, 'float32', 8);
    const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.relu(a), dy)))(x);
    return Array.from(g.dataSync());
  });
  await initBackend('cpu', { quiet: true });
  const ref = run();
  await useTestBackend();
  const before = tf.memory().numTensors;
  const got = run();
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(got, ref);
});

test('conv2dPadded with bias (+ relu): the fused kernel on the native backend equals conv, add, relu on cpu, values and all three gradients', async () => {
  await useTestBackend();
  // the native build registers TensorFlow's _FusedConv2D (scripts/native-build.mjs patches the binding so it can be called)
  if (TEST_TF_BACKEND === 'tensorflow') assert.ok(tf.getKernel(FUSED_CONV2D, 'tensorflow'), `${FUSED_CONV2D} is registered on the native backend`);
  const run = (c: Case, relu: boolean) => tf.tidy(() => {
    const kw = c.k === 2 ? 3 : c.k;
    const x = tf.randomNormal([2, c.h, c.w, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const f = tf.randomNormal([c.k, kw, 3, 5], 0, 1, 'float32', 2) as tf.Tensor4D;
    const b = tf.randomNormal([5], 0, 1, 'float32', 9) as tf.Tensor1D;
    const fn = (xx: tf.Tensor, ff: tf.Tensor, bb: tf.Tensor) => conv2dPadded(xx as tf.Tensor4D, ff as tf.Tensor4D, c.s, c.pad, bb as tf.Tensor1D, relu);
    const y = fn(x, f, b);
    const wts = tf.randomNormal(y.shape, 0, 1, 'float32', 3);
    const [dx, df, db] = tf.grads((a: tf.Tensor, ff: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(fn(a, ff, bb), wts)))([x, f, b]);
    return [y, dx, df, db].map((t) => Array.from(t.dataSync()));
  });
  for (const c of convCases) {
    for (const relu of [false, true]) {
      await initBackend('cpu', { quiet: true });
      const ref = run(c, relu);
      await useTestBackend();
      const before = tf.memory().numTensors;
      const got = run(c, relu);
      assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
      const what = `${JSON.stringify(c)} relu ${relu}`;
      ['y', 'dx', 'dfilter', 'dbias'].forEach((name, i) => near(got[i], ref[i], 1e-3, 1e-4, `${what} ${name}`));
    }
  }
});

test('matMulBias: the fused kernel on the native backend equals matMul + add on cpu, values and all three gradients', async () => {
  await useTestBackend();
  if (TEST_TF_BACKEND === 'tensorflow') assert.ok(tf.getKernel(FUSED_MATMUL, 'tensorflow'), `${FUSED_MATMUL} is registered on the native backend`);
  const run = () => tf.tidy(() => {
    const a = tf.randomNormal([37, 6], 0, 1, 'float32', 11) as tf.Tensor2D;
    const w = tf.randomNormal([6, 4], 0, 1, 'float32', 12) as tf.Tensor2D;
    const b = tf.randomNormal([4], 0, 1, 'float32', 13) as tf.Tensor1D;
    const wts = tf.randomNormal([37, 4], 0, 1, 'float32', 14);
    const y = matMulBias(a, w, b);
    const [da, dw, db] = tf.grads((x: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
      tf.sum(tf.mul(matMulBias(x as tf.Tensor2D, ww as tf.Tensor2D, bb as tf.Tensor1D), wts)))([a, w, b]);
    return [y, da, dw, db].map((t) => Array.from(t.dataSync()));
  });
  await initBackend('cpu', { quiet: true });
  const ref = run();
  await useTestBackend();
  const before = tf.memory().numTensors;
  const got = run();
  assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
  ['y', 'da', 'dW', 'dbias'].forEach((name, i) => near(got[i], ref[i], 1e-4, 1e-5, name));
});
