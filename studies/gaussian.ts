/**
 * Notebook 11's Gaussian setting as a study: codebook collapse as K grows, with every quantizer trained for a stated
 * number of passes over its data (not a fraction of one) and scored on held-out vectors along the way, so a reader
 * sees whether usage and error have flattened.
 *
 * Setting (notebook 03's data, notebook 11's model): x ~ N(0, I_64), 10,000 vectors to train on (seed 2) and 10,000
 * held out (seed 3); a LinearAutoencoder (64 × 64 encoder and decoder, both starting at the identity) around the
 * quantizer; Adam 1e-3, batch 32, loss = reconstruction MSE + the quantizer's own loss (trainQuantizer).
 * Held-out usage (codes used / the quantizer's real codebook size: FSQ [8, 6, 5] has 240), perplexity and MSE
 * per coordinate are recorded at step 0 and every `evalEvery` steps.
 *
 * The quantizers, beside plain VQ (codes U(±1/K), the collapse-prone default): plain VQ and the rotation trick with
 * codes at SimVQ's initial scale (N(0, 1/(3·64)) per coordinate: norm ≈ 0.58, where SimVQ's C·W starts) and at the
 * data's own scale (N(0, 1): norm ≈ 8 ≈ ‖z‖, so the rotation trick's λ = ‖e‖/‖z‖ ≈ 1 instead of ≈ 0.002), SimVQ, LFQ
 * and FSQ.
 *
 * Results: results/gaussian-collapse/runs/<method>-K<K>-s<seed>.json (committed), one file per run, written when the
 * run ends; a run whose file exists is skipped (resumable per run). `--shard i/n` runs every n-th job, so two
 * processes can share the grid.
 *
 *   npm run study -- --gaussian [--shard 1/2] [--steps 2000] [--results DIR]
 */
import fs from 'node:fs';
import path from 'node:path';
import { FSQ, LFQ, LinearAutoencoder, SimVQ, VectorQuantizer, initBackend, tf, trainQuantizer, type Quantizer } from '../lib/internal';
import { writeFileAtomic } from '../lib/io';
import { perplexityOf, usageOf } from '../lib/metrics';
import { provenance } from './provenance';
import { tfjsSeed } from './spec';
import type { GaussianStudyPoint, GaussianStudyRun } from '../lib/notebook/study';

export const GAUSSIAN_STUDY = 'gaussian-collapse';
const DIM = 64;
const N = 10000;
/** SimVQ's initial code norm with frozenDim = dim: C ~ N(0, 1/f), W ~ U(±1/√f), so ‖c W‖² ≈ dim/(3f) = 1/3. Checked in test/gaussian-study.test.ts. */
export const SIMVQ_INITIAL_NORM = 1 / Math.sqrt(3);

/** A quantizer of the study: how to build it at K with a seed. */
export interface GaussianMethod { id: string; label: string; make: (K: number, seed: number) => Quantizer }

/** Plain VQ (or the rotation trick) with its codebook redrawn as N(0, (norm²/dim)) per coordinate: code norm ≈ norm. */
function vqAtScale(K: number, seed: number, norm: number | null, gradient: 'ste' | 'rotation'): VectorQuantizer {
  const q = new VectorQuantizer({ codebookSize: K, dim: DIM, commitmentWeight: 0.25, gradient, seed, checkFinite: false });
  if (norm !== null) tf.tidy(() => q.codebook.assign(tf.randomNormal([K, DIM], 0, norm / Math.sqrt(DIM), 'float32', tfjsSeed(seed))));
  return q;
}

export const GAUSSIAN_METHODS: GaussianMethod[] = [
  { id: 'vq', label: 'VQ (STE), codes U(±1/K)', make: (K, s) => vqAtScale(K, s, null, 'ste') },
  { id: 'vq-simscale', label: 'VQ (STE), codes at SimVQ\'s initial scale (norm ≈ 0.58)', make: (K, s) => vqAtScale(K, s, SIMVQ_INITIAL_NORM, 'ste') },
  { id: 'vq-unit', label: 'VQ (STE), codes at the data\'s scale (N(0, 1))', make: (K, s) => vqAtScale(K, s, Math.sqrt(DIM), 'ste') },
  { id: 'rotation', label: 'rotation trick, codes U(±1/K)', make: (K, s) => vqAtScale(K, s, null, 'rotation') },
  { id: 'rotation-unit', label: 'rotation trick, codes at the data\'s scale (N(0, 1))', make: (K, s) => vqAtScale(K, s, Math.sqrt(DIM), 'rotation') },
  { id: 'simvq', label: 'SimVQ (STE)', make: (K, s) => new SimVQ({ codebookSize: K, dim: DIM, commitmentWeight: 0.25, gradient: 'ste', seed: s, checkFinite: false }) },
  { id: 'lfq', label: 'LFQ', make: (K, s) => new LFQ({ codebookSize: K, dim: DIM, seed: s, checkFinite: false }) },
  { id: 'fsq', label: 'FSQ', make: (K, s) => new FSQ({ levels: FSQ.levelsFor(K), dim: DIM, seed: s, checkFinite: false }) },
];

/** The grid: every method at every K with seed 0; seeds 1 and 2 too at the small K, where a run is cheap. */
export const GAUSSIAN_GRID = {
  ks: [256, 1024, 4096, 16384, 65536],
  seeds: [0],
  seededKs: [256, 1024],
  extraSeeds: [1, 2],
  steps: 2000, // 6.4 passes over the 10,000 training vectors at batch 32
  evalEvery: 200,
  batchSize: 32,
  learningRate: 1e-3,
};

/** The result types are the notebooks' (lib/notebook/study.ts, readGaussianStudy): defined once. */
export type GaussianPoint = GaussianStudyPoint;
export type GaussianRun = GaussianStudyRun;

export const gaussianRunId = (method: string, K: number, seed: number) => `${method}-K${K}-s${seed}`;

/** Every (method, K, seed) of the grid, cheapest first within a seed. */
export function gaussianJobs(grid = GAUSSIAN_GRID): { method: GaussianMethod; K: number; seed: number }[] {
  const jobs = [];
  for (const K of grid.ks) {
    for (const seed of [...grid.seeds, ...(grid.seededKs.includes(K) ? grid.extraSeeds : [])]) {
      for (const method of GAUSSIAN_METHODS) jobs.push({ method, K, seed });
    }
  }
  return jobs;
}

/** Held-out scores of the model, as evaluateQuantizer scores (synchronous: it runs inside trainQuantizer's onStep). */
function scoreSync(model: Quantizer, data: tf.Tensor2D, K: number): GaussianPoint & { usage: number } {
  const counts = new Int32Array(K);
  let se = 0;
  for (let s = 0; s < data.shape[0]; s += 1000) {
    const [err, idx] = tf.tidy(() => {
      const x = tf.slice(data, [s, 0], [Math.min(1000, data.shape[0] - s), DIM]);
      const out = model.forward(x, { training: false });
      return [tf.sum(tf.square(tf.sub(x, out.quantized))), out.indices];
    });
    se += err.dataSync()[0];
    const ids = idx.dataSync();
    for (let j = 0; j < ids.length; j++) counts[ids[j]]++;
    tf.dispose([err, idx]);
  }
  const round = (x: number) => Number(x.toPrecision(6));
  const usage = usageOf(counts);
  return { step: 0, used: Math.round(usage * K), usage: round(usage), perplexity: round(perplexityOf(counts)), mse: round(se / data.size) };
}

/** Mean norm of a VQ's codes (the scale the rotation trick's λ sees), or null for quantizers without a codebook. */
function meanCodeNorm(q: Quantizer): number | null {
  const cb = (q as { codebook?: tf.Tensor2D }).codebook;
  if (!(q instanceof VectorQuantizer) && !(q instanceof SimVQ)) return null;
  const codes = q instanceof SimVQ ? q.codes() : cb!;
  const v = tf.tidy(() => tf.mean(tf.norm(codes, 'euclidean', 1)).dataSync()[0]);
  if (q instanceof SimVQ) codes.dispose();
  return Number(v.toPrecision(4));
}

/** Train one run of the grid; returns its result (not written). */
export async function runGaussian(method: GaussianMethod, K: number, seed: number, opts: { steps: number; evalEvery: number; batchSize: number; learningRate: number; backend: string }): Promise<GaussianRun> {
  const t0 = performance.now();
  const train = tf.randomNormal([N, DIM], 0, 1, 'float32', 2) as tf.Tensor2D;
  const held = tf.randomNormal([N, DIM], 0, 1, 'float32', 3) as tf.Tensor2D;
  const q = method.make(K, seed);
  const norm = meanCodeNorm(q);
  const model = new LinearAutoencoder(q);
  const size = q.codebookSize;
  const curve: GaussianPoint[] = [];
  const point = (step: number) => { const p = scoreSync(model, held, size); curve.push({ step, used: p.used, perplexity: p.perplexity, mse: p.mse }); return p; };
  try {
    point(0);
    await trainQuantizer(model, train, {
      steps: opts.steps, learningRate: opts.learningRate, batchSize: opts.batchSize, seed: 1000 + seed,
      onStep: (s) => { if ((s + 1) % opts.evalEvery === 0 || s + 1 === opts.steps) point(s + 1); },
    });
    const last = curve[curve.length - 1];
    return {
      study: GAUSSIAN_STUDY, id: gaussianRunId(method.id, K, seed), method: method.id, label: method.label, K, codebookSize: size, seed,
      steps: opts.steps, batchSize: opts.batchSize, learningRate: opts.learningRate, curve,
      final: { ...last, usage: Number((last.used / size).toPrecision(6)) }, initialCodeNorm: norm,
      wallSeconds: Number(((performance.now() - t0) / 1000).toFixed(1)), provenance: provenance(opts.backend),
    };
  } finally {
    model.dispose();
    tf.dispose([train, held]);
  }
}

/** Run the grid's missing runs (this shard's), writing each result as it ends. */
export async function runGaussianStudy(
  opts: { results: string; shard?: [number, number]; steps?: number; grid?: Partial<typeof GAUSSIAN_GRID>; backend?: string },
  log: (line: string) => void = console.log,
): Promise<void> {
  // The backend: selected here (the native one where built) unless the caller has chosen one and names it.
  const backend = opts.backend ?? (await initBackend(undefined, { quiet: true })).summary.split('\n')[0];
  const grid = { ...GAUSSIAN_GRID, ...opts.grid, ...(opts.steps ? { steps: opts.steps } : {}) };
  const dir = path.join(opts.results, GAUSSIAN_STUDY, 'runs');
  fs.mkdirSync(dir, { recursive: true });
  writeFileAtomic(path.join(opts.results, GAUSSIAN_STUDY, 'study.json'), `${JSON.stringify({
    study: GAUSSIAN_STUDY, title: 'Codebook collapse as K grows, 64-d Gaussian vectors (notebook 11)', dim: DIM, train: N, heldOut: N,
    grid, methods: GAUSSIAN_METHODS.map((m) => ({ id: m.id, label: m.label })),
  }, null, 1)}\n`);
  const [i, n] = opts.shard ?? [1, 1];
  const jobs = gaussianJobs(grid).filter((_, j) => j % n === i - 1);
  let done = 0;
  for (const job of jobs) {
    const id = gaussianRunId(job.method.id, job.K, job.seed);
    const file = path.join(dir, `${id}.json`);
    done++;
    if (fs.existsSync(file)) continue;
    const r = await runGaussian(job.method, job.K, job.seed, { ...grid, backend });
    writeFileAtomic(file, `${JSON.stringify(r, null, 1)}\n`);
    log(`[${done}/${jobs.length}] ${id}: ${r.final.used}/${r.codebookSize} used, perplexity ${r.final.perplexity}, held-out MSE ${r.final.mse} after ${r.steps} steps (${r.wallSeconds} s)`);
  }
  log(`${GAUSSIAN_STUDY}: ${jobs.length} runs of this shard done`);
}
