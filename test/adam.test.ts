/** lib/nn/adam.ts: PyTorch's Adam, state per variable by name (tfjs's pairs moments by position). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestBackend } from './support/backend';
import * as tf from '@tensorflow/tfjs';
import { Adam } from '../lib/nn/adam';
import { near, vals } from './support/numeric';

test('with every variable in every step it gives the same weights as tfjs AdamOptimizer, bit for bit', async () => {
  await useTestBackend();
  const mk = () => [tf.variable(tf.tensor2d([[1, -2], [3, 0.5]])), tf.variable(tf.tensor1d([0.3, -0.7, 2]))];
  const [a1, b1] = mk(), [a2, b2] = mk();
  const baseline = tf.memory().numTensors;
  const ours = new Adam(0.01), theirs = tf.train.adam(0.01, 0.9, 0.999, 1e-8);
  const loss = (a: tf.Variable, b: tf.Variable) => () => tf.add(tf.sum(tf.square(tf.sub(a, 1))), tf.sum(tf.pow(b, 4))) as tf.Scalar;
  for (let i = 0; i < 5; i++) {
    const g1 = tf.variableGrads(loss(a1, b1), [a1, b1]);
    ours.applyGradients(g1.grads);
    const g2 = tf.variableGrads(loss(a2, b2), [a2, b2]);
    theirs.applyGradients(g2.grads as never);
    tf.dispose([g1.value, g2.value, ...Object.values(g1.grads), ...Object.values(g2.grads)]);
  }
  assert.deepEqual(vals(a1), vals(a2), 'a: bit-identical to tfjs');
  assert.deepEqual(vals(b1), vals(b2), 'b: bit-identical to tfjs');
  ours.dispose();
  theirs.dispose();
  assert.equal(tf.memory().numTensors, baseline, 'dispose frees every moment (the slots and the flat-kept pair)');
  tf.dispose([a1, b1, a2, b2]);
});

test('a variable without a gradient is skipped: its moments and step count stay, the others pair correctly', async () => {
  await useTestBackend();
  const a = tf.variable(tf.tensor1d([1, 2, 3])), b = tf.variable(tf.tensor2d([[1, 2], [3, 4]]));
  const opt = new Adam(0.1);
  const step = (vars: tf.Variable[]) => {
    const { value, grads } = tf.variableGrads(() => tf.addN(vars.map((v) => tf.sum(tf.square(v)))) as tf.Scalar, vars);
    opt.applyGradients(grads);
    tf.dispose([value, ...Object.values(grads)]);
  };
  step([a, b]);
  step([b]); // a is left out, as a dropped residual stage is (tfjs's Adam fails here on a shape mismatch)
  step([a, b]);
  assert.equal(opt.stepsOf(a.name), 2);
  assert.equal(opt.stepsOf(b.name), 3);
  // a by hand: Adam's first two steps on w², each moving by ≈ lr·sign(g)
  const expectA = [1, 2, 3].map((w0) => {
    let w = w0, m = 0, v = 0;
    for (let t = 1; t <= 2; t++) {
      const g = 2 * w;
      m = 0.9 * m + 0.1 * g; v = 0.999 * v + 0.001 * g * g;
      w -= (0.1 * (m / (1 - 0.9 ** t))) / (Math.sqrt(v / (1 - 0.999 ** t)) + 1e-8);
    }
    return w;
  });
  near(vals(a), expectA, 1e-5, 1e-5, 'a after its two steps');
  assert.throws(() => opt.applyGradients({ nope: tf.scalar(1) }), /Adam.applyGradients\(grads\): no variable named 'nope'/);
  opt.dispose();
  tf.dispose([a, b]);
});

test('moments kept flat between steps: the same weights and moments as when every step reads them back (namedState), across a skipped variable', async () => {
  await useTestBackend();
  const mk = () => [tf.variable(tf.tensor2d([[1, -2], [3, 0.5]])), tf.variable(tf.tensor1d([0.3, -0.7, 2])), tf.variable(tf.tensor3d([[[0.1], [-0.2]]]))];
  const [va, vb] = [mk(), mk()];
  const baseline = tf.memory().numTensors;
  const [kept, synced] = [new Adam(0.05), new Adam(0.05)];
  const named = (vs: tf.Variable[]) => new Map(vs.map((v, i) => [`v${i}`, v] as const));
  const step = (opt: Adam, vs: tf.Variable[], use: number[]) => {
    const on = use.map((i) => vs[i]);
    const { value, grads } = tf.variableGrads(() => tf.addN(on.map((v, k) => tf.sum(tf.pow(tf.sub(v, k), 4)))) as tf.Scalar, on);
    opt.applyGradients(grads);
    tf.dispose([value, ...Object.values(grads)]);
  };
  const plan = [[0, 1, 2], [0, 1, 2], [0, 2], [0, 1, 2], [0, 1, 2], [1, 2], [0, 1, 2]];
  for (const use of plan) {
    step(kept, va, use);
    step(synced, vb, use);
    synced.namedState(named(vb)); // writes any flat-kept moments back, so the next step starts from the slots
  }
  for (let i = 0; i < 3; i++) assert.deepEqual(vals(va[i]), vals(vb[i]), `weights of v${i}`);
  const [ma, mb] = [kept.namedState(named(va)), synced.namedState(named(vb))];
  for (const [k, m] of ma) assert.deepEqual(vals(m), vals(mb.get(k)!), `moment ${k}`);
  kept.dispose();
  synced.dispose();
  assert.equal(tf.memory().numTensors, baseline, 'nothing leaks');
  tf.dispose([...va, ...vb]);
});
