/**
 * The committed results of a study (`npm run study -- <name>`, studies/), read for a notebook:
 * results/<study>/runs/<id>.json, one file per trained model; the kept checkpoints are in
 * results/<study>/checkpoints/ (load them with `loadCheckpoint(model, id, { dir: study.checkpoints })`), and the priors
 * over their codes in results/<study>/priors/. The notebooks show these instead of training a grid live.
 */
import fs from 'node:fs';
import path from 'node:path';
import { defaultResultsDir } from './paths';

/** One epoch of a study run: scores after the epoch (validation and test), wall time so far. */
export interface StudyEpoch {
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

/** One trained model of a study, as studies/worker.ts writes it. */
export interface StudyRun {
  study: string;
  id: string;
  method: string;
  label: string;
  seed: number;
  learningRate: number;
  tuning: boolean; // a tuning-seed run (one of the method's learning rates)
  /** The quantizer as the study declared it (studies/spec.ts's QuantizerSpec). */
  quantizer: { type: string; levels?: number[]; options?: Record<string, unknown> };
  budget: { maxEpochs: number; patience: number; minImprovement: number; batchSize: number };
  status: 'done';
  stoppedBecause: 'converged' | 'cap';
  epochs: StudyEpoch[];
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
    positions: number; // latent positions per digit (49); with several indices per position (residual stages) the bits above are per position, summed over them
    parameters: number;
  };
  /** Metrics of this quantizer type only (studies/worker.ts's EXTRA_METRICS), e.g. residual VQ's per-stage errors; absent for the others. */
  extra?: Record<string, unknown>;
  wallSeconds: number;
  resumedAfterEpochs: number[];
  provenance: Record<string, unknown>;
}

/** A PixelCNN prior over a kept model's codes, as studies/priors.ts writes it (results/<study>/priors/<run id>.json). */
export interface StudyPrior {
  study: string;
  run: string; // the run whose kept checkpoint made the codes
  method: string;
  codebookSize: number;
  prior: { channels: number; blocks: number; epochs: number; batchSize: number; learningRate: number; parameters: number };
  /** Bits per code after each epoch: the epoch's training batches (mean), and the whole validation and test code sets. */
  epochs: { epoch: number; trainBits: number; valBits: number; testBits: number }[];
  final: { valBits: number; testBits: number; positions: number };
  wallSeconds: number;
  provenance: Record<string, unknown>;
}

/** A method of a study: its tuning runs (one per learning rate), the rate chosen on validation, and its runs at that rate (one per seed). */
export interface StudyMethod {
  method: string;
  label: string;
  tuning: StudyRun[];
  learningRate: number;
  runs: StudyRun[];
}

/** A study's results: every run, and per method the learning rate chosen on validation. */
export interface StudyResults {
  name: string;
  /** results/<study> */
  dir: string;
  /** results/<study>/checkpoints: the kept models (tuning seed, chosen rate), for `loadCheckpoint(model, id, { dir: checkpoints })`. */
  checkpoints: string;
  runs: StudyRun[];
  methods: StudyMethod[];
  /** The priors over kept models (`npm run study -- --priors <name>`), by run id; empty when none were trained. */
  priors: Map<string, StudyPrior>;
}

/** Every *.json file of `dir`, parsed, in file-name order (one run or prior per file, as the study runner writes them). */
function readJsonFiles<T>(dir: string): T[] {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as T);
}

/**
 * Reads results/<name>/runs/*.json. Methods are listed in the order their runs' files sort;
 * `order` (method ids) fixes the order instead. A method's learning rate is the one whose
 * tuning run has the lowest final validation MSE, as the runner chose it (studies/run.ts).
 */
export function readStudy(name: string, opts: { dir?: string; order?: string[] } = {}): StudyResults {
  const dir = path.join(opts.dir ?? defaultResultsDir(), name);
  const runsDir = path.join(dir, 'runs');
  if (!fs.existsSync(runsDir)) throw new Error(`readStudy: no results for study '${name}' at ${runsDir} (run: npm run study -- ${name})`);
  const runs = readJsonFiles<StudyRun>(runsDir).filter((r) => r.status === 'done');
  const ids = opts.order ?? [...new Set(runs.map((r) => r.method))];
  const methods = ids.map((id): StudyMethod => {
    const mine = runs.filter((r) => r.method === id);
    const tuning = mine.filter((r) => r.tuning).sort((a, b) => a.learningRate - b.learningRate);
    if (tuning.length === 0) throw new Error(`readStudy: study '${name}' has no tuning run of method '${id}' in ${runsDir}`);
    const chosen = tuning.reduce((a, b) => (b.final.valMse < a.final.valMse ? b : a));
    return {
      method: id, label: chosen.label, tuning, learningRate: chosen.learningRate,
      runs: mine.filter((r) => r.learningRate === chosen.learningRate).sort((a, b) => a.seed - b.seed),
    };
  });
  const priorsDir = path.join(dir, 'priors');
  const priors = new Map((fs.existsSync(priorsDir) ? readJsonFiles<StudyPrior>(priorsDir) : []).map((p) => [p.run, p]));
  return { name, dir, checkpoints: path.join(dir, 'checkpoints'), runs, methods, priors };
}

/** A held-out score of a Gaussian-study run after `step` optimizer steps (step 0: before training). */
export interface GaussianStudyPoint { step: number; used: number; perplexity: number; mse: number }

/**
 * One run of notebook 11's Gaussian study (`npm run study -- --gaussian`, studies/gaussian.ts): a quantizer between
 * a linear encoder and decoder on 64-d Gaussian vectors, `steps` Adam steps, scored on 10,000 held-out vectors along
 * the way. `codebookSize` is the real one (FSQ [8, 6, 5] at K = 256: 240); usage is used / codebookSize.
 */
export interface GaussianStudyRun {
  study: string;
  id: string; // <method>-K<K>-s<seed>
  method: string;
  label: string;
  K: number; // the sweep's nominal size
  codebookSize: number;
  seed: number;
  steps: number;
  batchSize: number;
  learningRate: number;
  curve: GaussianStudyPoint[]; // step 0, then every evalEvery steps, and the last step
  final: GaussianStudyPoint & { usage: number };
  initialCodeNorm: number | null; // mean ‖code‖ at step 0 (VQ, SimVQ), null for FSQ and LFQ
  wallSeconds: number;
  provenance: Record<string, unknown>;
}

/**
 * Reads results/<name>/runs/*.json of the Gaussian study (default name 'gaussian-collapse'), sorted by K, then
 * method (in the order of `order`, else by name), then seed. `missing` lists the runs the study's grid
 * (results/<name>/study.json) declares that have no result yet, so a notebook can say the study is unfinished.
 */
export function readGaussianStudy(
  name = 'gaussian-collapse', opts: { dir?: string; order?: string[] } = {},
): { name: string; dir: string; runs: GaussianStudyRun[]; missing: string[] } {
  const dir = path.join(opts.dir ?? defaultResultsDir(), name);
  const runsDir = path.join(dir, 'runs');
  if (!fs.existsSync(runsDir)) throw new Error(`readGaussianStudy: no results for '${name}' at ${runsDir} (run: npm run study -- --gaussian)`);
  const rank = (m: string) => (opts.order ? (opts.order.indexOf(m) + 1 || opts.order.length + 1) : 0);
  const runs = readJsonFiles<GaussianStudyRun>(runsDir)
    .sort((a, b) => a.K - b.K || rank(a.method) - rank(b.method) || a.method.localeCompare(b.method) || a.seed - b.seed);
  const missing: string[] = [];
  const declFile = path.join(dir, 'study.json');
  if (fs.existsSync(declFile)) {
    const decl = JSON.parse(fs.readFileSync(declFile, 'utf8')) as {
      grid: { ks: number[]; seeds: number[]; seededKs: number[]; extraSeeds: number[] }; methods: { id: string }[];
    };
    const have = new Set(runs.map((r) => r.id));
    for (const K of decl.grid.ks) {
      for (const seed of [...decl.grid.seeds, ...(decl.grid.seededKs.includes(K) ? decl.grid.extraSeeds : [])]) {
        for (const m of decl.methods) if (!have.has(`${m.id}-K${K}-s${seed}`)) missing.push(`${m.id}-K${K}-s${seed}`);
      }
    }
  }
  return { name, dir, runs, missing };
}
