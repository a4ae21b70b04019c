/** Notebook 11's Gaussian study (studies/gaussian.ts): the grid, the initial code scales it claims, a run's record, resuming. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SimVQ, VectorQuantizer, tf } from '../lib/internal';
import { GAUSSIAN_GRID, GAUSSIAN_METHODS, SIMVQ_INITIAL_NORM, gaussianJobs, runGaussian, runGaussianStudy } from '../studies/gaussian';
import { makeQuantizer } from '../studies/spec';
import { useTestBackend } from './support/backend';

const meanNorm = (codes: tf.Tensor2D) => tf.tidy(() => tf.mean(tf.norm(codes, 'euclidean', 1)).dataSync()[0]);
const method = (id: string) => GAUSSIAN_METHODS.find((m) => m.id === id)!;

test('the grid: every method at every K with seed 0, seeds 1 and 2 at the small K; ids unique', () => {
  const jobs = gaussianJobs();
  const per = GAUSSIAN_METHODS.length;
  assert.equal(jobs.length, per * (GAUSSIAN_GRID.ks.length + GAUSSIAN_GRID.seededKs.length * GAUSSIAN_GRID.extraSeeds.length));
  assert.equal(new Set(jobs.map((j) => `${j.method.id}-${j.K}-${j.seed}`)).size, jobs.length);
});

test('the initial code scales are what the labels say: SimVQ ≈ 0.58, the control at its scale, the data\'s scale ≈ 8, the default tiny', async () => {
  await useTestBackend();
  const before = tf.memory().numTensors;
  const sim = new SimVQ({ codebookSize: 256, dim: 64, seed: 0 });
  const codes = sim.codes();
  const simNorm = meanNorm(codes);
  codes.dispose();
  sim.dispose();
  assert.ok(Math.abs(simNorm / SIMVQ_INITIAL_NORM - 1) < 0.1, `SimVQ's codes start at norm ${simNorm}, not ≈ ${SIMVQ_INITIAL_NORM}`);
  const norms = Object.fromEntries(['vq', 'vq-simscale', 'vq-unit', 'rotation', 'rotation-unit'].map((id) => {
    const q = method(id).make(256, 0) as VectorQuantizer;
    const n = meanNorm(q.codebook);
    q.dispose();
    return [id, n];
  }));
  assert.ok(Math.abs(norms['vq-simscale'] / SIMVQ_INITIAL_NORM - 1) < 0.1, `vq-simscale: ${norms['vq-simscale']}`);
  assert.ok(Math.abs(norms['vq-unit'] / 8 - 1) < 0.1 && Math.abs(norms['rotation-unit'] / 8 - 1) < 0.1, JSON.stringify(norms));
  assert.ok(norms.vq < 0.05 && norms.rotation < 0.05, JSON.stringify(norms));
  assert.equal(tf.memory().numTensors, before);
});

test('codes redrawn at a scale are the same for the same seed, seed 0 included (tfjs reads seed 0 as unseeded)', async () => {
  await useTestBackend();
  for (const seed of [0, 1]) {   // the MNIST studies' codeNorm (studies/spec.ts)
    const spec = { type: 'vq' as const, options: { codebookSize: 16 }, codeNorm: 0.5 };
    const [a, b] = [makeQuantizer(spec, 8, seed) as VectorQuantizer, makeQuantizer(spec, 8, seed) as VectorQuantizer];
    assert.deepEqual(Array.from(a.codebook.dataSync()), Array.from(b.codebook.dataSync()), `studies/spec.ts codeNorm, seed ${seed}`);
    a.dispose(); b.dispose();
  }
  for (const id of ['vq-unit', 'vq-simscale', 'rotation-unit']) {
    for (const seed of [0, 1]) {
      const [a, b] = [method(id).make(64, seed), method(id).make(64, seed)];
      const [ca, cb] = [(a as VectorQuantizer).codebook, (b as VectorQuantizer).codebook];
      assert.deepEqual(Array.from(ca.dataSync()), Array.from(cb.dataSync()), `${id}, seed ${seed}`);
      a.dispose(); b.dispose();
    }
  }
  const [s0, s1] = [method('vq-unit').make(64, 0), method('vq-unit').make(64, 1)];
  assert.notDeepEqual(Array.from((s0 as VectorQuantizer).codebook.dataSync()), Array.from((s1 as VectorQuantizer).codebook.dataSync()));
  s0.dispose(); s1.dispose();
});

test('a run records held-out scores at step 0 and every evalEvery steps, usage over the real codebook size, no leaks', async () => {
  await useTestBackend();
  const before = tf.memory().numTensors;
  const r = await runGaussian(method('fsq'), 256, 0, { steps: 4, evalEvery: 2, batchSize: 32, learningRate: 1e-3, backend: 'test' });
  assert.deepEqual(r.curve.map((p) => p.step), [0, 2, 4]);
  assert.equal(r.codebookSize, 240, 'FSQ [8, 6, 5]');
  assert.equal(r.final.usage, Number((r.final.used / 240).toPrecision(6)));
  assert.ok(r.final.used >= 1 && r.final.used <= 240 && r.final.mse > 0 && r.final.mse < 2, JSON.stringify(r.final));
  assert.equal(r.initialCodeNorm, null);
  const v = await runGaussian(method('vq-unit'), 16, 1, { steps: 3, evalEvery: 2, batchSize: 32, learningRate: 1e-3, backend: 'test' });
  assert.deepEqual(v.curve.map((p) => p.step), [0, 2, 3], 'the last step is always scored');
  assert.ok(v.initialCodeNorm! > 6 && v.initialCodeNorm! < 10, String(v.initialCodeNorm));
  assert.equal(tf.memory().numTensors, before);
});

test('the study writes one file per run and skips the runs it finds (resumable per run)', async () => {
  await useTestBackend();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vq-gauss-'));
  try {
    const grid = { ks: [16], seededKs: [], steps: 2, evalEvery: 2 };
    const lines: string[] = [];
    await runGaussianStudy({ results: dir, grid, shard: [1, 2], backend: 'test' }, (l) => lines.push(l));
    const files = fs.readdirSync(path.join(dir, 'gaussian-collapse', 'runs')).sort();
    assert.equal(files.length, Math.ceil(GAUSSIAN_METHODS.length / 2), files.join(', '));
    const first = fs.statSync(path.join(dir, 'gaussian-collapse', 'runs', files[0])).mtimeMs;
    const again: string[] = [];
    await runGaussianStudy({ results: dir, grid, shard: [1, 2], backend: 'test' }, (l) => again.push(l));
    assert.equal(again.length, 1, `nothing retrained: ${again.join(' | ')}`);
    assert.equal(fs.statSync(path.join(dir, 'gaussian-collapse', 'runs', files[0])).mtimeMs, first);
    const study = JSON.parse(fs.readFileSync(path.join(dir, 'gaussian-collapse', 'study.json'), 'utf8'));
    assert.equal(study.grid.steps, 2);
    assert.equal(study.methods.length, GAUSSIAN_METHODS.length);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
