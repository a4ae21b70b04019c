/**
 * The threaded-SIMD wasm build under Node (lib/node/wasm-threads.ts): it starts with 2 threads,
 * trains correctly (a conv gradient equals the cpu backend's), and the process still exits
 * (the test runner waits for it: a pool thread keeping Node alive would hang this file).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmKernels, wasmThreadsInUse } from '../lib/wasm/index';
import { setWasmThreads } from '../lib/node/wasm-threads';

tf.enableProdMode();

function values(n: number, seed: number): Float32Array {
  const v = new Float32Array(n);
  let a = seed;
  for (let i = 0; i < n; i++) {
    a = (a * 1103515245 + 12345) % 2147483648;
    v[i] = a / 2147483648 - 0.5;
  }
  return v;
}

test('setWasmThreads(2) runs XNNPACK on 2 threads and matches cpu', async () => {
  setWasmThreads(2);
  assert.ok(await tf.setBackend('wasm'));
  registerWasmKernels();
  assert.equal(wasmThreadsInUse(), 2);
  const xs = values(4 * 12 * 12 * 3, 1);
  const ws = values(4 * 4 * 3 * 8, 2);
  const run = () => tf.tidy(() => {
    const x = tf.tensor4d(xs, [4, 12, 12, 3]);
    const w = tf.tensor4d(ws, [4, 4, 3, 8]);
    const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same'))))([x, w]);
    return [gx.dataSync(), gw.dataSync()].map((a) => Array.from(a));
  });
  const onWasm = run();
  await tf.setBackend('cpu');
  const onCpu = run();
  for (let k = 0; k < 2; k++) {
    const scale = Math.max(...onCpu[k].map(Math.abs));
    onCpu[k].forEach((v, i) => assert.ok(Math.abs(v - onWasm[k][i]) <= 1e-4 * (1 + scale), `grad ${k}[${i}]: ${v} vs ${onWasm[k][i]}`));
  }
});

test('setWasmThreads refuses once wasm is running, unless asked to re-initialise', async () => {
  await tf.setBackend('wasm');
  assert.throws(() => setWasmThreads(1), /already initialised/);
  assert.throws(() => setWasmThreads(0), /integer >= 1/);
  setWasmThreads(1, { reinit: true });
  assert.ok(await tf.setBackend('wasm'));
  assert.equal(wasmThreadsInUse(), 1);
  assert.equal(tf.tidy(() => tf.sum(tf.tensor1d([1, 2, 3])).dataSync()[0]), 6);
});
