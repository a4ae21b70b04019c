/**
 * The wasm training kernels (lib/wasm) against the pure-JS cpu backend.
 *
 * Tolerance: every element must satisfy |wasm − cpu| ≤ 1e-4 · (1 + max|cpu|) (for the conv
 * gradients, sums of up to ~2,000 products of N(0,1) numbers: float32 reassociation error is
 * ~1e-6 relative, so 1e-4 leaves room without hiding a wrong tap, which is O(1)).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { dilateFilter, registerWasmKernels, WASM_KERNELS } from '../lib/wasm/index';
import { Rng } from '../lib/rng';

tf.enableProdMode();
const TOL = 1e-4;

/** Seeded uniform [0, 1) draws (the library's mulberry32). */
function rng(seed: number): () => number {
  return new Rng(seed).next;
}

function normal(n: number, r: () => number): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    v[i] = Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
  }
  return v;
}

type Fn = () => tf.Tensor | tf.Tensor[];

/** Run fn on cpu and on wasm (fresh tensors each time), return both results as arrays. */
async function onBoth(fn: Fn): Promise<{ cpu: Float32Array[]; wasm: Float32Array[]; shapes: number[][] }> {
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    const out = tf.tidy(fn);
    const list = Array.isArray(out) ? out : [out];
    const vals = await Promise.all(list.map(async (t) => Float32Array.from(await t.data())));
    const shapes = list.map((t) => t.shape);
    tf.dispose(list);
    return { vals, shapes };
  };
  const c = await run('cpu');
  const w = await run('wasm');
  assert.deepEqual(w.shapes, c.shapes, 'shapes differ');
  return { cpu: c.vals, wasm: w.vals, shapes: c.shapes };
}

function assertClose(cpu: Float32Array[], wasm: Float32Array[], what: string): number {
  let worst = 0;
  cpu.forEach((a, k) => {
    const b = wasm[k];
    assert.equal(b.length, a.length, `${what}: length`);
    let scale = 0;
    for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(a[i]));
    const tol = TOL * (1 + scale);
    for (let i = 0; i < a.length; i++) {
      const d = Math.abs(a[i] - b[i]);
      if (!(d <= tol)) assert.fail(`${what}: output ${k} element ${i}: cpu ${a[i]} wasm ${b[i]} (tol ${tol})`);
      worst = Math.max(worst, d / (1 + scale));
    }
  });
  return worst;
}

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
interface ConvCase {
  x: [number, number, number, number];
  f: [number, number, number, number];
  s: number | [number, number];
  p: Pad;
  seed?: number;
}

const AWKWARD: ConvCase[] = [
  { x: [1, 5, 5, 1], f: [3, 3, 1, 1], s: 1, p: 'same' }, // batch 1, channels 1
  { x: [2, 9, 7, 3], f: [3, 2, 3, 4], s: 2, p: 'same' }, // odd sizes, non-square filter
  { x: [1, 10, 11, 1], f: [4, 4, 1, 5], s: 2, p: 'valid' },
  { x: [3, 13, 8, 2], f: [5, 3, 2, 3], s: [3, 2], p: 'same' }, // unequal strides
  { x: [2, 12, 12, 3], f: [4, 4, 3, 2], s: 2, p: [[0, 0], [1, 1], [1, 1], [0, 0]] }, // the VQ-VAE's k4 s2 p1
  { x: [2, 11, 9, 3], f: [3, 3, 3, 2], s: 3, p: [[0, 0], [2, 0], [0, 3], [0, 0]] }, // stride 3, asymmetric pads
  { x: [2, 8, 8, 2], f: [1, 1, 2, 3], s: 2, p: 'valid' }, // 1x1, rows never read
  { x: [2, 8, 8, 2], f: [2, 2, 2, 3], s: 1, p: 1 }, // numeric pad
  { x: [1, 7, 7, 5], f: [7, 7, 5, 2], s: 1, p: 'valid' }, // filter = image
  { x: [2, 6, 5, 2], f: [3, 3, 2, 2], s: 2, p: [[0, 0], [4, 4], [5, 3], [0, 0]] }, // pads wider than the filter
  { x: [2, 14, 14, 4], f: [4, 4, 4, 1], s: 2, p: 'same' }, // one output channel (decoder's last layer)
  { x: [3, 7, 7, 6], f: [3, 3, 6, 5], s: 1, p: 'same' },
  // >= 8 input channels with a stride: dx is computed phase by phase
  { x: [2, 14, 14, 8], f: [4, 4, 8, 6], s: 2, p: 'same' }, // the VQ-VAE's k4 s2 p1 shape
  { x: [2, 11, 9, 9], f: [3, 5, 9, 4], s: [3, 2], p: 'valid' },
  { x: [1, 10, 7, 8], f: [2, 3, 8, 3], s: 3, p: [[0, 0], [4, 1], [0, 5], [0, 0]] }, // some phases empty
  { x: [2, 9, 9, 8], f: [1, 1, 8, 2], s: 2, p: 'valid' }, // phases with no filter tap
];

function randomCases(n: number, seed: number): ConvCase[] {
  const r = rng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const out: ConvCase[] = [];
  while (out.length < n) {
    const kh = int(1, 5);
    const kw = int(1, 5);
    const sh = int(1, 3);
    const sw = r() < 0.7 ? sh : int(1, 3);
    const h = int(kh, 13);
    const w = int(kw, 13);
    const mode = int(0, 2);
    const p: Pad = mode === 0 ? 'same' : mode === 1 ? 'valid'
      : [[0, 0], [int(0, kh), int(0, kh)], [int(0, kw), int(0, kw)], [0, 0]];
    out.push({ x: [int(1, 3), h, w, int(1, 10)], f: [kh, kw, 0, int(1, 5)], s: [sh, sw], p, seed: int(0, 1e6) });
    out[out.length - 1].f[2] = out[out.length - 1].x[3];
  }
  return out;
}

function convData(c: ConvCase, seed: number) {
  const r = rng(seed);
  const dyShape = tf.tidy(() => tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros(c.f) as tf.Tensor4D, c.s, c.p).shape);
  return {
    x: normal(c.x.reduce((a, b) => a * b, 1), r),
    f: normal(c.f.reduce((a, b) => a * b, 1), r),
    dy: normal(dyShape.reduce((a, b) => a * b, 1), r),
    dyShape,
  };
}

const describeCase = (c: ConvCase) => `x ${c.x} f ${c.f} s ${c.s} pad ${JSON.stringify(c.p)}`;

test('setup: wasm initialises and the kernels register', async () => {
  assert.ok(await tf.setBackend('wasm'));
  registerWasmKernels();
  registerWasmKernels(); // idempotent
  for (const k of WASM_KERNELS) assert.ok(tf.getKernel(k.name, 'wasm'), k.name);
  await tf.setBackend('cpu');
});

test('Conv2DBackpropFilter and Conv2DBackpropInput match cpu (awkward + 24 random shapes, NHWC)', async () => {
  const cases = [...AWKWARD, ...randomCases(24, 7)];
  for (const [i, c] of cases.entries()) {
    const d = convData(c, c.seed ?? i);
    const attrs = { strides: c.s, pad: c.p, dataFormat: 'NHWC', dimRoundingMode: undefined } as unknown as tf.NamedAttrMap;
    const dW = await onBoth(() => tf.engine().runKernel(tf.Conv2DBackpropFilter,
      { x: tf.tensor4d(d.x, c.x), dy: tf.tensor(d.dy, d.dyShape) }, { ...attrs, filterShape: c.f }) as tf.Tensor);
    assertClose(dW.cpu, dW.wasm, `dW ${describeCase(c)}`);
    const dX = await onBoth(() => tf.engine().runKernel(tf.Conv2DBackpropInput,
      { dy: tf.tensor(d.dy, d.dyShape), filter: tf.tensor4d(d.f, c.f) }, { ...attrs, inputShape: c.x }) as tf.Tensor);
    assertClose(dX.cpu, dX.wasm, `dX ${describeCase(c)}`);
  }
});

test('the conv gradients through tf.grad and conv2dTranspose (forward and backward) match cpu', async () => {
  for (const [i, c] of AWKWARD.entries()) {
    const d = convData(c, 100 + i);
    const g = await onBoth(() => {
      const x = tf.tensor4d(d.x, c.x);
      const f = tf.tensor4d(d.f, c.f);
      const dy = tf.tensor(d.dy, d.dyShape);
      const [gx, gf] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.p), dy)))([x, f]);
      return [gx, gf];
    });
    assertClose(g.cpu, g.wasm, `grad conv2d ${describeCase(c)}`);
    if (typeof c.p !== 'string') continue; // conv2dTranspose takes 'same' | 'valid' | number only
    const t = await onBoth(() => {
      const y = tf.tensor(d.dy, d.dyShape) as tf.Tensor4D;
      const f = tf.tensor4d(d.f, c.f);
      const up = tf.tensor4d(d.x, c.x);
      const [gy, gf] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(tf.conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, c.x, c.s, c.p as 'same'), up)))([y, f]);
      return [tf.conv2dTranspose(y, f, c.x, c.s, c.p as 'same'), gy, gf];
    });
    assertClose(t.cpu, t.wasm, `conv2dTranspose ${describeCase(c)}`);
  }
});

test('dilated convolutions train: gradients equal those of the zero-inserted filter, on cpu and wasm', async () => {
  const cases: ConvCase[] = [
    { x: [2, 11, 10, 3], f: [3, 3, 3, 4], s: 1, p: 'same' },
    { x: [1, 12, 9, 2], f: [2, 3, 2, 3], s: 1, p: 'valid' },
    { x: [2, 9, 9, 8], f: [3, 2, 8, 2], s: 1, p: [[0, 0], [2, 1], [0, 3], [0, 0]] },
  ];
  const dilations: Array<[number, number]> = [[2, 2], [3, 1], [1, 2]];
  for (const [i, c] of cases.entries()) {
    const d = dilations[i];
    const r = rng(40 + i);
    const x = normal(c.x.reduce((a, b) => a * b, 1), r);
    const f = normal(c.f.reduce((a, b) => a * b, 1), r);
    const grads = (useDilation: boolean) => () => {
      const xt = tf.tensor4d(x, c.x);
      const ft = tf.tensor4d(f, c.f);
      return tf.grads((a: tf.Tensor, b: tf.Tensor) => {
        const y = useDilation
          ? tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, c.p, 'NHWC', d)
          : tf.conv2d(a as tf.Tensor4D, dilateFilter(b as tf.Tensor4D, d[0], d[1]), 1, c.p);
        return tf.sum(tf.square(y));
      })([xt, ft]);
    };
    const viaDilation = await onBoth(grads(true));
    const viaZeros = await onBoth(grads(false));
    assertClose(viaZeros.cpu, viaDilation.cpu, `dilated grad (cpu) ${describeCase(c)} d ${d}`);
    assertClose(viaDilation.cpu, viaDilation.wasm, `dilated grad wasm vs cpu ${describeCase(c)} d ${d}`);
  }
});

test('NCHW data format is handled by both backprop kernels', async () => {
  for (const c of AWKWARD.slice(0, 6)) {
    const d = convData(c, 3);
    const nchw = (s: number[]) => [s[0], s[3], s[1], s[2]];
    // An explicit padding is written in the data format's axis order.
    const pad = typeof c.p === 'object' ? [c.p[0], c.p[3], c.p[1], c.p[2]] : c.p;
    const attrs = { strides: c.s, pad, dataFormat: 'NCHW' } as unknown as tf.NamedAttrMap;
    const dW = await onBoth(() => tf.engine().runKernel(tf.Conv2DBackpropFilter, {
      x: tf.transpose(tf.tensor4d(d.x, c.x), [0, 3, 1, 2]),
      dy: tf.transpose(tf.tensor(d.dy, d.dyShape), [0, 3, 1, 2]),
    }, { ...attrs, filterShape: c.f }) as tf.Tensor);
    assertClose(dW.cpu, dW.wasm, `dW NCHW ${describeCase(c)}`);
    const dX = await onBoth(() => tf.engine().runKernel(tf.Conv2DBackpropInput, {
      dy: tf.transpose(tf.tensor(d.dy, d.dyShape), [0, 3, 1, 2]),
      filter: tf.tensor4d(d.f, c.f),
    }, { ...attrs, inputShape: nchw(c.x) }) as tf.Tensor);
    assertClose(dX.cpu, dX.wasm, `dX NCHW ${describeCase(c)}`);
  }
});

test('BatchMatMul / fused matMul with transposes, batches and broadcasting match cpu', async () => {
  const r = rng(11);
  const t = (shape: number[]) => tf.tensor(normal(shape.reduce((a, b) => a * b, 1), r), shape);
  const cases: Array<[number[], number[], boolean, boolean]> = [
    [[5, 7], [7, 4], false, false],
    [[7, 5], [7, 4], true, false],
    [[5, 7], [4, 7], false, true],
    [[7, 5], [4, 7], true, true],
    [[3, 5, 7], [7, 4], false, false], // batched A, shared B: folded into rows
    [[3, 7, 5], [4, 7], true, true],
    [[2, 3, 5, 7], [1, 7, 4], false, false], // broadcast batch of 1
    [[2, 5, 7], [2, 7, 4], false, false], // batched B: shipped kernel
    [[2, 7, 5], [2, 4, 7], true, true],
    [[1, 1], [1, 1], false, false],
    [[64, 33], [64, 17], true, false],
    [[200, 3], [200, 40], true, false], // skinny output, long K: packs A instead of B
    [[200, 40], [200, 3], true, false],
    [[3, 200], [40, 200], false, true],
    [[4, 3, 9], [5, 9], false, true],
  ];
  for (const [sa, sb, ta, tb] of cases) {
    const a = t(sa);
    const b = t(sb);
    const av = a.dataSync();
    const bv = b.dataSync();
    tf.dispose([a, b]);
    const out = await onBoth(() => tf.matMul(tf.tensor(av, sa), tf.tensor(bv, sb), ta, tb));
    assertClose(out.cpu, out.wasm, `matMul ${sa} ${sb} ${ta} ${tb}`);
    if (sa.length === 2 && sb.length === 2) {
      const n = tb ? sb[0] : sb[1];
      const bias = normal(n, r);
      const fused = await onBoth(() => tf.fused.matMul({
        a: tf.tensor2d(av, sa as [number, number]), b: tf.tensor2d(bv, sb as [number, number]),
        transposeA: ta, transposeB: tb, bias: tf.tensor1d(bias), activation: 'relu',
      }));
      assertClose(fused.cpu, fused.wasm, `fused.matMul ${sa} ${sb} ${ta} ${tb}`);
    }
    // The gradient of a matMul is two transposed products.
    if (sa.length === 2 && sb.length === 2) {
      const g = await onBoth(() => tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.matMul(x, y, ta, tb))))(
        [tf.tensor(av, sa), tf.tensor(bv, sb)]));
      assertClose(g.cpu, g.wasm, `grad matMul ${sa} ${sb} ${ta} ${tb}`);
    }
  }
});

test('the same buffer used as matMul weights with two shapes gives correct results (XNNPACK cache guard)', async () => {
  await tf.setBackend('wasm');
  const r = rng(5);
  const w = tf.tensor(normal(24, r), [4, 6]);
  const a1 = tf.tensor(normal(8, r), [2, 4]);
  const a2 = tf.tensor(normal(16, r), [2, 8]);
  const y1 = tf.matMul(a1, w);
  const y2 = tf.matMul(a2, tf.reshape(w, [8, 3])); // same dataId, other [K, N]
  const ref1 = tf.tidy(() => tf.sum(tf.mul(tf.expandDims(a1, 2), tf.expandDims(w, 0)), 1));
  const ref2 = tf.tidy(() => tf.sum(tf.mul(tf.expandDims(a2, 2), tf.expandDims(tf.reshape(w, [8, 3]), 0)), 1));
  assertClose([ref1.dataSync() as Float32Array, ref2.dataSync() as Float32Array],
    [y1.dataSync() as Float32Array, y2.dataSync() as Float32Array], 'cache guard');
  tf.dispose([w, a1, a2, y1, y2, ref1, ref2]);
});

test('Sum and Mean over leading axes (and others) match cpu', async () => {
  const r = rng(17);
  const shapes: Array<[number[], number | number[], boolean]> = [
    [[256, 7, 7, 5], [0, 1, 2], false], // a bias gradient
    [[40, 33], 0, false],
    [[40, 33], [0], true],
    [[9, 4, 3], [0, 1], true],
    [[3, 4, 5], [1, 2], false], // trailing axes: shipped kernel
    [[3, 4, 5], [0, 2], false], // mixed: shipped kernel
    [[3, 4, 5], [0, 1, 2], false], // everything: shipped kernel
    [[2, 8], 0, false], // few rows: shipped kernel
  ];
  for (const [shape, axis, keepDims] of shapes) {
    const v = normal(shape.reduce((a, b) => a * b, 1), r);
    const out = await onBoth(() => [tf.sum(tf.tensor(v, shape), axis, keepDims), tf.mean(tf.tensor(v, shape), axis, keepDims)]);
    assertClose(out.cpu, out.wasm, `sum/mean ${shape} axis ${axis} keepDims ${keepDims}`);
  }
  const ints = await onBoth(() => tf.cast(tf.sum(tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18], [9, 2], 'int32'), 0), 'float32'));
  assertClose(ints.cpu, ints.wasm, 'int32 sum');
});

test('UnsortedSegmentSum (the gradient of gather) matches cpu, duplicates and out-of-range ids included', async () => {
  const r = rng(3);
  const data = normal(9 * 5, r);
  const ids = [0, 3, 3, 1, 4, 7, -1, 3, 0];
  const seg = await onBoth(() => tf.unsortedSegmentSum(tf.tensor2d(data, [9, 5]), tf.tensor1d(ids, 'int32'), 6));
  assertClose(seg.cpu, seg.wasm, 'unsortedSegmentSum');
  const table = normal(6 * 4, r);
  const up = normal(5 * 4, r);
  const g = await onBoth(() => tf.grad((t: tf.Tensor) =>
    tf.sum(tf.mul(tf.gather(t, tf.tensor1d([0, 3, 3, 1, 5], 'int32')), tf.tensor2d(up, [5, 4]))))(tf.tensor2d(table, [6, 4])));
  assertClose(g.cpu, g.wasm, 'grad gather');
  const gi = await onBoth(() => tf.unsortedSegmentSum(tf.tensor1d([1, 2, 3, 4], 'int32'), tf.tensor1d([1, 1, 0, 2], 'int32'), 3));
  assertClose(gi.cpu, gi.wasm, 'unsortedSegmentSum int32');
});

test('Identity shares the buffer: a clone survives its source, and nothing leaks', async () => {
  await tf.setBackend('wasm');
  const before = tf.engine().backend.numDataIds();
  const a = tf.tensor1d([1, 2, 3]);
  const b = a.clone();
  a.dispose();
  assert.deepEqual(Array.from(b.dataSync()), [1, 2, 3]);
  b.dispose();
  assert.equal(tf.engine().backend.numDataIds(), before);
});

test('a small conv net\'s full gradient on wasm equals cpu\'s', async () => {
  // conv s2 → relu → conv 3x3 → +residual 1x1 → convTranspose s2 → dense head on a gathered
  // embedding (gather → UnsortedSegmentSum) → MSE + a cross-entropy over 5 classes.
  const r = rng(21);
  const shapes: Record<string, number[]> = {
    w1: [4, 4, 2, 6], b1: [6], w2: [3, 3, 6, 6], w3: [1, 1, 6, 6], wt: [4, 4, 2, 6],
    emb: [5, 6], wd: [6, 5],
  };
  const init = Object.fromEntries(Object.entries(shapes).map(([k, s]) =>
    [k, normal(s.reduce((a, b) => a * b, 1), r).map((v) => v * 0.3)]));
  const x = normal(3 * 10 * 10 * 2, r);
  const labels = [1, 4, 0];
  const g = await onBoth(() => {
    const vars = Object.fromEntries(Object.entries(init).map(([k, v]) => [k, tf.variable(tf.tensor(v, shapes[k]), true, `net_${k}`)]));
    const xin = tf.tensor4d(x, [3, 10, 10, 2]);
    const { grads, value } = tf.variableGrads(() => {
      const h1 = tf.relu(tf.add(tf.conv2d(xin, vars.w1 as tf.Tensor4D, 2, 'same'), vars.b1)) as tf.Tensor4D; // [3,5,5,6]
      const h2 = tf.conv2d(h1, vars.w2 as tf.Tensor4D, 1, 'same');
      const h3 = tf.add(h1, tf.conv2d(tf.relu(h2), vars.w3 as tf.Tensor4D, 1, 'valid')) as tf.Tensor4D;
      const up = tf.conv2dTranspose(h3, vars.wt as tf.Tensor4D, [3, 10, 10, 2], 2, 'same');
      const recon = tf.mean(tf.squaredDifference(up, xin));
      const pooled = tf.mean(h3, [1, 2]); // [3,6]
      const e = tf.gather(vars.emb, tf.tensor1d(labels, 'int32')); // [3,6]
      const logits = tf.matMul(tf.add(pooled, e), vars.wd); // [3,5]
      const ce = tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(labels, 'int32'), 5), logits);
      return tf.add(recon, ce) as tf.Scalar;
    });
    const names = Object.keys(shapes);
    const out = [value, ...names.map((k) => grads[`net_${k}`])];
    tf.dispose(Object.values(vars));
    return out;
  });
  const worst = assertClose(g.cpu, g.wasm, 'conv net gradient');
  assert.ok(worst < TOL);
});

test('no kernel leaks: tensors and backend buffers are unchanged after repeated use', async () => {
  await tf.setBackend('wasm');
  const r = rng(9);
  const x = tf.tensor4d(normal(2 * 9 * 9 * 3, r), [2, 9, 9, 3]);
  const f = tf.tensor4d(normal(4 * 4 * 3 * 5, r), [4, 4, 3, 5]);
  const a = tf.tensor2d(normal(6 * 7, r), [6, 7]);
  const b = tf.tensor2d(normal(5 * 7, r), [5, 7]);
  const table = tf.tensor2d(normal(8 * 3, r), [8, 3]);
  const work = () => tf.tidy(() => {
    const [gx, gf] = tf.grads((p: tf.Tensor, q: tf.Tensor) =>
      tf.sum(tf.square(tf.conv2d(p as tf.Tensor4D, q as tf.Tensor4D, [2, 1], [[0, 0], [1, 2], [0, 1], [0, 0]]))))([x, f]);
    const t = tf.conv2dTranspose(tf.conv2d(x, f, 2, 'same'), f, [2, 9, 9, 3], 2, 'same');
    const m = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.matMul(p, q, false, true)))([a, b]);
    const gg = tf.grad((tb: tf.Tensor) => tf.sum(tf.gather(tb, tf.tensor1d([1, 1, 7], 'int32'))))(table);
    return tf.stack([tf.sum(gx), tf.sum(gf), tf.sum(t), tf.sum(m[0]), tf.sum(m[1]), tf.sum(gg), tf.sum(x.clone())]);
  });
  work().dispose(); // first run may set up state
  const tensors = tf.memory().numTensors;
  const bytes = tf.memory().numBytes;
  const buffers = tf.engine().backend.numDataIds();
  for (let i = 0; i < 20; i++) work().dispose();
  assert.equal(tf.memory().numTensors, tensors, 'numTensors');
  assert.equal(tf.memory().numBytes, bytes, 'numBytes');
  assert.equal(tf.engine().backend.numDataIds(), buffers, 'backend buffers (intermediates inside kernels)');
  tf.dispose([x, f, a, b, table]);
});
