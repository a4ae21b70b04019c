/** Projections (the learned maps around FSQ's, LFQ's and FactorizedVQ's code space): any rank, absent when dim = inner, names, no leaks. */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Projections } from '../lib/quantizer/projections';
import { Linear } from '../lib/nn/layers';
import { Rng } from '../lib/rng';
import { useTestBackend } from './support/backend';

before(useTestBackend);

test('Projections: toInner / toOuter act on the last axis of any rank, as Linear on the rows; drawn in, then out', async () => {
  const before = tf.memory().numTensors;
  const p = new Projections(6, 3, new Rng(5));
  const rng = new Rng(5);
  const [lin, lout] = [new Linear(6, 3, rng), new Linear(3, 6, rng)];
  assert.deepEqual(await p.in!.kernel.data(), await lin.kernel.data(), 'the same draws as two Linears in that order');
  assert.deepEqual(await p.out!.bias.data(), await lout.bias.data());
  for (const shape of [[6], [4, 6], [2, 3, 6]]) {
    const x = tf.randomNormal(shape, 0, 1, 'float32', 1);
    const inner = p.toInner(x);
    const back = p.toOuter(inner);
    assert.deepEqual(inner.shape, [...shape.slice(0, -1), 3], `toInner of [${shape}]`);
    assert.deepEqual(back.shape, shape, `toOuter of [${shape.slice(0, -1)}, 3]`);
    const rows = tf.tidy(() => lin.apply(tf.reshape(x, [-1, 6]) as tf.Tensor2D));
    assert.deepEqual(Array.from(await inner.data()), Array.from(await rows.data()));
    tf.dispose([x, inner, back, rows]);
  }
  assert.equal([...p.namedVariables().keys()].join(','), 'projectIn.kernel,projectIn.bias,projectOut.kernel,projectOut.bias');
  p.dispose();
  lin.dispose();
  lout.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test('Projections: none when dim = inner (x passes through, no variables) unless always', () => {
  const before = tf.memory().numTensors;
  const p = new Projections(4, 4, new Rng(0));
  assert.equal(p.in, null);
  assert.equal(p.out, null);
  const x = tf.ones([2, 4]);
  assert.equal(p.toInner(x), x);
  assert.equal(p.toOuter(x), x);
  assert.equal(p.namedVariables().size, 0);
  p.dispose();
  const q = new Projections(4, 4, new Rng(0), true);
  assert.equal(q.namedVariables().size, 4);
  q.dispose();
  x.dispose();
  assert.equal(tf.memory().numTensors, before);
});
