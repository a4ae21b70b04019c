/**
 * lib/nn/gradients.ts: mean's and sum's gradients broadcast dy instead of multiplying by a tensor
 * of ones. They must equal tfjs-core's own bit for bit, on every backend, for every axis choice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useTestBackend } from './support/backend';

test("mean's and sum's gradients equal tfjs-core's (dy · ones) bit for bit, over all axes, some, negative and kept", async () => {
  const core = { Mean: tf.getGradient('Mean'), Sum: tf.getGradient('Sum') }; // before initBackend registers ours
  await useTestBackend();
  const ours = { Mean: tf.getGradient('Mean'), Sum: tf.getGradient('Sum') };
  assert.notEqual(ours.Mean, core.Mean, 'initBackend registered its own Mean gradient');
  const x = tf.randomNormal([3, 4, 5], 0, 1, 'float32', 1);
  const w = tf.randomNormal([3, 4, 5], 0, 1, 'float32', 2);
  const cases: Array<[string, (t: tf.Tensor) => tf.Tensor]> = [
    ['mean()', (t) => tf.mean(t)], ['mean(1)', (t) => tf.mean(t, 1)], ['mean([0, 2])', (t) => tf.mean(t, [0, 2])],
    ['mean(-1, keepDims)', (t) => tf.mean(t, -1, true)], ['sum()', (t) => tf.sum(t)], ['sum(0)', (t) => tf.sum(t, 0)],
    ['sum([1, 2], keepDims)', (t) => tf.sum(t, [1, 2], true)],
  ];
  const gradOf = (f: (t: tf.Tensor) => tf.Tensor) => tf.tidy(() => {
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(f(tf.mul(t, w)), f(w))))(x); // a dy that differs per output element
    return Array.from(g.dataSync());
  });
  try {
    for (const [name, f] of cases) {
      tf.registerGradient(core.Mean!);
      tf.registerGradient(core.Sum!);
      const want = gradOf(f);
      tf.registerGradient(ours.Mean!);
      tf.registerGradient(ours.Sum!);
      const before = tf.memory().numTensors;
      const got = gradOf(f);
      assert.equal(tf.memory().numTensors, before, `${name}: no tensor left behind`);
      assert.deepEqual(got, want, name);
    }
  } finally {
    tf.registerGradient(ours.Mean!);
    tf.registerGradient(ours.Sum!);
    tf.dispose([x, w]);
  }
});
