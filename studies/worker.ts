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
import { studyData } from './data';
import { MethodSpec, StudySpec, makeQuantizer, stopsAt } from './spec';
import { provenance } from './provenance';

export interface EpochRecord {
  epoch: number; // 1-based
  trainMse: number; // mean reconstruction MSE of the epoch's training steps
  trainLoss: number; // mean total loss of the epoch's steps
  valMse: number;
  valUsed: number;
  valPerplexity: number;
  testMse: number;
  testUsed: number;
  testPerplexity: number;
  seconds: number; // wall time since the run started (resumed runs: summed over sessions)
}

export interface RunResult {
  study: string;
  id: string;
  method: string;
  label: string;
  seed: number;
  learningRate: number;
  tuning: boolean; // a tuning-seed run (one of the method's learning rates)
  quantizer: MethodSpec['quantizer'];
  budget: StudySpec['budget'];
  status: 'done';
  stoppedBecause: 'converged' | 'cap';
  epochs: EpochRecord[];
  final: {
    epochs: number;
    valMse: number;
    testMse: number;
    testMseClipped: number; // decoder output clipped to [0, 1], as an image codec's would be
    testUsed: number;
    codebookSize: number;
    testPerplexity: number;
    bitsPerCodeRaw: number; // log2 K
    bitsPerCodeEntropy: number; // cross-entropy of test codes under training-code frequencies (+1 smoothing)
    positions: number; // codes per digit
    parameters: number;
  };
  wallSeconds: number;
  resumedAfterEpochs: number[];
  provenance: Record<string, unknown>;
}

const round = (x: number) => Number(x.toPrecision(6));

export interface WorkerJob { study: StudySpec; method: MethodSpec; seed: number; learningRate: number; id: string; tuning: boolean; resultsDir: string; stateDir: string }

/** Test scores with the decoder output clipped to [0, 1], and the code counts. */
async function testScores(model: VQVAE, images: tf.Tensor4D): Promise<{ clipped: number; counts: Int32Array }> {
  const counts = new Int32Array(model.bottleneck.codebookSize);
  let sse = 0;
  for (let i = 0; i < images.shape[0]; i += 500) {
    const [se, idx] = tf.tidy(() => {
      const x = images.slice(i, Math.min(500, images.shape[0] - i));
      const f = model.forward(x, { training: false });
      return [tf.sum(tf.squaredDifference(x, tf.clipByValue(f.xHat, 0, 1))), f.q.indices];
    });
    sse += (await se.data())[0];
    for (const k of await idx.data()) counts[k]++;
    tf.dispose([se, idx]);
  }
  return { clipped: sse / images.size, counts };
}

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
  const trainCodes = await encodeDataset(model, data.train);
  const K = model.bottleneck.codebookSize;
  const freq = new Float64Array(K).fill(1);
  for (const k of await trainCodes.data()) freq[k]++;
  trainCodes.dispose();
  const total = freq.reduce((a, b) => a + b, 0);
  let bits = 0, n = 0;
  counts.forEach((c, k) => { bits -= c * Math.log2(freq[k] / total); n += c; });
  const result: RunResult = {
    study: study.name, id, method: method.id, label: method.label, seed, learningRate, tuning: job.tuning,
    quantizer: method.quantizer, budget: study.budget, status: 'done', stoppedBecause: stopped ?? 'cap', epochs,
    final: {
      epochs: epochs.length, valMse: last.valMse, testMse: last.testMse, testMseClipped: round(clipped), testUsed: last.testUsed,
      codebookSize: K, testPerplexity: last.testPerplexity, bitsPerCodeRaw: round(Math.log2(K)), bitsPerCodeEntropy: round(bits / n),
      positions: n / data.test.shape[0], parameters: model.parameterCount().conv + model.parameterCount().bottleneck,
    },
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
