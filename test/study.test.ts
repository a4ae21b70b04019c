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
import { makeQuantizer, stopsAt, type StudySpec } from '../studies/spec';
import { planJobs, type RunLike } from '../studies/plan';
import { STUDIES } from '../studies/catalog';
import { useTestBackend } from './support/backend';
import { VQVAE, tf } from '../lib/index';

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

  test('planJobs: tuning, tune groups (one winner trains the other seeds), extra seeds only where spreads overlap', () => {
    const m = (id: string, lrs: number[], tuneGroup?: string) => ({ id, label: id, quantizer: { type: 'fsq' as const, levels: [3] }, learningRates: lrs, ...(tuneGroup ? { tuneGroup } : {}) });
    const study: StudySpec = {
      name: 's', title: '', question: '', dim: 1, seeds: [0, 1], extraSeeds: [2], validationPerClass: 1,
      budget: { maxEpochs: 1, patience: 1, minImprovement: 0, batchSize: 1 },
      methods: [m('a', [1, 2]), m('g1', [1], 'g'), m('g2', [1], 'g'), m('b', [1])],
    };
    const runs = new Map<string, RunLike>();
    const done = (id: string, lr: number, valMse: number) => runs.set(id, { id, learningRate: lr, final: { valMse } });
    const ids = () => planJobs(study, runs).jobs.map((j) => j.id).sort();
    assert.deepEqual(ids(), ['a-lr1-s0', 'a-lr2-s0', 'b-lr1-s0', 'b-lr1-s1', 'g1-lr1-s0', 'g2-lr1-s0']);
    assert.equal(planJobs(study, runs).expected, 8); // 5 tuning + one more seed for a, the group and b
    done('a-lr1-s0', 1, 0.5); done('a-lr2-s0', 2, 0.4); done('g1-lr1-s0', 1, 0.3); done('g2-lr1-s0', 1, 0.2); done('b-lr1-s0', 1, 0.9);
    assert.deepEqual(ids(), ['a-lr1-s0', 'a-lr2-s0', 'a-lr2-s1', 'b-lr1-s0', 'b-lr1-s1', 'g1-lr1-s0', 'g2-lr1-s0', 'g2-lr1-s1']);
    // a: [0.4, 0.45] overlaps g2 [0.2, 0.41]; b [0.9, 0.95] stands apart: only a and g2 get seed 2.
    done('a-lr2-s1', 2, 0.45); done('g2-lr1-s1', 1, 0.41); done('b-lr1-s1', 1, 0.95);
    assert.deepEqual(ids().filter((id) => id.endsWith('-s2')), ['a-lr2-s2', 'g2-lr1-s2']);
    assert.equal(planJobs(study, runs).expected, 10);
    assert.equal(planJobs(STUDIES['vq-vs-fsq'], new Map()).expected, 16, 'vq-vs-fsq: 4 methods × 2 rates + 4 × 2 more seeds');
  });

  test('every declared method builds, and its VQ-VAE runs forward', async () => {
    await useTestBackend();
    for (const s of Object.values(STUDIES)) {
      for (const method of s.methods) {
        const q = makeQuantizer(method.quantizer, s.dim, 0);
        const model = new VQVAE({ bottleneck: q, dim: s.dim, seed: 0 });
        const out = tf.tidy(() => model.forward(tf.zeros([2, 28, 28, 1]) as tf.Tensor4D).xHat.shape);
        assert.deepEqual(out, [2, 28, 28, 1], `${s.name}/${method.id}`);
        if (method.quantizer.type === 'vq' && method.quantizer.codeNorm !== undefined) {
          const norm = tf.tidy(() => tf.mean(tf.norm((q as unknown as { codebook: tf.Tensor2D }).codebook, 'euclidean', 1)).dataSync()[0]);
          assert.ok(Math.abs(norm - method.quantizer.codeNorm) < 0.1, `${method.id}: code norm ${norm}`);
        }
        model.dispose();
        q.dispose();
      }
    }
    assert.equal(STUDIES['rate-distortion'].methods.length, 6);
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
      // A finished run's state file stays (a raised cap resumes it): remove it too, so the run starts over and is killed mid-way.
      fs.rmSync(path.join(dir, 'state', 'tiny', 'fsq-lr0.003-s1.ckpt'), { force: true });
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
      // Priors over the kept checkpoints: one per kept model, bits per code each epoch, skipped once written.
      const pr = study(['--priors', 'tiny'], dir);
      assert.equal(pr.status, 0, pr.stdout + pr.stderr);
      const priorFile = path.join(dir, 'results', 'tiny', 'priors', 'fsq-lr0.003-s0.json');
      const prior = JSON.parse(fs.readFileSync(priorFile, 'utf8'));
      assert.equal(prior.codebookSize, 9);
      assert.equal(prior.epochs.length, 2);
      assert.ok(prior.epochs.every((e: { valBits: number; testBits: number }) => e.valBits > 0 && e.testBits > 0 && e.testBits < 10), JSON.stringify(prior.epochs));
      assert.equal(prior.final.positions, 49);
      const prAgain = study(['--priors', 'tiny'], dir);
      assert.match(prAgain.stdout, /prior done earlier/);
      const bad = study(['nope'], dir);
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /no study named "nope"; studies: vq-vs-fsq/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
