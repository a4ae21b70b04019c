/** readStudy (lib/notebook/study.ts): a study's committed results as notebooks read them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readGaussianStudy, readStudy } from '../lib/notebook/study';

const run = (method: string, lr: number, seed: number, valMse: number, tuning = seed === 0) => ({
  study: 's', id: `${method}-lr${lr}-s${seed}`, method, label: method.toUpperCase(), seed, learningRate: lr, tuning, status: 'done',
  final: { valMse, testMse: valMse * 1.1 },
});

function write(runs: object[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'read-study-'));
  fs.mkdirSync(path.join(dir, 's', 'runs'), { recursive: true });
  for (const r of runs as { id: string }[]) fs.writeFileSync(path.join(dir, 's', 'runs', `${r.id}.json`), JSON.stringify(r));
  return dir;
}

test('readStudy picks each method\'s rate by validation MSE, keeps its seeds in order, and follows `order`', () => {
  const dir = write([
    run('vq', 1e-3, 0, 0.5), run('vq', 3e-3, 0, 0.4), run('vq', 3e-3, 2, 0.45), run('vq', 3e-3, 1, 0.42), run('vq', 1e-3, 1, 0.1, false),
    run('fsq', 1e-3, 0, 0.3), { ...run('fsq', 3e-3, 0, 0.01), status: 'running' },
  ]);
  const s = readStudy('s', { dir, order: ['fsq', 'vq'] });
  assert.deepEqual(s.methods.map((m) => m.method), ['fsq', 'vq']);
  const vq = s.methods[1];
  assert.equal(vq.learningRate, 3e-3);
  assert.deepEqual(vq.tuning.map((r) => r.learningRate), [1e-3, 3e-3]);
  assert.deepEqual(vq.runs.map((r) => r.seed), [0, 1, 2], 'the chosen rate\'s runs, by seed; the other rate\'s seed 1 is not one of them');
  assert.equal(s.methods[0].learningRate, 1e-3, 'a run that is not done does not count');
  assert.equal(s.checkpoints, path.join(dir, 's', 'checkpoints'));
  assert.deepEqual(readStudy('s', { dir }).methods.map((m) => m.method).sort(), ['fsq', 'vq']);
  assert.equal(s.priors.size, 0, 'no priors folder: no priors');
  fs.mkdirSync(path.join(dir, 's', 'priors'));
  fs.writeFileSync(path.join(dir, 's', 'priors', 'vq-lr0.003-s0.json'), JSON.stringify({ run: 'vq-lr0.003-s0', final: { testBits: 3.2 } }));
  assert.equal(readStudy('s', { dir }).priors.get('vq-lr0.003-s0')?.final.testBits, 3.2, 'priors by run id');
});

test('readStudy names what is missing: the study, or a method without tuning runs', () => {
  const dir = write([run('vq', 1e-3, 0, 0.5)]);
  assert.throws(() => readStudy('nope', { dir }), /readStudy: no results for study 'nope' at .*npm run study -- nope/);
  assert.throws(() => readStudy('s', { dir, order: ['vq', 'fsq'] }), /readStudy: study 's' has no tuning run of method 'fsq'/);
});

test('readGaussianStudy reads the Gaussian study\'s runs sorted by K, method order and seed, and lists the grid\'s missing runs', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'read-gauss-'));
  try {
    const runsDir = path.join(dir, 'g', 'runs');
    fs.mkdirSync(runsDir, { recursive: true });
    const r = (method: string, K: number, seed: number) => ({ id: `${method}-K${K}-s${seed}`, method, K, seed, final: { used: 1 } });
    for (const x of [r('vq', 1024, 0), r('fsq', 256, 0), r('vq', 256, 1), r('vq', 256, 0)]) fs.writeFileSync(path.join(runsDir, `${x.id}.json`), JSON.stringify(x));
    fs.writeFileSync(path.join(dir, 'g', 'study.json'), JSON.stringify({
      grid: { ks: [256, 1024], seeds: [0], seededKs: [256], extraSeeds: [1] }, methods: [{ id: 'vq' }, { id: 'fsq' }],
    }));
    const s = readGaussianStudy('g', { dir, order: ['vq', 'fsq'] });
    assert.deepEqual(s.runs.map((x) => x.id), ['vq-K256-s0', 'vq-K256-s1', 'fsq-K256-s0', 'vq-K1024-s0']);
    assert.deepEqual(s.missing, ['fsq-K256-s1', 'fsq-K1024-s0']);
    assert.deepEqual(readGaussianStudy('g', { dir }).runs.map((x) => x.id), ['fsq-K256-s0', 'vq-K256-s0', 'vq-K256-s1', 'vq-K1024-s0'], 'no order: by name');
    assert.throws(() => readGaussianStudy('nope', { dir }), /readGaussianStudy: no results for 'nope'.*npm run study -- --gaussian/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
