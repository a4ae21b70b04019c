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
import { MethodSpec, StudySpec, halfDecade, stopsAt } from './spec';
import { RunResult, runWorker } from './worker';
import { gitCommit } from './provenance';
import { writeFileAtomic } from '../lib/io';

const ROOT = path.resolve(__dirname, '..', '..');

interface Job { method: MethodSpec; seed: number; learningRate: number; tuning: boolean; id: string }
const jobId = (m: MethodSpec, lr: number, seed: number) => `${m.id}-lr${lr}-s${seed}`;

function readRun(file: string): RunResult | null {
  if (!fs.existsSync(file)) return null;
  const r = JSON.parse(fs.readFileSync(file, 'utf8')) as RunResult;
  return r.status === 'done' ? r : null;
}

/**
 * A method's tuning rates so far: its declared grid, extended one half-decade step at a time
 * (at most `study.extendLearningRates` steps) while the best finished rate sits on the grid's
 * edge, so that the chosen rate is not an artefact of where the grid stopped.
 */
function tuningRates(m: MethodSpec, study: StudySpec, runs: Map<string, RunResult>): number[] {
  const rates = [...m.learningRates].sort((a, b) => a - b);
  for (let i = 0; i < (study.extendLearningRates ?? 0) && rates.length > 1; i++) {
    const val = rates.map((lr) => runs.get(jobId(m, lr, study.seeds[0]))?.final.valMse ?? NaN);
    if (val.some(Number.isNaN)) break;
    const best = rates[val.indexOf(Math.min(...val))];
    if (best === rates[rates.length - 1]) rates.push(halfDecade(best, 1));
    else if (best === rates[0]) rates.unshift(halfDecade(best, -1));
    else break;
  }
  return rates;
}

/** The learning rate of `m` chosen on validation: the lowest final validation MSE among its tuning runs (null until they are all done). */
function chosenRate(m: MethodSpec, study: StudySpec, runs: Map<string, RunResult>): number | null {
  const rates = tuningRates(m, study, runs);
  if (rates.length === 1) return rates[0];
  const tuned = rates.map((lr) => runs.get(jobId(m, lr, study.seeds[0])));
  if (tuned.some((r) => !r)) return null;
  return tuned.reduce((a, b) => (b!.final.valMse < a!.final.valMse ? b : a))!.learningRate;
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
  const allJobs = (): Job[] => study.methods.flatMap((m) => {
    const tune: Job[] = tuningRates(m, study, runs).map((lr) => ({ method: m, seed: study.seeds[0], learningRate: lr, tuning: true, id: jobId(m, lr, study.seeds[0]) }));
    const lr = chosenRate(m, study, runs);
    const rest: Job[] = lr === null ? [] : study.seeds.slice(1).map((seed) => ({ method: m, seed, learningRate: lr, tuning: false, id: jobId(m, lr, seed) }));
    return [...tune, ...rest];
  });
  // Runs expected so far (the tuning grids can still grow).
  const expected = () => study.methods.reduce((s, m) => s + tuningRates(m, study, runs).length + study.seeds.length - 1, 0);
  const t0 = performance.now() / 1000;
  const running = new Set<string>();
  const failures: Error[] = [];
  let doneHere = 0;
  const runSeconds: number[] = [];
  const status = () => `${runs.size}/${expected()} runs done`;
  const eta = () => {
    const left = expected() - runs.size;
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
  // Checkpoints kept only for the chosen learning rate.
  const ckDir = path.join(opts.results, study.name, 'checkpoints');
  const chosen = Object.fromEntries(study.methods.map((m) => [m.id, chosenRate(m, study, runs)]));
  if (fs.existsSync(ckDir)) {
    for (const f of fs.readdirSync(ckDir)) {
      const m = study.methods.find((x) => f.startsWith(`${x.id}-lr`) && chosen[x.id] !== null && f !== `${jobId(x, chosen[x.id]!, study.seeds[0])}.ckpt`);
      if (m && chosen[m.id] !== null) fs.rmSync(path.join(ckDir, f));
    }
  }
  const summary = {
    study, chosenLearningRates: chosen,
    runs: [...runs.values()].map((r) => ({ id: r.id, method: r.method, seed: r.seed, learningRate: r.learningRate, epochs: r.final.epochs, testMse: r.final.testMse, wallSeconds: r.wallSeconds })),
    totalRunSeconds: [...runs.values()].reduce((s, r) => s + r.wallSeconds, 0),
    thisSession: { runs: doneHere, wallSeconds: Math.round(performance.now() / 1000 - t0), jobs: opts.jobs, threads: opts.threads, commit: gitCommit() },
  };
  writeFileAtomic(path.join(opts.results, study.name, 'study.json'), `${JSON.stringify(summary, null, 1)}\n`);
  console.log(`study ${study.name}: ${status()}, ${doneHere} trained now in ${fmtTime(performance.now() / 1000 - t0)}; chosen learning rates ${JSON.stringify(chosen)}`);
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
  const spread = study.seeds.map((s) => runs.get(jobId(m, lr, s))?.final.testMse).filter((v): v is number => v !== undefined);
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
      list: { type: 'boolean' }, verify: { type: 'boolean' }, worker: { type: 'string' }, id: { type: 'string' },
      jobs: { type: 'string' }, threads: { type: 'string' }, method: { type: 'string' }, seed: { type: 'string' },
      results: { type: 'string' }, state: { type: 'string' },
    },
  });
  const results = path.resolve(values.results ?? path.join(ROOT, 'results'));
  const state = path.resolve(values.state ?? path.join(ROOT, 'data', 'studies'));
  const getStudy = (name: string | undefined): StudySpec => {
    const s = name ? STUDIES[name] : undefined;
    if (!s) throw new Error(`no study named ${JSON.stringify(name ?? '')}; studies: ${Object.keys(STUDIES).join(', ')}`);
    return s;
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
    for (const s of Object.values(STUDIES)) console.log(`${s.name.padEnd(12)} ${s.title}: ${s.methods.length} methods × ${s.seeds.length} seeds`);
    return;
  }
  const study = getStudy(positionals[0]);
  const int = (v: string | undefined, name: string, dflt: number) => {
    const n = v === undefined ? dflt : Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be an integer >= 1, got ${v}`);
    return n;
  };
  const jobs = int(values.jobs, 'jobs', Math.max(1, Math.min(2, os.cpus().length)));
  const threads = int(values.threads, 'threads', Math.max(1, Math.floor(os.cpus().length / jobs)));
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
