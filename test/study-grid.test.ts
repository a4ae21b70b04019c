/** The study runner's learning-rate ladder (studies/spec.ts): half-decade steps without float noise. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { halfDecade, stopsAt } from '../studies/spec';

test('halfDecade steps 1, 3, 10, 30 … × 10^k up and down, as clean decimals', () => {
  assert.deepEqual([1e-3, 3e-3, 1e-2].map((lr) => halfDecade(lr, 1)), [0.003, 0.01, 0.03]);
  assert.deepEqual([1e-3, 3e-3, 1e-2].map((lr) => halfDecade(lr, -1)), [0.0003, 0.001, 0.003]);
  assert.equal(String(halfDecade(3e-4, 1)), '0.001');
});

test('stopsAt: < 1% better best validation over the patience window stops; the cap stops; early epochs never do', () => {
  const b = { maxEpochs: 10, patience: 2, minImprovement: 0.01, batchSize: 1 };
  assert.equal(stopsAt([1, 0.9], b), null);
  assert.equal(stopsAt([1, 0.9, 0.8, 0.7], b), null);
  assert.equal(stopsAt([1, 0.9, 0.8, 0.8, 0.799], b), 'converged');
  assert.equal(stopsAt(Array.from({ length: 10 }, (_, i) => 1 / (i + 1)), b), 'cap');
});

test('a grid whose best rate is on its edge grows by half-decades, at most extendLearningRates steps', async () => {
  const { planJobs, chosenRate } = await import('../studies/plan');
  const m = { id: 'm', label: 'm', quantizer: { type: 'fsq' as const, levels: [3, 3] }, learningRates: [1e-3, 3e-3] };
  const study = { name: 's', title: '', question: '', dim: 8, methods: [m], seeds: [0, 1], validationPerClass: 1, extendLearningRates: 2,
    budget: { maxEpochs: 1, patience: 1, minImprovement: 0, batchSize: 1 } };
  const run = (lr: number, valMse: number) => [`m-lr${lr}-s0`, { id: `m-lr${lr}-s0`, learningRate: lr, final: { valMse } }] as const;
  const tuning = (runs: Map<string, { id: string; learningRate: number; final: { valMse: number } }>) =>
    planJobs(study, runs).jobs.filter((j) => j.tuning).map((j) => j.learningRate);
  assert.deepEqual(tuning(new Map([run(1e-3, 2), run(3e-3, 1)])), [1e-3, 3e-3, 1e-2]);
  assert.equal(chosenRate(m, study, new Map([run(1e-3, 2), run(3e-3, 1)])), null, 'undecided while the new rate trains');
  assert.equal(chosenRate(m, study, new Map([run(1e-3, 2), run(3e-3, 1), run(1e-2, 3)])), 3e-3, 'interior: the grid stops');
  assert.deepEqual(tuning(new Map([run(1e-3, 2), run(3e-3, 1), run(1e-2, 0.5), run(3e-2, 0.4)])), [1e-3, 3e-3, 1e-2, 3e-2], 'two steps at most');
  assert.equal(chosenRate(m, study, new Map([run(1e-3, 2), run(3e-3, 1), run(1e-2, 0.5), run(3e-2, 0.4)])), 3e-2);
  assert.deepEqual(tuning(new Map([run(1e-3, 1), run(3e-3, 2)])), [3e-4, 1e-3, 3e-3], 'and downwards');
});
