/**
 * One run of a study: build the VQ-VAE, train it epoch by epoch to the study's stopping rule,
 * score validation and test after every epoch, checkpoint after every epoch (weights + Adam, so an
 * interrupted run continues from its last whole epoch), and write the run's result file.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  VQVAE, VQVAETrainer, encodeDataset, evaluateVQVAE, initBackend, loadCheckpointFile, saveCheckpointFile, tf, type Checkpointable,
} from '../lib/internal';
import { writeFileAtomic } from '../lib/io';
import { StudyData, studyData } from './data';
import { MethodSpec, StudySpec, makeQuantizer, stopsAt } from './spec';
import { provenance } from './provenance';
import type { StudyEpoch, StudyRun } from '../lib/notebook/study';

/** One epoch of a run, as the result file stores it (the notebooks read it: lib/notebook/study.ts). */
export type EpochRecord = StudyEpoch;

/** A run's result file: lib/notebook/study.ts's StudyRun (what notebooks read), with the quantizer and budget typed as declared. */
export interface RunResult extends StudyRun {
  quantizer: MethodSpec['quantizer'];
  budget: StudySpec['budget'];
}

const round = (x: number) => Number(x.toPrecision(6));

export interface WorkerJob { study: StudySpec; method: MethodSpec; seed: number; learningRate: number; id: string; tuning: boolean; resultsDir: string; stateDir: string }

const indicesPerVector = (model: VQVAE) => (model.bottleneck as { indicesPerVector?: number }).indicesPerVector ?? 1;

/**
 * Scores with the decoder output clipped to [0, 1], and the code counts: one histogram per index of a latent
 * position (one, or one per residual stage).
 */
async function testScores(model: VQVAE, images: tf.Tensor4D): Promise<{ clipped: number; counts: Int32Array[] }> {
  const per = indicesPerVector(model);
  const counts = Array.from({ length: per }, () => new Int32Array(model.bottleneck.codebookSize));
  let sse = 0;
  for (let i = 0; i < images.shape[0]; i += 500) {
    const [se, idx] = tf.tidy(() => {
      const x = images.slice(i, Math.min(500, images.shape[0] - i));
      const f = model.forward(x, { training: false });
      return [tf.sum(tf.squaredDifference(x, tf.clipByValue(f.xHat, 0, 1))), f.q.indices];
    });
    sse += (await se.data())[0];
    const v = await idx.data();
    for (let j = 0; j < v.length; j++) counts[j % per][v[j]]++;
    tf.dispose([se, idx]);
  }
  return { clipped: sse / images.size, counts };
}

/** Code histograms of the training digits, one per index of a position (encodeDataset where there is one index). */
async function trainCounts(model: VQVAE, images: tf.Tensor4D): Promise<Int32Array[]> {
  if (indicesPerVector(model) === 1) {
    const counts = new Int32Array(model.bottleneck.codebookSize);
    const codes = await encodeDataset(model, images);
    for (const k of await codes.data()) counts[k]++;
    codes.dispose();
    return [counts];
  }
  return (await testScores(model, images)).counts;
}

/** Bits per code of `test` under the frequencies of `train` (+1 smoothing): what a static entropy coder fitted on training codes spends. */
function crossEntropyBits(test: Int32Array, train: Int32Array): number {
  const freq = Float64Array.from(train, (c) => c + 1);
  const total = freq.reduce((a, b) => a + b, 0);
  let bits = 0, n = 0;
  test.forEach((c, k) => { bits -= c * Math.log2(freq[k] / total); n += c; });
  return bits / n;
}

/** Sum of squared errors of `decode` against the images, batch by batch (decode returns x̂, optionally clipped by the caller). */
async function sse(images: tf.Tensor4D, decode: (x: tf.Tensor4D) => tf.Tensor4D): Promise<{ raw: number; clipped: number }> {
  let raw = 0, clipped = 0;
  for (let i = 0; i < images.shape[0]; i += 500) {
    const [a, b] = tf.tidy(() => {
      const x = images.slice(i, Math.min(500, images.shape[0] - i));
      const xHat = decode(x);
      return [tf.sum(tf.squaredDifference(x, xHat)), tf.sum(tf.squaredDifference(x, tf.clipByValue(xHat, 0, 1)))];
    });
    raw += (await a.data())[0];
    clipped += (await b.data())[0];
    tf.dispose([a, b]);
  }
  return { raw: raw / images.size, clipped: clipped / images.size };
}

type StageDecoder = { decode(indices: tf.Tensor, n?: number): tf.Tensor; forward(z: tf.Tensor, o?: { training?: boolean }): { indices: tf.Tensor } };

/**
 * Metrics that only some quantizer types have, computed once a run has stopped; a type without an entry adds
 * nothing to its results. rvq: the VQ-VAE decoding from the first n stages, n = 1 … n_q, scored in-sample (the
 * training digits, eval mode) and held out (validation, test), so an error that stops falling with more stages
 * can be told apart from overfitting; and each stage's entropy-coded rate (bits per position).
 */
export const EXTRA_METRICS: Partial<Record<MethodSpec['quantizer']['type'], (model: VQVAE, data: StudyData) => Promise<Record<string, unknown>>>> = {
  rvq: async (model, data) => {
    const q = model.bottleneck as unknown as StageDecoder;
    const nq = indicesPerVector(model);
    const byStages = (n: number) => (x: tf.Tensor4D) => model.decode(q.decode(q.forward(model.encode(x), { training: false }).indices, n) as tf.Tensor4D);
    const [testCounts, fitCounts] = [(await testScores(model, data.test)).counts, await trainCounts(model, data.train)];
    const stages = [];
    let bits = 0;
    for (let n = 1; n <= nq; n++) {
      const [tr, va, te] = [await sse(data.train, byStages(n)), await sse(data.val, byStages(n)), await sse(data.test, byStages(n))];
      bits += crossEntropyBits(testCounts[n - 1], fitCounts[n - 1]);
      stages.push({
        stages: n, trainMse: round(tr.raw), valMse: round(va.raw), testMse: round(te.raw), testMseClipped: round(te.clipped),
        stageTestUsed: testCounts[n - 1].filter((c) => c > 0).length, bitsPerPositionEntropy: round(bits), bitsPerPositionRaw: round(n * Math.log2(model.bottleneck.codebookSize)),
      });
    }
    return { stages };
  },
};

export async function runWorker(job: WorkerJob, emit: (msg: Record<string, unknown>) => void): Promise<RunResult> {
  const info = await initBackend(undefined, { quiet: true });
  const { study, method, seed, learningRate, id } = job;
  const data = studyData(study);
  const q = makeQuantizer(method.quantizer, study.dim, seed);
  const model = new VQVAE({ bottleneck: q, dim: study.dim, seed });
  const trainer = new VQVAETrainer(model, { batchSize: study.budget.batchSize, learningRate, seed });
  const named = model.namedVariables();
  const state: Checkpointable = {
    config: { study: study.name, id, model: model.config, learningRate },
    namedVariables: () => new Map([...named, ...trainer.optimizer.namedState(named)]),
    restored: () => model.restored(),
  };
  const stateFile = path.join(job.stateDir, `${id}.ckpt`);
  let epochs: EpochRecord[] = [];
  let wall = 0;
  const resumed: number[] = [];
  if (fs.existsSync(stateFile)) {
    const meta = await loadCheckpointFile(state, stateFile);
    epochs = meta.epochs as EpochRecord[];
    wall = meta.wallSeconds as number;
    resumed.push(...(meta.resumedAfterEpochs as number[]), epochs.length);
    trainer.optimizer.setCounts(named, meta.adamCounts as Record<string, number>);
    trainer.resumeAfter(epochs.length, data.train.shape[0]);
    emit({ type: 'resume', id, epoch: epochs.length });
  }
  const started = performance.now() / 1000 - wall;
  let stopped = stopsAt(epochs.map((e) => e.valMse), study.budget);
  let sums = { mse: 0, loss: 0, n: 0 };
  const stop = new AbortController();
  if (!stopped) {
    await trainer.fit(data.train, {
      epochs: study.budget.maxEpochs - epochs.length,
      signal: stop.signal,
      onStep: (s) => { sums = { mse: sums.mse + s.reconMse, loss: sums.loss + s.loss, n: sums.n + 1 }; },
      onEpoch: async (epoch) => {
        const [v, t] = [await evaluateVQVAE(model, data.val), await evaluateVQVAE(model, data.test)];
        const K = model.bottleneck.codebookSize;
        epochs.push({
          epoch: epoch + 1, trainMse: round(sums.mse / sums.n), trainLoss: round(sums.loss / sums.n),
          valMse: round(v.mse), valUsed: Math.round(v.usage * K), valPerplexity: round(v.perplexity),
          testMse: round(t.mse), testUsed: Math.round(t.usage * K), testPerplexity: round(t.perplexity),
          seconds: round(performance.now() / 1000 - started),
        });
        sums = { mse: 0, loss: 0, n: 0 };
        await saveCheckpointFile(state, stateFile, {
          meta: { epochs, wallSeconds: performance.now() / 1000 - started, resumedAfterEpochs: resumed, adamCounts: trainer.optimizer.counts(named) },
        });
        stopped = stopsAt(epochs.map((e) => e.valMse), study.budget);
        emit({ type: 'epoch', id, ...epochs[epochs.length - 1], stopped });
        if (stopped) stop.abort();
      },
    });
  }
  // Final scores: clipped test MSE and the entropy-coded rate (training-code frequencies).
  const last = epochs[epochs.length - 1];
  const { clipped, counts } = await testScores(model, data.test);
  const fitted = await trainCounts(model, data.train);
  const K = model.bottleneck.codebookSize;
  const bits = counts.reduce((b, c, j) => b + crossEntropyBits(c, fitted[j]), 0);
  const n = counts[0].reduce((a, b) => a + b, 0);
  const extraMetrics = EXTRA_METRICS[method.quantizer.type];
  const extra = extraMetrics ? await extraMetrics(model, data) : undefined;
  const result: RunResult = {
    study: study.name, id, method: method.id, label: method.label, seed, learningRate, tuning: job.tuning,
    quantizer: method.quantizer, budget: study.budget, status: 'done', stoppedBecause: stopped ?? 'cap', epochs,
    final: {
      epochs: epochs.length, valMse: last.valMse, testMse: last.testMse, testMseClipped: round(clipped), testUsed: last.testUsed,
      codebookSize: K, testPerplexity: last.testPerplexity, bitsPerCodeRaw: round(counts.length * Math.log2(K)), bitsPerCodeEntropy: round(bits),
      positions: n / data.test.shape[0], parameters: model.parameterCount().conv + model.parameterCount().bottleneck,
    },
    ...(extra ? { extra } : {}),
    wallSeconds: round(performance.now() / 1000 - started),
    resumedAfterEpochs: resumed,
    provenance: provenance(info.summary.split('\n')[0]),
  };
  const runsDir = path.join(job.resultsDir, study.name, 'runs');
  fs.mkdirSync(runsDir, { recursive: true });
  if ((study.keepCheckpoints ?? []).includes(method.id) && seed === study.seeds[0]) {
    const ckDir = path.join(job.resultsDir, study.name, 'checkpoints');
    fs.mkdirSync(ckDir, { recursive: true });
    await saveCheckpointFile(model, path.join(ckDir, `${id}.ckpt`), { meta: { study: study.name, id, testMse: last.testMse } });
  }
  writeFileAtomic(path.join(runsDir, `${id}.json`), `${JSON.stringify(result, null, 1)}\n`);
  // The state file stays (git-ignored): a later, higher cap resumes this run from its last epoch.
  trainer.dispose();
  model.dispose();
  q.dispose();
  data.dispose();
  return result;
}
