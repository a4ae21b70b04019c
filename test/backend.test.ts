/** Backend selection: explicit choices, fall-through with one-line reasons, bad overrides. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, backendInfo, defaultWasmThreads, parseBackendOverride, parseWasmThreads, tf, wasmThreadsInUse } from '../lib/index';

test('an explicit choice is honoured and reported', async () => {
  const cpu = await initBackend('cpu');
  assert.equal(cpu.choice, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  assert.match(cpu.summary, /^backend: cpu \(tfjs 4\.\d+\.\d+, tf\.getBackend\(\) = 'cpu'\)/);
  const wasm = await initBackend('wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.match(wasm.summary, /^backend: wasm \(tfjs [\d.]+, tf\.getBackend\(\) = 'wasm', \d+ thread\(s\)\)/);
  if (!process.env.VQ_WASM_THREADS) {
    // No override: the machine's cores, at most 4, and XNNPACK really runs that many.
    assert.equal(wasmThreadsInUse(), defaultWasmThreads());
    assert.ok(wasm.summary.includes(`${defaultWasmThreads()} thread(s)`));
  }
  assert.equal(backendInfo(), wasm);
  // A second call without a preference keeps the current selection.
  assert.equal(await initBackend(), wasm);
});

test('a native backend that cannot load falls through with a one-line reason', async () => {
  const info = await initBackend('node-gpu');
  const first = info.attempts[0]!;
  assert.equal(first.choice, 'node-gpu');
  if (!first.ok) {
    assert.ok(first.reason.length > 0 && !first.reason.includes('\n'), first.reason);
    assert.notEqual(info.choice, 'node-gpu');
    assert.ok(info.summary.includes(`skipped node-gpu: ${first.reason}`));
  }
  await initBackend('wasm');
});

test('bad choices are rejected with the accepted values named', async () => {
  await assert.rejects(() => initBackend('gpu' as never), /initBackend\(prefer\): expected one of node-gpu, node, wasm, cpu, got "gpu"/);
  assert.throws(() => parseBackendOverride('tpu'), /VQ_BACKEND: expected one of node-gpu, node, wasm, cpu, got "tpu"/);
  assert.equal(parseBackendOverride(' WASM '), 'wasm');
  assert.equal(parseBackendOverride(''), null);
  assert.equal(parseBackendOverride(undefined), null);
  assert.equal(parseWasmThreads(undefined), 1);
  assert.equal(parseWasmThreads(' 2 '), 2);
  assert.throws(() => parseWasmThreads('0'), /VQ_WASM_THREADS: expected a positive integer, got "0"/);
  assert.throws(() => parseWasmThreads('two'), /VQ_WASM_THREADS: expected a positive integer, got "two"/);
});
