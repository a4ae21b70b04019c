/** The quantizers through the package entry point (package.json `main`), as notebooks import them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';

test('package entry exports VectorQuantizer, FSQ, initBackend and the tf engine they use', async () => {
  const root = path.join(__dirname, '..', '..');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pkg = require(path.join(root, 'package.json')) as { main: string };
  const lib = await import(path.join(root, pkg.main));
  for (const name of ['VectorQuantizer', 'FSQ', 'initBackend']) {
    assert.equal(typeof lib[name], 'function', `${name} exported from ${pkg.main}`);
  }
  assert.equal(lib.tf.engine(), tf.engine(), 'one tf engine');
  await lib.initBackend('cpu', { quiet: true });
  const vq = new lib.VectorQuantizer({ codebookSize: 4, dim: 2, seed: 0 });
  const z = lib.tf.tensor2d([[0.1, 0.2], [0.3, -0.1]]);
  const out = vq.forward(z);
  assert.deepEqual(out.indices.shape, [2]);
  lib.tf.dispose([out, z]);
  vq.dispose();
  assert.deepEqual(lib.FSQ.levelsFor(256), [8, 6, 5]);
});
