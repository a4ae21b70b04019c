#!/usr/bin/env node
/**
 * `npm run test:unit`: the unit tests (Node's test runner over dist/test/*.test.js) once per
 * backend: wasm (the embedded fallback, which also runs in a browser) and node (the native
 * TensorFlow build of scripts/native-build.mjs). Each run sets $VQ_TEST_BACKEND, which
 * test/support/backend.ts reads. The tests of lib/wasm's kernels run on the wasm pass only.
 *
 *   node scripts/unit-tests.mjs [backend ...]   default: wasm node
 *
 * When the native backend is not built, its pass is skipped with a line saying so, except under
 * CI=true, where that is a failure (CI builds it in `npm install`).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './files.mjs';

const DIST = path.join(ROOT, 'dist', 'test');
const backends = process.argv.slice(2).length ? process.argv.slice(2) : ['wasm', 'node'];
const files = fs.readdirSync(DIST).filter((f) => f.endsWith('.test.js')).sort();

function nativeLoads(pkg) {
  const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(pkg)})`], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' } });
  return r.status === 0 ? '' : (r.stderr.split('\n').find((l) => /Error/.test(l)) ?? `exit ${r.status}`).trim();
}

let failed = false;
for (const backend of backends) {
  if (backend === 'node' || backend === 'node-gpu') {
    const why = nativeLoads(backend === 'node' ? '@tensorflow/tfjs-node' : '@tensorflow/tfjs-node-gpu');
    if (why) {
      const line = `[unit] ${backend}: not available (${why.slice(0, 160)}); \`npm run setup:native\` builds it`;
      if (process.env.CI === 'true') { console.error(`${line}; CI requires it`); failed = true; continue; }
      console.log(`${line}; skipping its pass`);
      continue;
    }
  }
  const mine = backend === 'wasm' ? files : files.filter((f) => !f.startsWith('wasm-'));
  console.log(`[unit] ${backend}: ${mine.length} test files`);
  const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...mine.map((f) => path.join(DIST, f))], {
    cwd: ROOT, stdio: 'inherit', env: { ...process.env, VQ_TEST_BACKEND: backend },
  });
  if (r.status !== 0) { console.error(`[unit] ${backend}: failed (exit ${r.status})`); failed = true; }
}
process.exit(failed ? 1 : 0);
