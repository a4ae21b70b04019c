/**
 * The study runner on its tiny study (studies/catalog.ts 'tiny'): it trains every run to the
 * stopping rule, tunes the learning rate on validation, writes results with provenance, never
 * redoes a finished run, continues an interrupted run from its last epoch, and --verify lands
 * inside the committed spread. Runs in child processes, as `npm run study` does.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stopsAt } from '../studies/spec';

const RUN = path.join(__dirname, '..', 'studies', 'run.js');
const backend = process.env.VQ_TEST_BACKEND ?? 'wasm';
/** The runner is backend-agnostic: it is tested once, on the native pass when there is one. */
const nativeLoads = spawnSync(process.execPath, ['-e', "require('@tensorflow/tfjs-node')"], { encoding: 'utf8', env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' } }).status === 0;
const skip = backend === 'wasm' && nativeLoads ? 'tested on the node pass' : false;
const study = (args: string[], dir: string) => spawnSync(process.execPath, [RUN, ...args, '--results', path.join(dir, 'results'), '--state', path.join(dir, 'state')], {
  encoding: 'utf8', timeout: 240_000, env: { ...process.env, VQ_BACKEND: backend },
});

describe('study runner', () => {
  test('stopsAt: < minImprovement over `patience` epochs, or the cap', () => {
    const b = { maxEpochs: 10, patience: 2, minImprovement: 0.01, batchSize: 1 };
    assert.equal(stopsAt([1, 0.9, 0.8], b), null);
    assert.equal(stopsAt([1, 0.9, 0.8, 0.799, 0.798], b), 'converged');
    assert.equal(stopsAt([1, 0.9, 0.8, 0.79, 0.7], b), null);
    assert.equal(stopsAt(Array.from({ length: 10 }, (_, i) => 1 - i / 10), b), 'cap');
  });

  test('tiny: trains, tunes on validation, records provenance, skips finished runs, resumes, verifies', { skip }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vq-study-'));
    try {
      const first = study(['tiny', '--jobs', '2'], dir);
      assert.equal(first.status, 0, first.stdout + first.stderr);
      const runs = path.join(dir, 'results', 'tiny', 'runs');
      const files = fs.readdirSync(runs).sort();
      assert.deepEqual(files.length, 5, files.join(', '));
      const summary = JSON.parse(fs.readFileSync(path.join(dir, 'results', 'tiny', 'study.json'), 'utf8'));
      const vqTuned = ['vq-lr0.001-s0', 'vq-lr0.003-s0'].map((id) => JSON.parse(fs.readFileSync(path.join(runs, `${id}.json`), 'utf8')));
      const best = vqTuned.reduce((a, b) => (b.final.valMse < a.final.valMse ? b : a));
      assert.equal(summary.chosenLearningRates.vq, best.learningRate, 'the rate with the lower validation MSE is chosen');
      assert.ok(files.includes(`vq-lr${best.learningRate}-s1.json`), 'seed 1 trains at the chosen rate');
      const r = vqTuned[0];
      assert.ok(r.epochs.length >= 1 && r.epochs.every((e: { valMse: number; testMse: number }) => e.valMse > 0 && e.testMse > 0));
      for (const k of ['commit', 'backend', 'tfjs', 'node', 'cpu', 'date']) assert.ok(k in r.provenance, k);
      assert.ok(r.final.bitsPerCodeEntropy > 0 && r.final.bitsPerCodeEntropy <= r.final.bitsPerCodeRaw + 0.5);
      assert.ok(fs.existsSync(path.join(dir, 'results', 'tiny', 'checkpoints', 'fsq-lr0.003-s0.ckpt')));

      const again = study(['tiny'], dir);
      assert.equal(again.status, 0, again.stderr);
      assert.match(again.stdout, /5\/5 runs done, 0 trained now/);

      // An interrupted run continues from its last whole epoch.
      fs.rmSync(path.join(runs, 'fsq-lr0.003-s1.json'));
      const child = spawn(process.execPath, [RUN, '--worker', 'tiny', '--id', 'fsq-lr0.003-s1', '--results', path.join(dir, 'results'), '--state', path.join(dir, 'state')], {
        env: { ...process.env, VQ_BACKEND: backend }, stdio: ['ignore', 'pipe', 'pipe'],
      });
      await new Promise<void>((resolve) => {
        child.stdout.on('data', (d: Buffer) => { if (/"type":"epoch"/.test(d.toString())) child.kill('SIGKILL'); });
        child.on('exit', () => resolve());
      });
      assert.ok(!fs.existsSync(path.join(runs, 'fsq-lr0.003-s1.json')), 'killed before it finished');
      const resumed = study(['tiny'], dir);
      assert.equal(resumed.status, 0, resumed.stderr);
      assert.match(resumed.stdout, /fsq-lr0\.003-s1: resuming after epoch [12]/);
      const rr = JSON.parse(fs.readFileSync(path.join(runs, 'fsq-lr0.003-s1.json'), 'utf8'));
      assert.ok(rr.resumedAfterEpochs.length === 1, JSON.stringify(rr.resumedAfterEpochs));

      const v = study(['--verify', 'tiny', '--method', 'vq', '--seed', '1'], dir);
      assert.equal(v.status, 0, v.stdout + v.stderr);
      assert.match(v.stdout, /inside/);
      const bad = study(['nope'], dir);
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /no study named "nope"; studies: vq-vs-fsq/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
