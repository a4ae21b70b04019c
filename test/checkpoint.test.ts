/** Checkpoints: round trip, atomic saves, config mismatch errors, the PixelCNN prior too. */
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestBackend } from './support/backend';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { VectorQuantizer } from '../lib/quantizer/index';
import { VQVAE } from '../lib/vqvae/index';
import { GatedPixelCNN } from '../lib/prior/index';
import { fileCheckpointHandler, saveCheckpoint as saveCheckpointFile } from '../lib/checkpoint/index';
import { checkpointExists, loadOrTrain, checkpointPath, loadCheckpoint, saveCheckpoint } from '../lib/notebook/index';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vq-ckpt-'));
const make = (seed: number, dim = 8, K = 8) =>
  new VQVAE({ bottleneck: new VectorQuantizer({ codebookSize: K, dim, seed, checkFinite: false }), dim, seed });
const free = (m: VQVAE) => { m.dispose(); (m.bottleneck as VectorQuantizer).dispose(); };
const x = () => tf.randomUniform([2, 28, 28, 1], 0, 1, 'float32', 11) as tf.Tensor4D;
const recon = (m: VQVAE): Float32Array => tf.tidy(() => m.reconstruct(x()).dataSync() as Float32Array);

describe('checkpoints', () => {
  before(async () => { await useTestBackend(); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('round trip restores identical outputs (model and codebook)', async () => {
    const a = make(1), b = make(2);
    const file = await saveCheckpoint(a, 'rt', { dir, meta: { epochs: 3 } });
    assert.equal(file, path.join(dir, 'rt.ckpt'));
    assert.ok(checkpointExists('rt', { dir }));
    assert.notDeepEqual(recon(a), recon(b));
    const n0 = tf.memory().numTensors;
    const meta = await loadCheckpoint(b, 'rt', { dir });
    assert.equal(tf.memory().numTensors, n0, 'loading leaks nothing');
    assert.deepEqual(meta, { epochs: 3 });
    assert.deepEqual(recon(b), recon(a));
    assert.deepEqual((b.bottleneck as VectorQuantizer).codebook.dataSync(), (a.bottleneck as VectorQuantizer).codebook.dataSync());
    free(a); free(b);
  });

  test("a loaded k-means-initialised model keeps its stored codebook (no second k-means on its first forward)", async () => {
    const mk = () => {
      const q = new VectorQuantizer({ codebookSize: 8, dim: 8, init: 'kmeans', seed: 3 });
      return { q, m: new VQVAE({ bottleneck: q, dim: 8, seed: 3 }) };
    };
    const a = mk();
    const x = tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 9) as tf.Tensor4D;
    tf.tidy(() => { a.m.computeLoss(x); }); // the training forward that places the codebook
    const file = path.join(dir, 'kmeans.ckpt');
    await saveCheckpointFile(a.m, file);
    const b = mk();
    await loadCheckpoint(b.m, 'kmeans', { dir });
    tf.tidy(() => { b.m.computeLoss(x); }); // would run k-means again before the fix
    assert.deepEqual(Array.from(b.q.codebook.dataSync()), Array.from(a.q.codebook.dataSync()));
    for (const o of [a, b]) { o.m.dispose(); o.q.dispose(); }
    x.dispose();
  });

  test('an interrupted save leaves the previous checkpoint intact', async () => {
    const a = make(3), c = make(4);
    await saveCheckpoint(a, 'atomic', { dir });
    const before = fs.readFileSync(path.join(dir, 'atomic.ckpt'));
    let tmpSeen = '';
    await assert.rejects(
      saveCheckpointFile(c, path.join(dir, 'atomic.ckpt'), { beforeRename: (tmp) => { tmpSeen = tmp; assert.ok(fs.statSync(tmp).size > 1000); throw new Error('killed'); } }),
      /killed/,
    );
    assert.ok(tmpSeen.startsWith(dir), 'the temp file is in the same folder');
    assert.deepEqual(fs.readFileSync(path.join(dir, 'atomic.ckpt')), before);
    assert.ok(!fs.existsSync(tmpSeen), 'the temp file is cleaned up');
    // and it still loads as a's weights
    await loadCheckpoint(c, 'atomic', { dir });
    assert.deepEqual(recon(c), recon(a));
    free(a); free(c);
  });

  test('loading a checkpoint of another configuration: a clear error naming the fields', async () => {
    const a = make(5, 8, 8);
    await saveCheckpoint(a, 'cfg', { dir });
    const b = make(5, 16, 32);
    await assert.rejects(loadCheckpoint(b, 'cfg', { dir }), (e: Error) =>
      /saved with another configuration/.test(e.message) && /bottleneck\.codebookSize: stored 8, requested 32/.test(e.message) &&
      /(^|; |: )dim: stored 8, requested 16/.test(e.message));
    const p = new GatedPixelCNN({ codebookSize: 8, channels: 4, blocks: 1 });
    await assert.rejects(loadCheckpoint(p, 'cfg', { dir }), /arch: stored "vqvae-seed004", requested "gated-pixelcnn"/);
    await assert.rejects(loadCheckpoint(a, 'nothing-here', { dir }), /checkpoint not found: .*nothing-here\.ckpt/);
    free(a); free(b); p.dispose();
  });

  test('PixelCNN prior round trip; the handler is a tf.io.IOHandler', async () => {
    const p = new GatedPixelCNN({ codebookSize: 8, channels: 4, blocks: 1, numClasses: 3, seed: 1 });
    const q = new GatedPixelCNN({ codebookSize: 8, channels: 4, blocks: 1, numClasses: 3, seed: 2 });
    const codes = tf.tensor3d(Array.from({ length: 98 }, (_, i) => i % 8), [2, 7, 7], 'int32');
    await saveCheckpoint(p, 'prior', { dir });
    await loadCheckpoint(q, 'prior', { dir });
    const lp = tf.tidy(() => p.logits(codes, [0, 2]).dataSync());
    const lq = tf.tidy(() => q.logits(codes, [0, 2]).dataSync());
    assert.deepEqual(lq, lp);
    const art = await fileCheckpointHandler(path.join(dir, 'prior.ckpt')).load();
    assert.equal((art.modelTopology as { arch: string }).arch, 'gated-pixelcnn');
    assert.ok(art.weightSpecs!.some((s) => s.name === 'block0/condV'));
    p.dispose(); q.dispose(); codes.dispose();
  });

  test('loadOrTrain: trains and saves once, then reuses unless told to retrain', async () => {
    const a = make(7);
    let trained = 0;
    const train = async () => { trained++; return { run: trained }; };
    assert.deepEqual(await loadOrTrain(a, 'lot', train, { dir }), { loaded: false, meta: { run: 1 } });
    assert.deepEqual(await loadOrTrain(a, 'lot', train, { dir }), { loaded: true, meta: { run: 1 } });
    assert.deepEqual(await loadOrTrain(a, 'lot', train, { dir, retrain: true }), { loaded: false, meta: { run: 2 } });
    assert.equal(trained, 2);
    free(a);
  });

  test('bad input: clear errors', async () => {
    assert.throws(() => checkpointPath('../escape'), /checkpoint name must be letters, digits/);
    assert.throws(() => checkpointPath(''), /checkpoint name/);
    const a = make(6);
    await assert.rejects(saveCheckpoint(a, 'x', { dri: dir } as never), /saveCheckpoint\(model, name, options\): unknown option 'dri' \(did you mean 'dir'\?\)/);
    fs.writeFileSync(path.join(dir, 'junk.ckpt'), 'hello world, not a checkpoint');
    await assert.rejects(loadCheckpoint(a, 'junk', { dir }), /not a VQCKPT01 file/);
    free(a);
  });
});
