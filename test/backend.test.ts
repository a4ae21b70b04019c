/** Backend selection: explicit choices, fall-through with one-line reasons, bad overrides. */
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import assert from 'node:assert/strict';
import { initBackend, backendInfo, defaultWasmThreads, parseBackendOverride, parseWasmThreads, tf, wasmThreadsInUse } from '../lib/internal';

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
  await assert.rejects(() => initBackend('gpu' as never), /initBackend\(prefer\) must be one of 'node-gpu', 'node', 'wasm', 'cpu', 'webgpu', got "gpu"/);
  assert.throws(() => parseBackendOverride('tpu'), /VQ_BACKEND: expected one of node-gpu, node, wasm, cpu, webgpu, got "tpu"/);
  assert.equal(parseBackendOverride(' WASM '), 'wasm');
  assert.equal(parseBackendOverride(''), null);
  assert.equal(parseBackendOverride(undefined), null);
  assert.equal(parseWasmThreads(undefined), 1);
  assert.equal(parseWasmThreads(' 2 '), 2);
  assert.throws(() => parseWasmThreads('0'), /VQ_WASM_THREADS: expected a positive integer, got "0"/);
  assert.throws(() => parseWasmThreads('two'), /VQ_WASM_THREADS: expected a positive integer, got "two"/);
});

test('the native backend: chosen by name when built, else skipped with how to build it', async () => {
  const built = spawnSync(process.execPath, ['-e', "require('@tensorflow/tfjs-node')"], { env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' } }).status === 0;
  const info = await initBackend('node');
  if (built) {
    assert.equal(info.choice, 'node');
    assert.equal(tf.getBackend(), 'tensorflow');
    assert.match(info.summary, /^backend: node \(tfjs 4\.22\.0, tf\.getBackend\(\) = 'tensorflow', TensorFlow 2\.16\.2, CPU(, \d+ intra-op threads?)?\)/);
    // The build is idempotent: a second run of the build script does nothing.
    const again = spawnSync(process.execPath, ['scripts/native-build.mjs'], { encoding: 'utf8', cwd: path.resolve(__dirname, '..', '..') });
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /^\[native\] up to date: @tensorflow\/tfjs-node@4\.22\.0 tensorflow-cpu==2\.16\.2/);
  } else {
    assert.notEqual(info.choice, 'node');
    assert.ok(info.summary.includes('skipped node: not built (`npm run setup:native` builds it)'), info.summary);
  }
  await initBackend('wasm');
});

test("the native backend's summary names TensorFlow's intra-op threads when TF_NUM_INTRAOP_THREADS sets them", () => {
  const run = (env: NodeJS.ProcessEnv) => {
    const r = spawnSync(process.execPath, ['-e',
      "require('./lib/internal').initBackend('node',{quiet:true}).then(i=>console.log(JSON.stringify({choice:i.choice,summary:i.summary})))"],
    { cwd: path.join(__dirname, '..'), encoding: 'utf8', env });
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as { choice: string; summary: string };
  };
  const base = { ...process.env };
  delete base.TF_NUM_INTRAOP_THREADS;
  const plain = run(base);
  if (plain.choice !== 'node') return; // no native build here: nothing to check
  assert.doesNotMatch(plain.summary, /intra-op/, 'unset: TensorFlow uses every core and the summary says nothing');
  assert.match(run({ ...base, TF_NUM_INTRAOP_THREADS: '1' }).summary, /TensorFlow [\d.]+, CPU, 1 intra-op thread\)/);
  assert.match(run({ ...base, TF_NUM_INTRAOP_THREADS: '3' }).summary, /CPU, 3 intra-op threads\)/);
});
