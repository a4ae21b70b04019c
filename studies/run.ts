#!/usr/bin/env node
/**
 * `npm run study -- <name>`: run a declared study (studies/catalog.ts) to its stopping rule,
 * resumably, writing each run's results to results/<name>/runs/<id>.json (committed) and
 * results/<name>/study.json (the declaration, the learning rates chosen on validation, provenance).
 *
 *   npm run study -- --list
 *   npm run study -- vq-vs-fsq [--jobs 2] [--threads 1]   train what is missing; finished runs are never redone,
 *                                                          an interrupted run continues from its last epoch
 *   npm run study -- --verify vq-vs-fsq [--method fsq] [--seed 2]
 *                                                          retrain one finished (method, seed) from scratch in a
 *                                                          scratch folder and check it lands inside the committed spread
 *   npm run study -- --priors rate-distortion           train a PixelCNN prior over each kept checkpoint's codes
 *                                                          (results/<name>/priors/; studies/priors.ts)
 *   npm run study -- --gaussian [--shard 1/2]            notebook 11's Gaussian grid (studies/gaussian.ts)
 *   npm run study -- rate-distortion --smoke [--train-limit 256] [--epochs 2]
 *                                                          a smoke test of any study: every method, the first two seeds
 *                                                          and one extra seed, on a few training digits for a few epochs,
 *                                                          into a scratch folder (never results/)
 *
 * Jobs run as child processes (one run each); tfjs-node gains little from a second thread on
 * these small convolutions, so two single-threaded jobs use two cores better than one job with two.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { STUDIES } from './catalog';
import { StudySpec, stopsAt } from './spec';
import { Job, chosenRate, groupWinner, jobId, planJobs } from './plan';
import { RunResult, runWorker } from './worker';
import { gitCommit } from './provenance';
import { trainPriors } from './priors';
import { GAUSSIAN_GRID, GAUSSIAN_METHODS, GAUSSIAN_STUDY, gaussianJobs, runGaussianStudy } from './gaussian';
import { writeFileAtomic } from '../lib/io';

const ROOT = path.resolve(__dirname, '..', '..');


function readRun(file: string): RunResult | null {
  if (!fs.existsSync(file)) return null;
  const r = JSON.parse(fs.readFileSync(file, 'utf8')) as RunResult;
  return r.status === 'done' ? r : null;
}

const fmtTime = (s: number) => (s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.round((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`);

function spawnJob(study: StudySpec, job: Job, dirs: { results: string; state: string }, threads: number, onMsg: (m: Record<string, unknown>) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [__filename, '--worker', study.name, '--id', job.id, '--results', dirs.results, '--state', dirs.state], {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, VQ_STUDY_COMMIT: gitCommit(), TF_NUM_INTRAOP_THREADS: String(threads), TF_NUM_INTEROP_THREADS: '1', TF_CPP_MIN_LOG_LEVEL: '2' },
    });
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line.startsWith('@@ ')) onMsg(JSON.parse(line.slice(3)));
        else if (line.trim()) console.log(`  [${job.id}] ${line}`);
      }
    });
    child.on('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`run ${job.id} failed (exit ${code ?? signal})`))));
  });
}

async function runStudy(study: StudySpec, opts: { jobs: number; threads: number; results: string; state: string }): Promise<void> {
  const runsDir = path.join(opts.results, study.name, 'runs');
  const stateDir = path.join(opts.state, study.name);
  fs.mkdirSync(runsDir, { recursive: true });
  fs.mkdirSync(stateDir, { recursive: true });
  const runs = new Map<string, RunResult>();
  for (const f of fs.readdirSync(runsDir)) {
    const r = readRun(path.join(runsDir, f));
    // A run counts as done only under today's budget: raising the cap extends the runs that stopped at the old one.
    if (r && stopsAt(r.epochs.map((e) => e.valMse), study.budget) !== null) runs.set(r.id, r);
  }
  const allJobs = (): Job[] => planJobs(study, runs).jobs;
  const expectedNow = () => planJobs(study, runs).expected;
  const t0 = performance.now() / 1000;
  const running = new Set<string>();
  const failures: Error[] = [];
  let doneHere = 0;
  const runSeconds: number[] = [];
  const status = () => `${runs.size}/${expectedNow()} runs done`;
  const eta = () => {
    const left = expectedNow() - runs.size;
    if (runSeconds.length === 0) return '?';
    const per = runSeconds.reduce((a, b) => a + b, 0) / runSeconds.length;
    return fmtTime((left * per) / Math.max(1, Math.min(opts.jobs, left)));
  };
  console.log(`study ${study.name}: ${study.title}\n  ${status()}; ${opts.jobs} job(s) × ${opts.threads} thread(s); results in ${path.relative(ROOT, runsDir) || runsDir}`);
  await new Promise<void>((resolve) => {
    const pump = () => {
      const todo = allJobs().filter((j) => !runs.has(j.id) && !running.has(j.id));
      if (todo.length === 0 && running.size === 0) return resolve();
      while (running.size < opts.jobs && todo.length > 0 && failures.length === 0) {
        const job = todo.shift()!;
        running.add(job.id);
        console.log(`  start ${job.id} (${job.method.label}, lr ${job.learningRate}, seed ${job.seed}${job.tuning ? ', tuning' : ''})`);
        spawnJob(study, job, { results: opts.results, state: opts.state }, opts.threads, (m) => {
          if (m.type === 'epoch') {
            console.log(`  ${job.id}  epoch ${m.epoch}  train ${Number(m.trainMse).toFixed(5)}  val ${Number(m.valMse).toFixed(5)}  test ${Number(m.testMse).toFixed(5)}  `
              + `used ${m.valUsed}  ${fmtTime(Number(m.seconds))}${m.stopped ? `  → stop (${m.stopped})` : ''}  | ${status()}, ETA ${eta()}`);
          } else if (m.type === 'resume') console.log(`  ${job.id}: resuming after epoch ${m.epoch}`);
        }).then(() => {
          const r = readRun(path.join(runsDir, `${job.id}.json`));
          if (!r) throw new Error(`run ${job.id} ended without its result file`);
          runs.set(job.id, r);
          runSeconds.push(r.wallSeconds);
          doneHere++;
          console.log(`  done ${job.id}: ${r.final.epochs} epochs (${r.stoppedBecause}), test MSE ${r.final.testMse.toFixed(5)}, ${fmtTime(r.wallSeconds)} | ${status()}, ETA ${eta()}`);
        }).catch((e: Error) => failures.push(e)).finally(() => {
          running.delete(job.id);
          pump();
        });
      }
      if (running.size === 0 && (todo.length === 0 || failures.length > 0)) resolve();
    };
    pump();
  });
  if (failures.length) throw failures[0];
  // Checkpoints kept only for the chosen learning rate (and, in a tune group, the winner).
  const ckDir = path.join(opts.results, study.name, 'checkpoints');
  const chosen = Object.fromEntries(study.methods.map((m) => [m.id, chosenRate(m, study, runs)]));
  const groups = [...new Set(study.methods.flatMap((m) => (m.tuneGroup === undefined ? [] : [m.tuneGroup])))];
  const winners = Object.fromEntries(groups.map((g) => [g, groupWinner(g, study, runs)]));
  if (fs.existsSync(ckDir)) {
    for (const f of fs.readdirSync(ckDir)) {
      const m = study.methods.find((x) => f.startsWith(`${x.id}-lr`));
      if (!m || chosen[m.id] === null) continue;
      const lost = m.tuneGroup !== undefined && winners[m.tuneGroup] !== null && winners[m.tuneGroup] !== m.id;
      if (lost || f !== `${jobId(m, chosen[m.id]!, study.seeds[0])}.ckpt`) fs.rmSync(path.join(ckDir, f));
    }
  }
  const summary = {
    study, chosenLearningRates: chosen, ...(groups.length ? { tuneGroupWinners: winners } : {}),
    runs: [...runs.values()].map((r) => ({ id: r.id, method: r.method, seed: r.seed, learningRate: r.learningRate, epochs: r.final.epochs, testMse: r.final.testMse, wallSeconds: r.wallSeconds })),
    totalRunSeconds: [...runs.values()].reduce((s, r) => s + r.wallSeconds, 0),
    thisSession: { runs: doneHere, wallSeconds: Math.round(performance.now() / 1000 - t0), jobs: opts.jobs, threads: opts.threads, commit: gitCommit() },
  };
  writeFileAtomic(path.join(opts.results, study.name, 'study.json'), `${JSON.stringify(summary, null, 1)}\n`);
  console.log(`study ${study.name}: ${status()}, ${doneHere} trained now in ${fmtTime(performance.now() / 1000 - t0)}; chosen learning rates ${JSON.stringify(chosen)}`
    + (groups.length ? `; tune-group winners ${JSON.stringify(winners)}` : ''));
}

async function verify(study: StudySpec, opts: { results: string; method?: string; seed?: number; threads: number }): Promise<boolean> {
  const runsDir = path.join(opts.results, study.name, 'runs');
  const runs = new Map<string, RunResult>();
  for (const f of fs.existsSync(runsDir) ? fs.readdirSync(runsDir) : []) {
    const r = readRun(path.join(runsDir, f));
    if (r) runs.set(r.id, r);
  }
  const m = study.methods.find((x) => x.id === (opts.method ?? study.methods[study.methods.length - 1].id));
  if (!m) throw new Error(`--method: no method '${opts.method}' in ${study.name} (${study.methods.map((x) => x.id).join(', ')})`);
  const lr = chosenRate(m, study, runs);
  if (lr === null) throw new Error(`${study.name}: ${m.id}'s learning rate is not chosen yet: run the study first`);
  const seed = opts.seed ?? study.seeds[study.seeds.length - 1];
  const spread = [...study.seeds, ...(study.extraSeeds ?? [])].map((s) => runs.get(jobId(m, lr, s))?.final.testMse).filter((v): v is number => v !== undefined);
  if (spread.length === 0) throw new Error(`${study.name}: no finished ${m.id} run to verify against`);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'vq-verify-'));
  const id = jobId(m, lr, seed);
  console.log(`verify ${study.name}/${id}: retraining from scratch in ${scratch}`);
  await spawnJob({ ...study, keepCheckpoints: [] }, { method: m, seed, learningRate: lr, tuning: seed === study.seeds[0], id }, { results: scratch, state: scratch }, opts.threads, (msg) => {
    if (msg.type === 'epoch') console.log(`  epoch ${msg.epoch}  val ${Number(msg.valMse).toFixed(5)}  test ${Number(msg.testMse).toFixed(5)}${msg.stopped ? `  → stop (${msg.stopped})` : ''}`);
  });
  const r = readRun(path.join(scratch, study.name, 'runs', `${id}.json`))!;
  const [lo, hi] = [Math.min(...spread), Math.max(...spread)];
  const mean = spread.reduce((a, b) => a + b, 0) / spread.length;
  const tol = 0.02 * mean; // 2% of the mean: thread counts and CPUs change float sums
  const ok = r.final.testMse >= lo - tol && r.final.testMse <= hi + tol;
  const committed = runs.get(id)?.final.testMse;
  console.log(`verify ${id}: test MSE ${r.final.testMse.toFixed(5)} after ${r.final.epochs} epochs; committed ${committed?.toFixed(5) ?? '–'}, `
    + `spread over ${spread.length} seed(s) [${lo.toFixed(5)}, ${hi.toFixed(5)}] ± ${tol.toFixed(5)}: ${ok ? 'inside' : 'OUTSIDE'}`);
  fs.rmSync(scratch, { recursive: true, force: true });
  return ok;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      list: { type: 'boolean' }, verify: { type: 'boolean' }, priors: { type: 'boolean' }, worker: { type: 'string' }, id: { type: 'string' },
      jobs: { type: 'string' }, threads: { type: 'string' }, method: { type: 'string' }, seed: { type: 'string' },
      results: { type: 'string' }, state: { type: 'string' },
      smoke: { type: 'boolean' }, 'train-limit': { type: 'string' }, epochs: { type: 'string' },
      gaussian: { type: 'boolean' }, shard: { type: 'string' }, steps: { type: 'string' },
    },
  });
  const int = (v: string | undefined, name: string, dflt: number) => {
    const n = v === undefined ? dflt : Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be an integer >= 1, got ${v}`);
    return n;
  };
  // --smoke: any study on a few training digits for a few epochs, in a scratch folder (never the committed results/).
  const smoke = values.smoke || (values.worker !== undefined && process.env.VQ_STUDY_SMOKE !== undefined);
  let scratch: string | null = null;
  if (smoke && !values.worker && (values.results === undefined || values.state === undefined)) scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'vq-smoke-'));
  const results = path.resolve(values.results ?? (scratch ? path.join(scratch, 'results') : path.join(ROOT, 'results')));
  const state = path.resolve(values.state ?? (scratch ? path.join(scratch, 'state') : path.join(ROOT, 'data', 'studies')));
  if (smoke && (results === path.join(ROOT, 'results') || state === path.join(ROOT, 'data', 'studies'))) {
    throw new Error('--smoke writes to a scratch folder: give --results and --state outside results/ and data/studies/ (or leave them out)');
  }
  const smokeOf = (s: StudySpec): StudySpec => {
    const [limit, epochs] = (process.env.VQ_STUDY_SMOKE ?? `${int(values['train-limit'], 'train-limit', 256)},${int(values.epochs, 'epochs', 2)}`).split(',').map(Number);
    return {
      ...s, trainLimit: limit, seeds: s.seeds.slice(0, 2), ...(s.extraSeeds ? { extraSeeds: s.extraSeeds.slice(0, 1) } : {}),
      budget: { ...s.budget, maxEpochs: epochs },
    };
  };
  const getStudy = (name: string | undefined): StudySpec => {
    const s = name ? STUDIES[name] : undefined;
    if (!s) throw new Error(`no study named ${JSON.stringify(name ?? '')}; studies: ${Object.keys(STUDIES).join(', ')}`);
    return smoke ? smokeOf(s) : s;
  };
  if (values.worker) {
    // A worker outlives no parent: `npm run study` stopped means its runs stop (they resume later).
    const parent = process.ppid;
    setInterval(() => { try { process.kill(parent, 0); } catch { process.exit(1); } }, 2000).unref();
    const study = getStudy(values.worker);
    const m = /^(.*)-lr([0-9.e-]+)-s(\d+)$/.exec(values.id ?? '');
    const method = study.methods.find((x) => x.id === m?.[1]);
    if (!m || !method) throw new Error(`--id ${values.id}: not a run of ${study.name}`);
    await runWorker({ study, method, learningRate: Number(m[2]), seed: Number(m[3]), id: values.id!, tuning: Number(m[3]) === study.seeds[0], resultsDir: results, stateDir: path.join(state, study.name) },
      (msg) => process.stdout.write(`@@ ${JSON.stringify(msg)}\n`));
    return;
  }
  if (values.list) {
    for (const s of Object.values(STUDIES)) {
      const runs = planJobs(s, new Map()).expected;
      console.log(`${s.name.padEnd(24)} ${s.title}: ${s.methods.length} methods × ${s.seeds.length} seeds`
        + `${s.extraSeeds?.length ? ` (+${s.extraSeeds.length} where spreads overlap)` : ''}, ${runs} runs${s.extraSeeds?.length ? ' before extra seeds' : ''}, cap ${s.budget.maxEpochs} epochs`);
    }
    console.log(`${GAUSSIAN_STUDY.padEnd(24)} notebook 11's Gaussian setting (--gaussian): ${GAUSSIAN_METHODS.length} quantizers × K ${GAUSSIAN_GRID.ks.join(', ')}, `
      + `${gaussianJobs().length} runs of ${GAUSSIAN_GRID.steps} steps`);
    return;
  }
  if (values.gaussian) {
    // Notebook 11's Gaussian setting (studies/gaussian.ts): its own grid, one process per shard.
    const m = /^(\d+)\/(\d+)$/.exec(values.shard ?? '1/1');
    if (!m || Number(m[1]) < 1 || Number(m[1]) > Number(m[2])) throw new Error(`--shard must be i/n with 1 <= i <= n, got ${values.shard}`);
    await runGaussianStudy({ results, shard: [Number(m[1]), Number(m[2])], ...(values.steps ? { steps: int(values.steps, 'steps', 1) } : {}) });
    return;
  }
  const study = getStudy(positionals[0]);
  if (smoke) {
    process.env.VQ_STUDY_SMOKE = `${study.trainLimit},${study.budget.maxEpochs}`; // the workers rebuild the same smoke study
    console.log(`smoke test of ${study.name}: ${study.trainLimit} training digits, ${study.budget.maxEpochs} epochs, seeds ${JSON.stringify([...study.seeds, ...(study.extraSeeds ?? [])])}; scratch ${path.dirname(results)}`);
  }
  const jobs = int(values.jobs, 'jobs', Math.max(1, Math.min(2, os.cpus().length)));
  const threads = int(values.threads, 'threads', Math.max(1, Math.floor(os.cpus().length / jobs)));
  if (values.priors) {
    if (smoke) throw new Error('--priors reads the kept checkpoints of a finished study: not with --smoke');
    await trainPriors(study, { results });
    return;
  }
  if (values.verify) {
    const ok = await verify(study, { results, method: values.method, seed: values.seed === undefined ? undefined : Number(values.seed), threads });
    process.exit(ok ? 0 : 1);
  }
  await runStudy(study, { jobs, threads, results, state });
}

main().catch((e: Error) => {
  console.error(`study: ${e.message}`);
  process.exit(1);
});
