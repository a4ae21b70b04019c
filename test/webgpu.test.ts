/**
 * The webgpu backend's selection (lib/node/webgpu.ts): chosen only by name, and a start that fails
 * says why in one line. Needs no GPU: Dawn is replaced by small modules ($VQ_DAWN_NODE) that find
 * no adapter the way Dawn does (its reason on stderr, requestAdapter → null).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  BACKEND_ORDER, BACKENDS_BY_NAME, backendChoices, backendOrder, dawnReason, initBackend, parseBackendOverride, parseDawnFlags, featureLevel,
} from '../lib/internal';
import { useTestBackend } from './support/backend';

const ROOT = path.resolve(__dirname, '..', '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vq-webgpu-'));

/** A stand-in for dawn.node: prints `stderr` when loaded (as Dawn prints its warnings) and finds no adapter. */
function fakeDawn(name: string, stderr: string, extra = ''): string {
  const file = path.join(tmp, `${name}.js`);
  fs.writeFileSync(file, `${extra}\nprocess.stderr.write(${JSON.stringify(stderr)});\n` +
    'module.exports = { globals: {}, create: () => ({ requestAdapter: async () => null }) };\n');
  return file;
}

/** Run `fn` with environment variables set (undefined: unset), restoring them after. */
async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(vars)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
}

test('VQ_BACKEND=webgpu parses; webgpu is accepted by name but is not in the automatic order', () => {
  assert.equal(parseBackendOverride('webgpu'), 'webgpu');
  assert.equal(parseBackendOverride(' WebGPU '), 'webgpu');
  assert.throws(() => parseBackendOverride('dawn'), /VQ_BACKEND: expected one of node-gpu, node, wasm, cpu, webgpu, got "dawn"/);
  assert.deepEqual(BACKEND_ORDER, ['node-gpu', 'node', 'wasm', 'cpu']);
  assert.deepEqual(BACKENDS_BY_NAME, ['webgpu']);
  assert.ok(!backendOrder().includes('webgpu'));
  assert.deepEqual(backendChoices(), ['node-gpu', 'node', 'wasm', 'cpu', 'webgpu']);
  assert.deepEqual(parseDawnFlags(' backend=vulkan ; adapter=NVIDIA H100 80GB HBM3;'), ['backend=vulkan', 'adapter=NVIDIA H100 80GB HBM3']);
  assert.equal(featureLevel(undefined), 'core');
  assert.equal(featureLevel('compatibility'), 'compatibility');
  assert.throws(() => featureLevel('max'), /VQ_WEBGPU_FEATURE_LEVEL: expected core or compatibility, got "max"/);
});

test('without VQ_BACKEND, initBackend never tries webgpu (Dawn is not even loaded)', () => {
  const marker = path.join(tmp, 'dawn-was-loaded');
  const dawn = fakeDawn('marker', '', `require('fs').writeFileSync(${JSON.stringify(marker)}, 'loaded');`);
  const env: NodeJS.ProcessEnv = { ...process.env, VQ_DAWN_NODE: dawn, TF_CPP_MIN_LOG_LEVEL: '2' };
  delete env.VQ_BACKEND;
  const r = spawnSync(process.execPath, ['-e',
    "require('./dist/lib/index.js').initBackend().then((i) => console.log(JSON.stringify(i.attempts.map((a) => a.choice))))"],
  { cwd: ROOT, env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const tried = JSON.parse(r.stdout.trim().split('\n').pop()!) as string[];
  assert.ok(tried.length >= 1 && !tried.includes('webgpu'), `tried ${tried.join(', ')}`);
  assert.ok(!fs.existsSync(marker), 'Dawn was loaded although webgpu was not asked for');
});

test('a webgpu start that finds no adapter falls through, naming Dawn\'s reason in one line', async () => {
  const dawn = fakeDawn('no-adapter', "Warning: Couldn't load Vulkan: libvulkan.so.1: fake-reason-42\n" +
    '    at operator() (/home/runner/work/node-webgpu/node-webgpu/third_party/dawn/src/dawn/native/vulkan/BackendVk.cpp:368)\n\n');
  const info = await withEnv({ VQ_DAWN_NODE: dawn, VQ_DAWN_FLAGS: undefined, VQ_WEBGPU_FEATURE_LEVEL: undefined }, () => initBackend('webgpu', { quiet: true }));
  const first = info.attempts[0]!;
  assert.deepEqual(first, { choice: 'webgpu', ok: false, reason: "no WebGPU adapter from Dawn: Couldn't load Vulkan: libvulkan.so.1: fake-reason-42" });
  assert.notEqual(info.choice, 'webgpu');
  assert.equal(info.attempts.filter((a) => a.choice === 'webgpu').length, 1, 'webgpu is tried once, first');
  assert.deepEqual(info.attempts.slice(1).map((a) => a.choice), BACKEND_ORDER.slice(0, info.attempts.length - 1));
  assert.ok(info.summary.includes(`\n  skipped webgpu: ${first.reason}`), info.summary);
  await useTestBackend();
});

test('other failing starts: a missing Dawn file, a Dawn that crashes, VQ_BACKEND=webgpu', async () => {
  const missing = path.join(tmp, 'nowhere', 'dawn.node');
  let info = await withEnv({ VQ_DAWN_NODE: missing }, () => initBackend('webgpu', { quiet: true }));
  assert.deepEqual(info.attempts[0], { choice: 'webgpu', ok: false, reason: `VQ_DAWN_NODE: no such file ${missing}` });

  const crash = path.join(tmp, 'crash.js');
  fs.writeFileSync(crash, "throw new Error('dawn.node: GLIBC_2.99 not found');\n");
  info = await withEnv({ VQ_DAWN_NODE: crash }, () => initBackend('webgpu', { quiet: true }));
  assert.equal(info.attempts[0]!.ok, false);
  assert.match(info.attempts[0]!.reason, /^Dawn failed to start \(.*crash\.js\): .*GLIBC_2\.99 not found/);
  assert.ok(!info.attempts[0]!.reason.includes('\n'));

  // $VQ_BACKEND=webgpu is the same as naming it (a fresh process: the override is read at the first selection).
  const env: NodeJS.ProcessEnv = { ...process.env, VQ_BACKEND: 'webgpu', VQ_DAWN_NODE: fakeDawn('env', 'Warning: no GPU here (test)\n') };
  const r = spawnSync(process.execPath, ['-e', "require('./dist/lib/index.js').initBackend().then((i) => console.log(i.summary))"],
    { cwd: ROOT, env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\n {2}skipped webgpu: no WebGPU adapter from Dawn: no GPU here \(test\)\n/);
  await useTestBackend();
});

test("Dawn's messages become one line (lavapipe's refusal, as seen on Debian 12)", () => {
  const lavapipe = 'Warning: Vulkan shaderUniform*ArrayDynamicIndexing required.\n - While initializing adapter (backend=BackendType::Vulkan)\n' +
    '    at InitializeImpl (/home/runner/work/node-webgpu/node-webgpu/third_party/dawn/src/dawn/native/vulkan/PhysicalDeviceVk.cpp:257)\n\n';
  assert.equal(dawnReason(lavapipe), 'Vulkan shaderUniform*ArrayDynamicIndexing required; While initializing adapter (backend=BackendType::Vulkan)');
  assert.equal(dawnReason(''), 'Dawn gave no reason');
  assert.ok(dawnReason('x'.repeat(400)).length <= 300);
});

test('with the real packages (when installed): webgpu starts, or fails in one line', async (t) => {
  let installed = true;
  try {
    require.resolve('webgpu/package.json');
  } catch {
    installed = false;
  }
  const info = await withEnv({ VQ_DAWN_NODE: undefined }, () => initBackend('webgpu', { quiet: true }));
  const first = info.attempts[0]!;
  if (!installed) {
    assert.match(first.reason, /^not installed \(needs webgpu@0\.6\.2 and @tensorflow\/tfjs-backend-webgpu@4\.22\.0; `npm run setup:webgpu` installs them\)$/);
  } else if (!first.ok) {
    t.diagnostic(`webgpu here: ${first.reason}`);
    assert.ok(first.reason.length > 0 && !first.reason.includes('\n'), first.reason);
  } else {
    assert.equal(info.choice, 'webgpu');
    assert.match(info.summary, /^backend: webgpu \(tfjs 4\.22\.0, tf\.getBackend\(\) = 'webgpu', Dawn: /);
  }
  await useTestBackend();
});
