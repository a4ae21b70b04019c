/**
 * Priors over a study's kept models: the third way notebook 09 counts a model's bits. For every kept checkpoint
 * (results/<study>/checkpoints/<run id>.ckpt) of a quantizer with one index per position, an unconditional gated
 * PixelCNN (van den Oord et al. 2016) trained on the model's codes of the study's training split, with the study's
 * `prior` size and schedule (notebook 07's: 32 channels, 5 blocks, Adam 3e-3, batch 64, 4 epochs), scored in bits per
 * code on the validation and test codes after every epoch, so a reader sees whether it flattened.
 *
 * Results: results/<study>/priors/<run id>.json (committed). Resumable per prior: one whose result exists is skipped.
 * `npm run study -- --priors <study>`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { GatedPixelCNN, PixelCNNTrainer, VQVAE, encodeDataset, initBackend, loadCheckpointFile, tf } from '../lib/internal';
import { writeFileAtomic } from '../lib/io';
import { studyData } from './data';
import { StudySpec, makeQuantizer } from './spec';
import { provenance } from './provenance';
import type { RunResult } from './worker';
import type { StudyPrior } from '../lib/notebook/study';

/** A prior's size and schedule (StudySpec.prior). */
export interface PriorSpec { channels: number; blocks: number; epochs: number; batchSize: number; learningRate: number }

/** One prior's result file: lib/notebook/study.ts's StudyPrior (what notebooks read). */
export type PriorResult = StudyPrior;

const round = (x: number) => Number(x.toPrecision(6));

/** Train the priors a study declares (`study.prior`) over its kept checkpoints; returns the results written or found. */
export async function trainPriors(study: StudySpec, dirs: { results: string }, log: (line: string) => void = console.log): Promise<PriorResult[]> {
  const spec = study.prior;
  if (!spec) throw new Error(`${study.name} declares no prior (StudySpec.prior)`);
  const ckDir = path.join(dirs.results, study.name, 'checkpoints');
  const outDir = path.join(dirs.results, study.name, 'priors');
  const ids = fs.existsSync(ckDir) ? fs.readdirSync(ckDir).filter((f) => f.endsWith('.ckpt')).map((f) => f.slice(0, -5)).sort() : [];
  if (ids.length === 0) throw new Error(`${study.name}: no kept checkpoints in ${ckDir}: run the study first`);
  const info = await initBackend(undefined, { quiet: true });
  const out: PriorResult[] = [];
  const data = studyData(study);
  try {
    for (const id of ids) {
      const file = path.join(outDir, `${id}.json`);
      if (fs.existsSync(file)) {
        out.push(JSON.parse(fs.readFileSync(file, 'utf8')) as PriorResult);
        log(`${id}: prior done earlier (${file})`);
        continue;
      }
      const run = JSON.parse(fs.readFileSync(path.join(dirs.results, study.name, 'runs', `${id}.json`), 'utf8')) as RunResult;
      const q = makeQuantizer(run.quantizer, study.dim, run.seed);
      const model = new VQVAE({ bottleneck: q, dim: study.dim, seed: run.seed });
      if (((q as { indicesPerVector?: number }).indicesPerVector ?? 1) !== 1) {
        log(`${id}: ${run.quantizer.type} has several indices per position: no single-grid prior`);
        model.dispose();
        q.dispose();
        continue;
      }
      const codes: tf.Tensor3D[] = [];
      const K = q.codebookSize;
      const prior = new GatedPixelCNN({ codebookSize: K, channels: spec.channels, blocks: spec.blocks, seed: 0 });
      const trainer = new PixelCNNTrainer(prior, { batchSize: spec.batchSize, learningRate: spec.learningRate, seed: 0 });
      const epochs: PriorResult['epochs'] = [];
      try {
        await loadCheckpointFile(model, path.join(ckDir, `${id}.ckpt`));
        for (const images of [data.train, data.val, data.test]) codes.push(await encodeDataset(model, images));
        const [train, val, test] = codes;
        const t0 = performance.now();
        let sum = 0, n = 0;
        await trainer.fit(train, {
          epochs: spec.epochs,
          onStep: (s) => { sum += s.bitsPerCode; n++; },
          onEpoch: async (e) => {
            const [valBits, testBits] = [await prior.nll(val), await prior.nll(test)];
            epochs.push({ epoch: e + 1, trainBits: round(sum / n), valBits: round(valBits), testBits: round(testBits) });
            log(`${id}: prior epoch ${e + 1}/${spec.epochs}  train ${(sum / n).toFixed(3)}  val ${valBits.toFixed(3)}  test ${testBits.toFixed(3)} bits/code  (log2 K = ${Math.log2(K).toFixed(2)})`);
            sum = 0;
            n = 0;
          },
        });
        const last = epochs[epochs.length - 1];
        const result: PriorResult = {
          study: study.name, run: id, method: run.method, codebookSize: K,
          prior: { ...spec, parameters: prior.trainableVariables().reduce((s, v) => s + v.size, 0) },
          epochs, final: { valBits: last.valBits, testBits: last.testBits, positions: test.shape[1] * test.shape[2] },
          wallSeconds: round((performance.now() - t0) / 1000), provenance: provenance(info.summary.split('\n')[0]),
        };
        fs.mkdirSync(outDir, { recursive: true });
        writeFileAtomic(file, `${JSON.stringify(result, null, 1)}\n`);
        out.push(result);
      } finally {
        tf.dispose(codes);
        trainer.dispose();
        prior.dispose();
        model.dispose();
        q.dispose();
      }
    }
  } finally {
    data.dispose();
  }
  return out;
}
