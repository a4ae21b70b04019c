/** Checkpoints: round trip, atomic saves, config mismatch errors, the PixelCNN prior too. */
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestBackend } from './support/backend';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic } from '../lib/io';
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
    await assert.rejects(loadCheckpoint(p, 'cfg', { dir }), /arch: stored "dldemos-vqvae", requested "gated-pixelcnn"/);
    await assert.rejects(loadCheckpoint(a, 'nothing-here', { dir }), /checkpoint not found: .*nothing-here\.ckpt/);
    free(a); free(b); p.dispose();
  });

  test("a checkpoint saved under the VQ-VAE's former arch tag 'vqvae-seed004' still loads, also nested in a larger config", async () => {
    const a = make(6), b = make(7), c = make(8);
    const formerly = (config: object) => JSON.parse(JSON.stringify(config).replace('"dldemos-vqvae"', '"vqvae-seed004"'));
    const old = { config: formerly(a.config), namedVariables: () => a.namedVariables() };
    assert.equal((old.config as { arch: string }).arch, 'vqvae-seed004');
    await saveCheckpoint(old, 'former-tag', { dir });
    await loadCheckpoint(b, 'former-tag', { dir });
    assert.deepEqual(recon(b), recon(a));
    // as a study's training state stores it: the model's config inside its own
    const state = (m: VQVAE, config: object) => ({ config: { study: 's', model: config }, namedVariables: () => m.namedVariables() });
    await saveCheckpoint(state(a, formerly(a.config)), 'former-tag-nested', { dir });
    await loadCheckpoint(state(c, c.config), 'former-tag-nested', { dir });
    assert.deepEqual(recon(c), recon(a));
    // the old tag matches only the tag it became
    const p = new GatedPixelCNN({ codebookSize: 8, channels: 4, blocks: 1 });
    await assert.rejects(loadCheckpoint(p, 'former-tag', { dir }), /arch: stored "vqvae-seed004", requested "gated-pixelcnn"/);
    free(a); free(b); free(c); p.dispose();
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

  // --- damaged files and failed writes ---------------------------------------------------

  /** Parse a checkpoint file into its header object and weight bytes. */
  const readRaw = (file: string) => {
    const buf = fs.readFileSync(file);
    const hLen = buf.readUInt32LE(8);
    return { header: JSON.parse(buf.subarray(12, 12 + hLen).toString()), weights: Buffer.from(buf.subarray(12 + hLen)) };
  };
  /** Write a checkpoint file by hand; without the whole-file checksum (as files before it), unless kept. */
  const writeRaw = (file: string, header: Record<string, unknown>, weights: Uint8Array) => {
    const { fileSha256: _f, ...rest } = header;
    const h = Buffer.from(JSON.stringify(rest));
    const len = Buffer.alloc(4);
    len.writeUInt32LE(h.length);
    fs.writeFileSync(file, Buffer.concat([Buffer.from('VQCKPT01'), len, h, weights]));
  };
  const codebook = (m: VQVAE) => Array.from((m.bottleneck as VectorQuantizer).codebook.dataSync());

  test('a short write (disk full) throws, naming the file, and leaves the old checkpoint and no temp file', async () => {
    const a = make(21), c = make(22);
    const file = await saveCheckpoint(a, 'full', { dir });
    const before = fs.readFileSync(file);
    let calls = 0;
    // the first write is cut short (as write(2) does at a file-size limit), the next fails
    const writeSync = (fd: number, buf: Uint8Array, off: number, len: number) => {
      if (++calls === 1) return fs.writeSync(fd, buf, off, Math.min(len, 3));
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    };
    await assert.rejects(saveCheckpointFile(c, file, { writeSync }),
      (e: Error) => e.message.includes(`could not write ${file}`) && /ENOSPC/.test(e.message) && /3 of \d+ bytes written/.test(e.message));
    assert.deepEqual(fs.readFileSync(file), before, 'the old checkpoint is intact');
    assert.deepEqual(fs.readdirSync(dir).filter((n) => n.startsWith('.full.ckpt.tmp-')), [], 'no temp file left');
    // a write that reports 0 bytes written is a failure too, not an endless loop
    await assert.rejects(saveCheckpointFile(c, file, { writeSync: () => 0 }), /could not write .*wrote 0 bytes/);
    await loadCheckpoint(c, 'full', { dir });
    assert.deepEqual(codebook(c), codebook(a));
    free(a); free(c);
  });

  test('a real file-size limit (ulimit -f in a child process): the save fails, the old checkpoint stays', () => {
    const file = path.join(dir, 'ulimit.ckpt');
    const lib = path.resolve(__dirname, '..', 'lib', 'index.js');
    const save = (seed: number) => `const vq = require(${JSON.stringify(lib)});
      (async () => { await vq.initBackend('cpu', { quiet: true });
        const m = new vq.VQVAE({ bottleneck: new vq.VectorQuantizer({ codebookSize: 8, dim: 8, seed: ${seed} }), dim: 8, seed: ${seed} });
        try { await vq.saveCheckpoint(m, 'ulimit', { dir: ${JSON.stringify(dir)} }); console.log('saved'); }
        catch (e) { console.log('FAILED: ' + e.message); process.exitCode = 3; } })();`;
    const ok = spawnSync(process.execPath, ['-e', save(1)], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    const before = fs.readFileSync(file);
    assert.ok(before.length > 16 * 1024, `checkpoint is ${before.length} bytes`);
    // ulimit -f counts 1024-byte blocks: 8 KiB, less than the checkpoint
    const r = spawnSync('bash', ['-c', 'ulimit -f 8 && exec "$0" -e "$1"', process.execPath, save(2)], { encoding: 'utf8' });
    assert.equal(r.status, 3, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`FAILED: could not write ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*(EFBIG|File too large)`));
    assert.deepEqual(fs.readFileSync(file), before, 'the old checkpoint is intact');
    assert.deepEqual(fs.readdirSync(dir).filter((n) => n.startsWith('.ulimit.ckpt.tmp-')), []);
  });

  test('kill -9 between write and rename: the old checkpoint stays, and the next save removes the orphaned temp file', async () => {
    const file = path.join(dir, 'killed.ckpt');
    const a = make(26);
    await saveCheckpointFile(a, file);
    const before = fs.readFileSync(file);
    const lib = path.resolve(__dirname, '..', 'lib', 'internal.js');
    const src = `const vq = require(${JSON.stringify(lib)});
      (async () => { await vq.initBackend('cpu', { quiet: true });
        const m = new vq.VQVAE({ bottleneck: new vq.VectorQuantizer({ codebookSize: 8, dim: 8, seed: 9 }), dim: 8, seed: 9 });
        await vq.saveCheckpointFile(m, ${JSON.stringify(file)}, { beforeRename: () => process.kill(process.pid, 'SIGKILL') }); })();`;
    const r = spawnSync(process.execPath, ['-e', src], { encoding: 'utf8' });
    assert.equal(r.signal, 'SIGKILL', r.stderr);
    const orphans = () => fs.readdirSync(dir).filter((n) => n.startsWith('.killed.ckpt.tmp-'));
    assert.equal(orphans().length, 1, 'the killed save left its temp file');
    assert.deepEqual(fs.readFileSync(file), before, 'the old checkpoint is intact');
    await saveCheckpointFile(a, file);
    assert.deepEqual(orphans(), [], 'the next save removed it');
    free(a);
  });

  test('temp files of a killed save are removed by the next save; those of a live process are not', async () => {
    const a = make(23);
    const dead = path.join(dir, '.stale.ckpt.tmp-999999999-1');
    const live = path.join(dir, `.stale.ckpt.tmp-${process.pid}-1`);
    const other = path.join(dir, '.stale.ckpt.tmp-notours');
    for (const f of [dead, live, other]) fs.writeFileSync(f, 'half a checkpoint');
    await saveCheckpoint(a, 'stale', { dir });
    assert.ok(!fs.existsSync(dead), 'the dead process\'s temp file is gone');
    assert.ok(fs.existsSync(live) && fs.existsSync(other), 'a live writer\'s temp file and foreign files stay');
    fs.rmSync(live); fs.rmSync(other);
    free(a);
  });

  test('damaged checkpoints: errors name the file and the fault; nothing is assigned; nothing leaks', async () => {
    const a = make(24), b = make(25);
    const good = await saveCheckpoint(a, 'good', { dir });
    const raw = readRaw(good);
    assert.match(raw.header.weightsSha256, /^[0-9a-f]{64}$/, 'the checksum is stored');
    assert.match(raw.header.fileSha256, /^[0-9a-f]{64}$/, 'the whole-file checksum is stored');
    assert.equal(raw.header.weightBytes, raw.weights.length);
    const cb = codebook(b);
    const n0 = tf.memory().numTensors;
    const cases: Array<[string, () => void, RegExp]> = [
      ['flipped', () => { const w = Buffer.from(raw.weights); w[w.length >> 1] ^= 0x40; writeRaw(path.join(dir, 'flipped.ckpt'), raw.header, w); },
        /checkpoint .*flipped\.ckpt is damaged: checksum mismatch/],
      // any byte of a saved file: a digit of its header's date, a byte of the weights
      ['header-byte', () => { const buf = fs.readFileSync(good); const at = buf.indexOf('"savedAt":"') + 12; buf[at] = buf[at] === 0x31 ? 0x32 : 0x31;
        fs.writeFileSync(path.join(dir, 'header-byte.ckpt'), buf); }, /header-byte\.ckpt is damaged: checksum mismatch \(sha256 of the file is/],
      ['weight-byte', () => { const buf = fs.readFileSync(good); buf[buf.length - 5] ^= 0x01; fs.writeFileSync(path.join(dir, 'weight-byte.ckpt'), buf); },
        /weight-byte\.ckpt is damaged: checksum mismatch \(sha256 of the file is/],
      ['truncated', () => fs.writeFileSync(path.join(dir, 'truncated.ckpt'), fs.readFileSync(good).subarray(0, fs.statSync(good).size - 100)),
        /checkpoint .*truncated\.ckpt is damaged: truncated: its weights need \d+ bytes, the file holds \d+/],
      ['cut-header', () => fs.writeFileSync(path.join(dir, 'cut-header.ckpt'), fs.readFileSync(good).subarray(0, 40)),
        /checkpoint .*cut-header\.ckpt is damaged: truncated: its header says/],
      ['bad-json', () => { const buf = fs.readFileSync(good); buf[13] = 0x7b; buf[14] = 0x7b; fs.writeFileSync(path.join(dir, 'bad-json.ckpt'), buf); },
        /checkpoint .*bad-json\.ckpt is damaged: its header is not valid JSON/],
      ['tiny', () => fs.writeFileSync(path.join(dir, 'tiny.ckpt'), 'VQCK'), /checkpoint .*tiny\.ckpt: not a VQCKPT01 file \(4 bytes\)/],
      // 0xFF bytes are NaN as float32; the checksum is right (re-saved), so only the value check can see it
      ['nan', () => { const w = Buffer.from(raw.weights).fill(0xff, 0, 64); const { createHash } = require('crypto');
        writeRaw(path.join(dir, 'nan.ckpt'), { ...raw.header, weightsSha256: createHash('sha256').update(w).digest('hex') }, w); },
        /checkpoint .*nan\.ckpt is damaged: non-finite values \(NaN or Infinity\) in \S+/],
      // a pre-checksum file (no weightsSha256) with NaNs: caught the same way
      ['nan-old', () => { const w = Buffer.from(raw.weights).fill(0xff, raw.weights.length - 8); const { weightsSha256: _s, weightBytes: _b, ...old } = raw.header;
        writeRaw(path.join(dir, 'nan-old.ckpt'), old, w); }, /nan-old\.ckpt is damaged: non-finite values/],
      // the LAST weight has the wrong dtype: today's load assigned all others first
      ['dtype', () => { const specs = raw.header.weightSpecs.map((s: { name: string }, i: number, all: unknown[]) => (i === all.length - 1 ? { ...s, dtype: 'int32' } : s));
        writeRaw(path.join(dir, 'dtype.ckpt'), { ...raw.header, weightSpecs: specs }, raw.weights); },
        /checkpoint .*dtype\.ckpt: dtype mismatch for \S+ \(stored int32, model float32\)/],
      ['no-specs', () => writeRaw(path.join(dir, 'no-specs.ckpt'), { config: raw.header.config }, raw.weights),
        /no-specs\.ckpt is damaged: its header has no list of weights/],
    ];
    for (const [name, damage, expected] of cases) {
      damage();
      await assert.rejects(loadCheckpoint(b, name, { dir }), expected, name);
      assert.deepEqual(codebook(b), cb, `${name}: the model is unchanged`);
      assert.equal(tf.memory().numTensors, n0, `${name}: nothing leaked`);
    }
    // a pre-checksum checkpoint that is intact still loads
    const { weightsSha256: _s, weightBytes: _b, ...old } = raw.header;
    writeRaw(path.join(dir, 'old.ckpt'), old, raw.weights);
    await loadCheckpoint(b, 'old', { dir });
    assert.deepEqual(codebook(b), codebook(a));
    free(a); free(b);
  });
});

describe('writeFileAtomic (lib/io.ts)', () => {
  test('writes strings, bytes and chunks; a failure names the file and keeps the old content', () => {
    const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vq-io-'));
    const file = path.join(tmpDir, 'sub', 'f.txt');
    writeFileAtomic(file, 'one');
    assert.equal(fs.readFileSync(file, 'utf8'), 'one');
    writeFileAtomic(file, [Buffer.from('tw'), new Uint8Array([111])]);
    assert.equal(fs.readFileSync(file, 'utf8'), 'two');
    let calls = 0;
    const shortThenFull = (fd: number, b: Uint8Array, o: number) => {
      if (++calls > 1) throw new Error('EFBIG: file too large');
      return fs.writeSync(fd, b, o, 1);
    };
    assert.throws(() => writeFileAtomic(file, 'three', { writeSync: shortThenFull }),
      (e: Error) => e.message.startsWith(`could not write ${file}: EFBIG`) && /1 of 5 bytes written/.test(e.message));
    assert.equal(fs.readFileSync(file, 'utf8'), 'two');
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ['f.txt']);
    fs.rmSync(tmpDir, { recursive: true, force: true });
  });
});
