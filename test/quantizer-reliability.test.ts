/**
 * Issue 20 ("no lost sessions with the new quantizers"), issue 19's quantizer protocol and issue 24's
 * messages, table-driven over every quantizer class: VectorQuantizer, FSQ, LFQ, SimVQ, ResidualVQ.
 * Each test names the issue point it covers. Every failing call must leave tf.memory().numTensors
 * unchanged.
 */
import { describe, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { TEST_BACKEND, useTestBackend } from './support/backend';
import {
  FSQ, LFQ, ResidualVQ, SimVQ, VectorQuantizer, checkMemory, maxInputMagnitude, type Quantizer,
} from '../lib/quantizer/index';
import { VQVAE, bottleneckVariables } from '../lib/vqvae/index';
import { loadCheckpoint, saveCheckpoint } from '../lib/checkpoint/index';
import { claim, loadOrTrain } from '../lib/notebook/index';
import { loadMnist } from '../lib/data/index';

type Opts = Record<string, unknown>;
type Make = (o: Opts) => Quantizer;

/** Every class, with small base options and, per option, another valid value (nested: 'vq.distance'). */
const CLASSES: { name: string; make: Make; base: Opts; alt: [string, unknown][] }[] = [
  {
    name: 'VectorQuantizer', make: (o) => new VectorQuantizer(o as never), base: { codebookSize: 8, dim: 4, seed: 1 },
    alt: [['codebookSize', 16], ['dim', 6], ['commitmentWeight', 0.5], ['codebookWeight', 0.5], ['entropyWeight', 0.1],
      ['entropyForm', 'sample-and-batch'], ['entropyTemperature', 2], ['init', 'normal'], ['init', 'kmeans'], ['distance', 'cosine'],
      ['gradient', 'rotation'], ['ema', true], ['deadCodeThreshold', 1], ['seed', 2], ['checkFinite', false], ['statsWindow', 5]],
  },
  {
    name: 'FSQ', make: (o) => new FSQ(o as never), base: { levels: [5, 3], dim: 4, seed: 1 },
    alt: [['levels', [3, 5]], ['levels', [5, 4]], ['bound', 'symmetric'], ['dim', 3], ['dim', 2], ['numCodebooks', 2], ['seed', 2],
      ['checkFinite', false], ['statsWindow', 5]],
  },
  {
    name: 'LFQ', make: (o) => new LFQ(o as never), base: { codebookSize: 16, dim: 6, seed: 1 },
    alt: [['codebookSize', 32], ['dim', 4], ['codebookScale', 2], ['entropyWeight', 0.5], ['diversityGamma', 0.5],
      ['inverseTemperature', 10], ['commitmentWeight', 0.25], ['seed', 2], ['checkFinite', false], ['statsWindow', 5]],
  },
  {
    name: 'SimVQ', make: (o) => new SimVQ(o as never), base: { codebookSize: 8, dim: 4, seed: 1 },
    alt: [['codebookSize', 16], ['dim', 6], ['frozenDim', 3], ['commitmentWeight', 1], ['gradient', 'ste'], ['seed', 2],
      ['checkFinite', false], ['statsWindow', 5]],
  },
  {
    name: 'ResidualVQ', make: (o) => new ResidualVQ(o as never), base: { numQuantizers: 2, vq: { codebookSize: 8, dim: 4 }, seed: 1 },
    alt: [['numQuantizers', 3], ['vq.codebookSize', 16], ['vq.dim', 6], ['vq.commitmentWeight', 0.5], ['vq.entropyWeight', 0.1],
      ['vq.init', 'kmeans'], ['vq.distance', 'cosine'], ['vq.gradient', 'rotation'], ['vq.ema', true], ['vq.deadCodeThreshold', 1],
      ['sharedCodebook', true], ['quantizeDropout', true], ['quantizeDropoutCutoffIndex', 1], ['seed', 2], ['checkFinite', false],
      ['statsWindow', 5]],
  },
  {
    name: 'ResidualVQ (fsq)', make: (o) => new ResidualVQ(o as never), base: { numQuantizers: 2, fsq: { levels: [5, 3] }, seed: 1 },
    alt: [['numQuantizers', 3], ['fsq.levels', [3, 5]], ['fsq.levels', [5, 4]], ['fsq.bound', 'symmetric'], ['fsq.statsWindow', 5],
      ['seed', 2]],
  },
];

/** q's own fields, with `proj` (a Projections) shown as the two fields it replaced, projectIn and projectOut. */
function fieldsAsBefore(q: Quantizer): object {
  const { proj, ...rest } = { ...q } as Record<string, unknown>;
  if (proj === undefined) return rest;
  const p = q as unknown as { projectIn: unknown; projectOut: unknown };
  return { projectIn: p.projectIn, projectOut: p.projectOut, ...rest };
}

/** `base` with option `key` ('a' or 'a.b') set to `value`. */
function withOption(base: Opts, key: string, value: unknown): Opts {
  const [k, sub] = key.split('.');
  if (sub === undefined) return { ...base, [k]: value };
  return { ...base, [k]: { ...(base[k] as Opts), [sub]: value } };
}

/** `call` throws with a message matching `re` and leaves tf.memory().numTensors unchanged. */
async function rejects(call: () => unknown, re: RegExp, what: string): Promise<string> {
  const before = tf.memory().numTensors;
  let error: unknown = null;
  try {
    await call();
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof Error, `${what}: expected an Error, got ${String(error)}`);
  assert.match(error.message, re, what);
  assert.equal(tf.memory().numTensors, before, `${what}: tensors leaked by the failing call`);
  return error.message;
}

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'vq-rel-'));

describe(`quantizer reliability on ${TEST_BACKEND} (issues 19, 20, 24)`, () => {
  before(async () => { await useTestBackend(); });

  test('19.1 protocol: every class gives quantized [..., dim], indices and a scalar loss; namedVariables = the old property walk', () => {
    for (const c of CLASSES) {
      const q = c.make(c.base);
      const z = tf.randomNormal([2, 3, q.dim], 0, 1, 'float32', 5);
      const out = tf.tidy(() => q.forward(z, { training: false }));
      assert.deepEqual(out.quantized.shape, [2, 3, q.dim], c.name);
      assert.deepEqual(out.indices.shape, q.indicesPerVector === 1 ? [2, 3] : [2, 3, q.indicesPerVector], c.name);
      assert.equal(out.loss.rank, 0, `${c.name}: loss is a scalar`);
      assert.ok(Number.isFinite(out.loss.dataSync()[0]));
      assert.equal(typeof q.config.type, 'string');
      // the names checkpoints used before namedVariables existed (VQ-VAE checkpoints keep loading): a walk over the
      // fields as they were then (FSQ's and LFQ's projectIn / projectOut were fields; they now live in a private Projections)
      const walked = bottleneckVariables(fieldsAsBefore(q));
      assert.deepEqual([...q.namedVariables().keys()].sort(), [...walked.keys()].sort(), c.name);
      for (const v of q.trainableVariables()) assert.ok([...q.namedVariables().values()].includes(v), `${c.name}: trainable ⊂ named`);
      tf.dispose([out, z]);
      q.dispose();
    }
  });

  test('19.1 every class is a VQ-VAE bottleneck; ResidualVQ (several indices per vector) is refused by encodeIndices, clearly', async () => {
    for (const c of CLASSES) {
      if (c.name === 'FSQ') continue; // dim 4 ≠ levels: covered with projections below
      const q = c.make(c.base);
      const m = new VQVAE({ bottleneck: q, dim: q.dim, seed: 0 });
      const x = tf.randomUniform([1, 8, 8, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
      tf.tidy(() => {
        const { value } = tf.variableGrads(() => m.computeLoss(x).loss);
        assert.ok(Number.isFinite(value.dataSync()[0]), c.name);
      });
      if (q.indicesPerVector === 1) {
        const idx = m.encodeIndices(x);
        assert.deepEqual(idx.shape, [1, 2, 2]);
        tf.dispose([idx, m.decodeIndices(idx)]);
      } else {
        await rejects(() => m.encodeIndices(x), /VQVAE\.encodeIndices\(x\): the bottleneck \(ResidualVQ\) gives 2 indices per latent vector/, c.name);
      }
      x.dispose();
      m.dispose();
      q.dispose();
    }
  });

  test('20.2, 20.3, 20.7: a forward too large for the backend throws "out of memory … pass at most N vectors" at once, under a tape too; nothing leaks; the next op works', async () => {
    // N·K = 2^32: ~100 GiB and more, beyond the wasm heap and this machine's memory
    const cases: [string, () => Quantizer, number][] = [
      ['LFQ', () => new LFQ({ codebookSize: 2 ** 16, dim: 16 }), 2 ** 16],
      ['SimVQ', () => new SimVQ({ codebookSize: 2 ** 16, dim: 8 }), 2 ** 16],
      ['VectorQuantizer', () => new VectorQuantizer({ codebookSize: 2 ** 16, dim: 8 }), 2 ** 16],
      ['ResidualVQ', () => new ResidualVQ({ numQuantizers: 2, vq: { codebookSize: 2 ** 16, dim: 8 } }), 2 ** 16],
    ];
    for (const [name, make, N] of cases) {
      const q = make();
      const z = tf.zeros([N, q.dim]);
      const msg = await rejects(() => q.forward(z), new RegExp(`^${name}\\.forward\\(z\\): out of memory — .* Pass at most [\\d,]+ vectors`), name);
      assert.match(msg, TEST_BACKEND === 'wasm' ? /wasm backend's 4 GiB heap/ : /system memory|heap/, name);
      await rejects(() => tf.tidy(() => tf.grad((x: tf.Tensor) => q.forward(x).loss)(z)), /out of memory .* forward and backward pass/, `${name} under tf.grad`);
      if (q instanceof ResidualVQ) assert.equal(q.layers[0].stats.batches, 0, 'ResidualVQ: refused before stage 0 changed anything');
      assert.deepEqual(Array.from(tf.add(tf.ones([2]), 1).dataSync()), [2, 2], `${name}: the backend still works`);
      z.dispose();
      q.dispose();
    }
    // the native backend's limit: free system memory, through the probe lib/backend.ts sets
    assert.throws(() => checkMemory('X.forward(z)', 1000, '1,000 vectors', () => 2 ** 30, { backend: 'tensorflow', available: 2 ** 29 }),
      /X\.forward\(z\): out of memory — 1,000 vectors need about 1\.00 GiB for the forward pass, more than the 0\.42 GiB of system memory the native backend can still take .* Pass at most 0 vectors/);
    assert.doesNotThrow(() => checkMemory('X', 10, '', () => 1, { backend: 'tensorflow', available: 2 ** 29 }));
  });

  test('20.4: saveCheckpoint refuses NaN weights, naming the variable, and keeps the previous file; loadOrTrain does not save a diverged model', async () => {
    const dir = tmp();
    try {
      for (const c of CLASSES) {
        if (c.name === 'ResidualVQ (fsq)') continue; // no variables
        const q = c.make(c.base);
        const file = path.join(dir, 'q.ckpt');
        await saveCheckpoint(q, file);
        const good = fs.readFileSync(file);
        const [name, v] = [...q.namedVariables()][0];
        v.assign(tf.fill(v.shape, NaN));
        const re = new RegExp(`saveCheckpoint: not saved to .*: non-finite values \\(NaN or Infinity\\) in ${name.replace(/\./g, '\\.')}.*previous file.*unchanged`);
        await rejects(() => saveCheckpoint(q, file), re, c.name);
        assert.deepEqual(fs.readFileSync(file), good, `${c.name}: the old checkpoint is intact`);
        await rejects(() => loadOrTrain(q, 'diverged', async () => ({ epochs: 1 }), { dir }),
          new RegExp(`loadOrTrain\\('diverged'\\): training diverged — non-finite values .* in ${name.replace(/\./g, '\\.')}; nothing was saved`), c.name);
        assert.ok(!fs.existsSync(path.join(dir, 'diverged.ckpt')), `${c.name}: no checkpoint written`);
        q.dispose();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('20.5, 20.17a: save/load of every class with every option changed one at a time loads identically or is refused by name', async () => {
    const dir = tmp();
    try {
      for (const c of CLASSES) {
        const a = c.make(c.base);
        const za = tf.randomNormal([5, a.dim], 0, 1, 'float32', 7);
        tf.dispose(a.forward(za)); // a training step: EMA statistics and k-means placement differ from a fresh model
        const file = path.join(dir, 'a.ckpt');
        await saveCheckpoint(a, file);
        const ref = tf.tidy(() => a.forward(za, { training: false }));
        for (const [key, value] of c.alt) {
          const what = `${c.name} with ${key} = ${JSON.stringify(value)}`;
          const b = c.make(withOption(c.base, key, value));
          let err: Error | null = null;
          try {
            await loadCheckpoint(b, file);
          } catch (e) {
            err = e as Error;
          }
          if (err) {
            const option = key.split('.').pop()!;
            assert.match(err.message, new RegExp(`\\b${option}\\b`), `${what}: refused, naming the option: ${err.message}`);
          } else {
            assert.equal(b.dim, a.dim, `${what}: loaded into another width`);
            const out = tf.tidy(() => b.forward(za, { training: false }));
            assert.deepEqual(Array.from(out.indices.dataSync()), Array.from(ref.indices.dataSync()), `${what}: same indices`);
            assert.deepEqual(Array.from(out.quantized.dataSync()), Array.from(ref.quantized.dataSync()), `${what}: same quantized`);
            tf.dispose(out);
          }
          b.dispose();
        }
        tf.dispose([ref, za]);
        a.dispose();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('20.6: codebookSize 1 is refused at construction by every class', async () => {
    await rejects(() => new VectorQuantizer({ codebookSize: 1, dim: 2 }), /VectorQuantizer: codebookSize must be an integer in \[2, 16777216\], got 1/, 'VQ');
    await rejects(() => new SimVQ({ codebookSize: 1, dim: 2 }), /SimVQ: codebookSize must be an integer in \[2, 16777216\], got 1/, 'SimVQ');
    await rejects(() => new ResidualVQ({ numQuantizers: 2, vq: { codebookSize: 1, dim: 2 } }), /codebookSize must be an integer in \[2, 16777216\], got 1/, 'RVQ');
    await rejects(() => new LFQ({ codebookSize: 1 }), /LFQ: codebookSize must be an integer in \[2, 16777216\], got 1/, 'LFQ');
    await rejects(() => new FSQ({ levels: [1] }), /FSQ: levels must be a non-empty array of integers >= 3/, 'FSQ');
  });

  test('20.9: a tf call before initBackend: the backend is still chosen properly, VQ gradients work, a later stray error exits 1 (not 7)', () => {
    const lib = path.join(__dirname, '..', 'lib', 'index.js');
    const script = `const vq = require(${JSON.stringify(lib)}); const tf = vq.tf;
      (async () => {
        try { tf.tensor([1, 2]); } catch (e) { console.log('early:', e.message.slice(0, 40)); }
        const info = await vq.initBackend(${JSON.stringify(TEST_BACKEND)}, { quiet: true });
        console.log('summary:', info.summary.split('\\n').filter((l) => /skipped ${TEST_BACKEND}/.test(l)).join(' | ') || 'ok', info.choice);
        const q = new vq.VectorQuantizer({ codebookSize: 4, dim: 2, seed: 0 });
        const g = tf.grad((x) => q.forward(x).loss)(tf.ones([3, 2]));
        console.log('grad', g.shape.join('x'), tf.getBackend());
        setTimeout(() => { throw new Error('stray'); }, 10);
      })();`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 120_000 });
    assert.match(r.stdout, new RegExp(`summary: ok ${TEST_BACKEND}`), r.stdout + r.stderr);
    assert.match(r.stdout, /grad 3x2/, r.stderr);
    assert.equal(r.status, 1, `exit code (7 = Emscripten's handlers): ${r.stderr.slice(0, 300)}`);
    assert.ok(r.stderr.length < 2000, `a short error, got ${r.stderr.length} bytes`);
    // tf.ready() alone (tfjs starts wasm by itself, without lib/wasm's kernels): a clear message at construction
    const ready = `const vq = require(${JSON.stringify(lib)});
      vq.tf.ready().then(() => { try { new vq.VectorQuantizer({ codebookSize: 4, dim: 2 }); console.log('no error'); } catch (e) { console.log(e.message); } process.exit(0); });`;
    const r2 = spawnSync(process.execPath, ['-e', ready], { encoding: 'utf8', timeout: 120_000 });
    assert.match(r2.stdout, /VectorQuantizer: the wasm backend was started by TensorFlow\.js itself .* call `await vq\.initBackend\(\)` first/, r2.stderr);
  });

  test('20.10: ResidualVQ FSQ stages take bound, so levels [2] work as FSQ advises', () => {
    const q = new ResidualVQ({ numQuantizers: 2, fsq: { levels: [2, 3], bound: 'symmetric' } });
    const z = tf.tensor2d([[-1, 1], [1, -1]]);
    const out = q.forward(z, { training: false });
    assert.deepEqual(out.indices.shape, [2, 2]);
    assert.deepEqual(q.config.bound, 'symmetric');
    tf.dispose([z, out]);
    q.dispose();
  });

  test('20.11: ResidualVQ.decode accepts −1 (dropped stage) and refuses any other negative by name', async () => {
    const q = new ResidualVQ({ numQuantizers: 2, vq: { codebookSize: 4, dim: 2 }, seed: 0 });
    tf.dispose(q.decode([[0, -1]]));
    await rejects(() => q.decode([[0, -2]]), /ResidualVQ\.decode\(indices\) must hold integers in \[0, 3\], or −1 for a stage dropped out, found -2 at flat position 1/, '−2');
    const t = tf.tensor2d([[-5, 1]], undefined, 'int32');
    await rejects(() => q.decode(t), /found -5 at flat position 0/, '−5 tensor');
    t.dispose();
    q.dispose();
  });

  test('20.12: LFQ.codesToIndices refuses off-grid and NaN codes, as FSQ does', async () => {
    const q = new LFQ({ codebookSize: 16, codebookScale: 2 });
    const ok = tf.tensor2d([[2, -2, 2, -2]]);
    const idx = q.codesToIndices(ok);
    assert.deepEqual(Array.from(idx.dataSync()), [10]);
    for (const [row, pos] of [[[0.3, -5, 0, 7], 0], [[2, -2, NaN, 2], 2], [[2, -2, 2, 1], 3]] as [number[], number][]) {
      const t = tf.tensor2d([row]);
      await rejects(() => q.codesToIndices(t), new RegExp(`LFQ\\.codesToIndices\\(codes\\) must hold codes on the grid \\{−2, 2\\} .*at flat position ${pos}`), String(row));
      t.dispose();
    }
    tf.dispose([ok, idx]);
    q.dispose();
  });

  test('20.13: inputs whose squares overflow float32 are refused by every class; the largest allowed give a finite loss', async () => {
    for (const c of CLASSES) {
      const q = c.make(c.base);
      const big = tf.fill([4, q.dim], 1e30);
      await rejects(() => q.forward(big), new RegExp(`^${c.name.split(' ')[0]}\\.forward\\(z\\) must hold values of magnitude at most .* found 1\\.00e\\+30; scale z down`), c.name);
      const limit = maxInputMagnitude(4, q.dim);
      const edge = tf.tensor2d(Array.from({ length: 4 * q.dim }, (_, i) => (i % 2 ? -1 : 1) * limit * 0.999), [4, q.dim]);
      const out = q.forward(edge);
      assert.ok(Number.isFinite(out.loss.dataSync()[0]), `${c.name}: finite loss at |z| = ${limit.toPrecision(3)}`);
      assert.ok(out.quantized.dataSync().every(Number.isFinite), `${c.name}: finite quantized`);
      tf.dispose([big, edge, out]);
      q.dispose();
    }
  });

  test('20.14: after dispose() every method names the class; a disposed input is named as such', async () => {
    for (const c of CLASSES) {
      const q = c.make(c.base);
      const cls = c.name.split(' ')[0];
      const z = tf.zeros([1, q.dim]);
      z.dispose();
      await rejects(() => q.forward(z), new RegExp(`^${cls}\\.forward\\(z\\) is a disposed tensor$`), `${c.name}: disposed z`);
      q.dispose();
      const z2 = tf.zeros([1, q.dim]);
      const i2 = tf.zeros([1, q.indicesPerVector], 'int32');
      const calls: [string, () => unknown][] = [
        ['forward', () => q.forward(z2)], ['trainableVariables', () => q.trainableVariables()], ['namedVariables', () => q.namedVariables()],
        ['decode', () => q.decode(i2)],
      ];
      if (q instanceof VectorQuantizer || q instanceof SimVQ) calls.push(['codes', () => q.codes()]);
      for (const [m, call] of calls) await rejects(call, new RegExp(`^${cls}: used after dispose\\(\\)$`), `${c.name}.${m}`);
      tf.dispose([z2, i2]);
    }
  });

  test('20.15: after initBackend a ragged array is refused, not truncated', async () => {
    await rejects(() => tf.tensor([[0], [1, 2]]), /Element arr\[1\] should have 1 elements, but has 2 elements/, 'ragged');
  });

  test('20.16: meta that is not JSON is refused naming the key; directories are named; claim() needs a boolean', async () => {
    const dir = tmp();
    const q = new VectorQuantizer({ codebookSize: 4, dim: 2, seed: 0 });
    try {
      const file = path.join(dir, 'q.ckpt');
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      await rejects(() => saveCheckpoint(q, file, { meta: { run: { steps: 10n } } }), /saveCheckpoint\(options\.meta\)\.run\.steps must be JSON .* got a BigInt \(10n\)/, 'BigInt');
      await rejects(() => saveCheckpoint(q, file, { meta: { log: circular } }), /meta\)\.log\.self must be JSON .* got a circular reference/, 'cycle');
      await rejects(() => saveCheckpoint(q, file, { meta: { mse: [0.1, NaN] } }), /meta\)\.mse\[1\] must be JSON .* got NaN \(JSON would store it as null\)/, 'NaN');
      assert.ok(!fs.existsSync(file));
      await saveCheckpoint(q, file, { meta: { when: new Date(0), note: 'ok', missing: undefined } });
      await rejects(() => loadCheckpoint(q, dir), new RegExp(`checkpoint ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is a directory`), 'load dir');
      await rejects(() => saveCheckpoint(q, dir), /is a directory/, 'save dir');
      const mnist = path.join(dir, 'mnist');
      fs.mkdirSync(path.join(mnist, 'train-images-idx3-ubyte'), { recursive: true });
      await rejects(() => loadMnist({ source: 'idx', dir: mnist }), /MNIST IDX file .*train-images-idx3-ubyte is a directory, not a file/, 'mnist dir');
      await rejects(() => claim('false' as unknown as boolean, 'a string is not a boolean'), /claim\(condition\) must be a boolean, got "false"/, 'claim');
    } finally {
      q.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('24: flat stage options get a hint to nest them; FSQ levels say ≥ 3 or 2 with symmetric at once; channels-first images are named', async () => {
    await rejects(() => new ResidualVQ({ numQuantizers: 4, codebookSize: 256, dim: 8 } as never),
      /ResidualVQ: unknown option 'codebookSize': the stages' options go under `vq: \{ … \}`, not at the top level/, 'flat vq');
    await rejects(() => new ResidualVQ({ numQuantizers: 4, levels: [8, 5, 5, 5] } as never),
      /ResidualVQ: unknown option 'levels': the stages' options go under `fsq: \{ … \}`/, 'flat fsq');
    await rejects(() => new FSQ({ levels: [8, 1] }), /FSQ: levels must be a non-empty array of integers >= 3, or >= 2 with bound: 'symmetric'/, 'level 1');
    await rejects(() => new FSQ({ levels: [8, 2] }), /FSQ: levels must be integers >= 3, or >= 2 with bound: 'symmetric', got \[8, 2\]/, 'level 2');
    const q = new VectorQuantizer({ codebookSize: 4, dim: 4, seed: 0 });
    const m = new VQVAE({ bottleneck: q, dim: 4, seed: 0 });
    const x = tf.zeros([2, 1, 28, 28]) as tf.Tensor4D;
    await rejects(() => m.forward(x), /VQVAE\.encode\(x\) must be a tensor \[N, H, W, 1\], got a float32 tensor of shape \[2, 1, 28, 28\]; this looks channels-first \[N, C, H, W\].*channels-last \(NHWC\).*tf\.transpose\(x, \[0, 2, 3, 1\]\)/, 'NCHW');
    x.dispose();
    m.dispose();
    q.dispose();
  });
});
