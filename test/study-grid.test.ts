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
