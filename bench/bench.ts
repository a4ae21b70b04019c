/**
 * `npm run bench [-- options]`: training-speed benchmark, TensorFlow.js against PyTorch, in one
 * process. Cases:
 *   vqvae-train-step  DL-Demos VQ-VAE, DL-Demos MNIST config (dim 32, K 32, batch 256, 28×28×1,
 *                     Adam 2e-4, β 0.25): one optimizer step, images/s
 *   vq-layer          VectorQuantizer forward + backward with the entropy term, N = 65,536,
 *                     d = 64, K = 1,024: vectors/s
 *   fsq-layer         FSQ forward + backward on the same N, levels [8,5,5,5]: vectors/s
 * for each available backend (tfjs-node when it loads, wasm with 1 and with 2 threads, the
 * pure-JS cpu backend with --cpu), and the same cases in PyTorch (bench/torch_bench.py) when a
 * Python with torch is found (the bench installs nothing), compared at the same thread count
 * (PyTorch also runs at all cores when that is another count). Numbers are medians of N timed
 * steps after warm-up; ratio = ours / PyTorch (> 1: faster). Also reported: each process's peak
 * resident memory (getrusage maxrss, KiB) beside PyTorch's at the same thread count, and with
 * --batches the VQ-VAE step at several batch sizes (a row and a ratio per batch).
 *
 * Options: --json (last stdout line is one JSON object) --quick --steps N --threads 1,2
 *          --cases vqvae-train-step,vq-layer,fsq-layer --cpu --no-pytorch --profile
 *          --vq-n N (VQ/FSQ vectors; default 65536) --batches 64,256,1024 (VQ-VAE batch sizes;
 *          default 256) --python PATH --rounds N (the native children and PyTorch alternate N times,
 *          before wasm: on a machine whose speed drifts over minutes both sides see the same drift;
 *          each time is the median over the rounds; default 1)
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { parseArgs } from 'util';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { registerWasmKernels, setWasmThreads, wasmThreadsInUse } from '../lib/internal';
import { FSQ, VectorQuantizer } from '../lib/quantizer/index';
import { vqPeakBytes } from '../lib/quantizer/distance';
import { WASM_HEAP_LIMIT } from '../lib/quantizer/memory';
import { VQVAE, VQVAETrainer } from '../lib/vqvae/index';

type CaseName = 'vqvae-train-step' | 'vq-layer' | 'fsq-layer';
const ALL_CASES: CaseName[] = ['vqvae-train-step', 'vq-layer', 'fsq-layer'];

interface Options {
  json: boolean;
  quick: boolean;
  steps: number;
  threads: number[];
  cases: CaseName[];
  cpu: boolean;
  pytorch: boolean;
  profile: boolean;
  vqN: number;
  /** batch sizes of the VQ-VAE step, ascending (default [256]) */
  batches: number[];
  python: string | null;
  /** native and PyTorch runs, alternating, before wasm (row times: medians over rounds) */
  rounds: number;
}

/** The command line (node:util parseArgs): `--opt value` or `--opt=value`; anything unknown throws. */
function parseOptions(argv: string[]): Options {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        json: { type: 'boolean' },
        quick: { type: 'boolean' },
        cpu: { type: 'boolean' },
        'no-pytorch': { type: 'boolean' },
        profile: { type: 'boolean' },
        steps: { type: 'string' },
        'vq-n': { type: 'string' },
        python: { type: 'string' },
        threads: { type: 'string' },
        cases: { type: 'string' },
        batches: { type: 'string' },
        rounds: { type: 'string' },
      },
    }));
  } catch (e) {
    throw new Error(`bench: ${(e as Error).message}`);
  }
  const cases = values.cases === undefined ? [...ALL_CASES] : (values.cases.split(',') as CaseName[]);
  for (const n of cases) if (!ALL_CASES.includes(n)) throw new Error(`bench: unknown case ${n} (expected ${ALL_CASES.join(', ')})`);
  const o: Options = {
    json: values.json ?? false,
    quick: values.quick ?? false,
    steps: values.steps === undefined ? 0 : Number(values.steps),
    threads: values.threads === undefined ? [] : values.threads.split(',').map(Number),
    cases,
    cpu: values.cpu ?? false,
    pytorch: !values['no-pytorch'],
    profile: values.profile ?? false,
    vqN: values['vq-n'] === undefined ? 65536 : Number(values['vq-n']),
    batches: values.batches === undefined ? [256] : [...new Set(values.batches.split(',').map(Number))].sort((a, b) => a - b),
    python: values.python ?? null,
    rounds: values.rounds === undefined ? 1 : Number(values.rounds),
  };
  if (o.threads.some((t) => !Number.isInteger(t) || t < 1)) throw new Error('bench: --threads expects positive integers');
  if (o.batches.some((b) => !Number.isInteger(b) || b < 1)) throw new Error('bench: --batches expects positive integers');
  if (!(Number.isInteger(o.vqN) && o.vqN > 0)) throw new Error('bench: --vq-n expects a positive integer');
  if (!(Number.isInteger(o.rounds) && o.rounds > 0)) throw new Error('bench: --rounds expects a positive integer');
  return o;
}

const log = (msg: string): void => {
  process.stderr.write(`${msg}\n`);
};

/**
 * This process's peak resident set size so far, KiB (getrusage ru_maxrss, RUSAGE_SELF: children
 * not included). Monotone: it never goes down within a process.
 */
function peakRssKib(): number {
  return process.resourceUsage().maxRSS;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Wait until `t` is computed without copying it out: read one element. (The CPU backends compute
 * eagerly, so this costs nothing there; on a GPU it waits for the kernel. Reading the whole
 * gradient, 16 MB at N 65,536, would time a copy to JavaScript that PyTorch's side never makes.)
 */
function syncOne(t: tf.Tensor): void {
  tf.tidy(() => tf.slice(tf.reshape(t, [-1]), 0, 1).dataSync());
}

/** Time `step` (sync or async) `steps` times after `warmup` calls; ms per call. */
async function timeSteps(step: () => unknown, warmup: number, steps: number): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await step();
  const out: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t = performance.now();
    await step();
    out.push(performance.now() - t);
  }
  return out;
}

interface Measured {
  name: CaseName;
  unit: string;
  /** items (images, vectors) per step */
  items: number;
  samplesMs: number[];
  impl: string;
  note?: string;
}

// ------------------------------------------------------------------ the cases

/** The DL-Demos VQ-VAE in its MNIST configuration, with its trainer (lib/vqvae). */
function seedTrainer(batch: number): { trainer: VQVAETrainer; dispose(): void } {
  const vq = new VectorQuantizer({ codebookSize: 32, dim: 32, commitmentWeight: 0.25, seed: 0, checkFinite: false });
  const model = new VQVAE({ bottleneck: vq, dim: 32, seed: 0 });
  const trainer = new VQVAETrainer(model, { batchSize: batch, learningRate: 2e-4 });
  return { trainer, dispose: () => { trainer.dispose(); model.dispose(); vq.dispose(); } };
}

async function vqvaeCase(steps: number, warmup: number, batch = 256): Promise<Measured> {
  const x = tf.tidy(() => tf.randomUniform([batch, 28, 28, 1], 0, 1, 'float32', 1) as tf.Tensor4D);
  const seed = seedTrainer(batch);
  try {
    const ms = await timeSteps(() => seed.trainer.trainStep(x), warmup, steps);
    return { name: 'vqvae-train-step', unit: 'images/s', items: batch, samplesMs: ms, impl: 'lib/vqvae VQVAE + VQVAETrainer.trainStep' };
  } finally {
    seed.dispose();
    x.dispose();
  }
}


async function vqCase(steps: number, warmup: number, n: number, backend: string): Promise<Measured> {
  const K = 1024;
  const d = 64;
  let note: string | undefined;
  let nRun = n;
  // wasm32's heap stops at 4 GiB: run the largest power-of-two fraction of N that fits.
  if (backend === 'wasm') {
    while (vqPeakBytes(nRun, K, d, true) > 0.8 * WASM_HEAP_LIMIT && nRun > 1024) nRun = Math.ceil(nRun / 2);
    if (nRun !== n) {
      note = `N=${nRun}: the layer's forward and backward need ~${(vqPeakBytes(n, K, d, true) / 2 ** 30).toFixed(1)} GiB at N=${n}, over wasm's 4 GiB heap`;
    }
  }
  const vq = new VectorQuantizer({ codebookSize: K, dim: d, entropyWeight: 0.1, seed: 0, checkFinite: false });
  const z = tf.variable(tf.randomNormal([nRun, d], 0, 1, 'float32', 2), true);
  const vars = [z, ...vq.trainableVariables()];
  const step = () => tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => {
      const out = vq.forward(z, { training: false });
      return tf.add(tf.mean(tf.square(out.quantized)), out.loss) as tf.Scalar;
    }, vars);
    for (const g of Object.values(grads)) syncOne(g);
    return value.dataSync()[0];
  });
  try {
    const ms = await timeSteps(step, warmup, steps);
    return { name: 'vq-layer', unit: 'vectors/s', items: nRun, samplesMs: ms, impl: 'lib/quantizer VectorQuantizer (entropyWeight 0.1)', note };
  } finally {
    z.dispose();
    vq.dispose();
  }
}

async function fsqCase(steps: number, warmup: number, n: number): Promise<Measured> {
  const fsq = new FSQ({ levels: [8, 5, 5, 5], dim: 64, seed: 0, checkFinite: false });
  const z = tf.variable(tf.randomNormal([n, 64], 0, 1, 'float32', 3), true);
  const proj = [fsq.projectIn, fsq.projectOut].filter((p): p is { kernel: tf.Variable; bias: tf.Variable } => p !== null);
  const vars = [z, ...proj.flatMap((p) => [p.kernel, p.bias])];
  const step = () => tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => {
      const out = fsq.forward(z, { training: false });
      return tf.mean(tf.square(out.quantized)) as tf.Scalar;
    }, vars);
    for (const g of Object.values(grads)) syncOne(g);
    return value.dataSync()[0];
  });
  try {
    const ms = await timeSteps(step, warmup, steps);
    return { name: 'fsq-layer', unit: 'vectors/s', items: n, samplesMs: ms, impl: 'lib/quantizer FSQ (levels [8,5,5,5], dim 64)' };
  } finally {
    z.dispose();
    fsq.dispose();
  }
}

/** Per-kernel profile of one VQ-VAE step (kernel → total ms, calls), most expensive first. */
async function profileVQVAE(batch = 256): Promise<{ model: string; kernels: Array<{ kernel: string; ms: number; calls: number }> }> {
  const x = tf.tidy(() => tf.randomUniform([batch, 28, 28, 1], 0, 1, 'float32', 1) as tf.Tensor4D);
  const seed = seedTrainer(batch);
  const step = () => seed.trainer.trainStep(x);
  const dispose = () => seed.dispose();
  const model = 'lib/vqvae';
  try {
    await step();
    await step();
    // Per-kernel minimum over 3 profiled steps (the machine may be shared: minima are stabler).
    let best: Array<{ name: string; ms: number }> | null = null;
    for (let r = 0; r < 3; r++) {
      const prof = await tf.profile(async () => { await step(); });
      const ks = prof.kernels.map((k) => ({ name: k.name, ms: k.kernelTimeMs as number }));
      if (!best || best.length !== ks.length) best = ks;
      else ks.forEach((k, i) => { if (best![i].name === k.name) best![i].ms = Math.min(best![i].ms, k.ms); });
    }
    const agg = new Map<string, { ms: number; calls: number }>();
    // The profile lists op-level wrappers around the kernels they call; keep kernels only.
    for (const k of best ?? []) {
      if (/__op$|^forward$|^unnamed scope$/.test(k.name)) continue;
      const a = agg.get(k.name) ?? { ms: 0, calls: 0 };
      a.ms += k.ms;
      a.calls += 1;
      agg.set(k.name, a);
    }
    return { model, kernels: [...agg.entries()].map(([kernel, v]) => ({ kernel, ...v })).sort((a, b) => b.ms - a.ms) };
  } finally {
    dispose();
    x.dispose();
  }
}

// ------------------------------------------------------------------ PyTorch

interface TorchCase {
  name: CaseName; unit: string; ms: number; value: number; samples_ms: number[];
  /** VQ-VAE batch; VQ/FSQ vectors */
  batch?: number; n?: number;
  /** the Python process's peak RSS right after this case, KiB (monotone within the process; null without getrusage) */
  peak_rss_kib?: number | null;
}
/** One torch_bench.py process; RSS in KiB: peak over all its cases, and peak once torch was imported, before them. */
interface TorchRun {
  torch: string; python: string; threads: number; cases: TorchCase[];
  peak_rss_kib?: number | null; start_rss_kib?: number | null;
}

function findPython(explicit: string | null): { python: string; torch: string; blas: string } | null {
  // The peer is a pip PyTorch (MKL/oneDNN) in its own virtualenv (bench/requirements.txt);
  // .venv-bench/ in the repository is where the README puts it.
  const venv = path.resolve(__dirname, '..', '..', '.venv-bench', 'bin', 'python');
  const candidates = [explicit, process.env.VQ_PYTHON, venv, 'python3', '/usr/bin/python3', 'python'].filter(
    (c): c is string => typeof c === 'string' && c.length > 0);
  for (const py of [...new Set(candidates)]) {
    const r = spawnSync(py, ['-c', 'import torch,re;c=torch.__config__.show();m=re.search(r"BLAS_INFO=(\\w+)",c);print(torch.__version__, m.group(1) if m else "?")'], {
      encoding: 'utf8', timeout: 120_000,
    });
    if (r.status === 0) {
      const [version, blas] = r.stdout.trim().split(/\s+/);
      return { python: py, torch: version, blas: blas ?? '?' };
    }
  }
  return null;
}

function runTorch(python: string, threads: number, cases: CaseName[], o: Options, n: number): TorchRun | null {
  const script = [path.resolve(__dirname, '..', '..', 'bench', 'torch_bench.py'), path.resolve('bench', 'torch_bench.py')]
    .find((f) => fs.existsSync(f));
  if (!script) {
    log('[bench] bench/torch_bench.py not found (run from the repository root)');
    return null;
  }
  const args = [script, '--threads', String(threads), '--cases', cases.join(','), '--vq-n', String(n), '--batches', o.batches.join(',')];
  if (o.quick) args.push('--quick');
  if (o.steps) args.push('--steps', String(o.steps));
  log(`[bench] PyTorch, ${threads} thread(s): ${cases.join(', ')} ...`);
  const r = spawnSync(python, args, { encoding: 'utf8', timeout: 3_600_000, maxBuffer: 64 * 2 ** 20 });
  if (r.status !== 0) {
    log(`[bench] PyTorch run failed (${r.status}): ${(r.stderr || '').trim().split('\n').slice(-3).join(' | ')}`);
    return null;
  }
  const last = r.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as TorchRun;
}

// ------------------------------------------------------------------ main

interface Row {
  name: CaseName;
  backend: string;
  threads: number | null;
  unit: string;
  ours: number;
  ms: number;
  steps: number;
  impl: string;
  note?: string;
  pytorch: number | null;
  pytorch_threads: number | null;
  pytorch_ms: number | null;
  ratio: number | null;
  /** the VQ-VAE step's batch size (null for the other cases) */
  batch: number | null;
  /** the measuring process's peak RSS right after this case, KiB (monotone within the process) */
  peak_rss_kib: number;
  /** the same for the PyTorch process that ran the matching case */
  pytorch_peak_rss_kib: number | null;
}

/** One of our measuring processes: its peak RSS (KiB) after the cases of one backend and thread count. */
interface Peak {
  backend: string;
  threads: number | null;
  /** 'child': a tfjs-node child of its own; 'main': wasm and cpu, one after another in this process */
  process: 'child' | 'main';
  kib: number;
  /** the peak once the backend had loaded, before the first case (the runtime's own share); null for
   * main's later rows, where it would repeat the rows above */
  startKib: number | null;
}

type Profile = { model: string; kernels: Array<{ kernel: string; ms: number; calls: number }> };

/** Timed steps and warm-up calls of one case on one backend. */
function stepsFor(o: Options, name: CaseName, slow: boolean): { steps: number; warmup: number } {
  const steps = o.quick ? 2 : o.steps || (name === 'vq-layer' ? 5 : slow ? 2 : 10);
  const warmup = o.quick || slow || name === 'vq-layer' ? 1 : 3;
  return { steps, warmup };
}

/** One case (the VQ-VAE step at `batch` images); null, logged, when it throws. */
async function measureCase(o: Options, name: CaseName, backend: string, batch: number, label: string): Promise<Measured | null> {
  const slow = backend === 'cpu';
  const { steps, warmup } = stepsFor(o, name, slow);
  try {
    if (name === 'vqvae-train-step') return await vqvaeCase(steps, warmup, batch);
    if (name === 'vq-layer') return await vqCase(steps, warmup, slow ? Math.min(o.vqN, 4096) : o.vqN, backend);
    return await fsqCase(steps, warmup, o.vqN);
  } catch (e) {
    log(`[bench] ${label} failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    return null;
  }
}

async function runCases(o: Options, backend: string, threads: number | null, rows: Row[], profile: boolean): Promise<Profile | null> {
  const label = threads ? `${backend}, ${threads} thread(s)` : backend;
  const slow = backend === 'cpu';
  for (const name of o.cases) {
    for (const batch of name === 'vqvae-train-step' ? o.batches : [null]) {
      const what = batch === null ? name : `${name} (batch ${batch})`;
      log(`[bench] ${label}: ${what} ...`);
      const m = await measureCase(o, name, backend, batch ?? 256, `${label}: ${what}`);
      if (!m) continue;
      const ms = median(m.samplesMs);
      rows.push({
        name, backend, threads, unit: m.unit, ours: (m.items * 1000) / ms, ms, steps: m.samplesMs.length, impl: m.impl,
        note: m.note ?? (slow && name === 'vq-layer' ? `N=${Math.min(o.vqN, 4096)} on the pure-JS backend` : undefined),
        pytorch: null, pytorch_threads: null, pytorch_ms: null, ratio: null,
        batch, peak_rss_kib: peakRssKib(), pytorch_peak_rss_kib: null,
      });
      log(`[bench]   ${((m.items * 1000) / ms).toFixed(0)} ${m.unit} (${ms.toFixed(1)} ms/step, median of ${m.samplesMs.length}; peak RSS so far ${(peakRssKib() / 1024).toFixed(0)} MiB)`);
    }
  }
  return profile && o.cases.includes('vqvae-train-step') ? profileVQVAE() : null;
}

function fmt(v: number | null, digits = 0): string {
  if (v === null || !Number.isFinite(v)) return '—';
  return v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** Run the cases on tfjs-node at `threads` intra-op threads in a child process; its rows and peak RSS. */
function nativeChild(o: Options, threads: number): { rows: Row[]; peak: Peak; profile: Profile | null } | { error: string } {
  log(`[bench] tfjs-node, ${threads} thread(s): starting a child process ...`);
  const r = spawnSync(process.execPath, [__filename, ...process.argv.slice(2).filter((a) => a !== '--json')], {
    encoding: 'utf8', timeout: 3_600_000, maxBuffer: 64 * 2 ** 20, stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env, VQ_BENCH_NATIVE_THREADS: String(threads),
      TF_NUM_INTRAOP_THREADS: String(threads), TF_NUM_INTEROP_THREADS: '1', OMP_NUM_THREADS: String(threads), TF_CPP_MIN_LOG_LEVEL: '2',
    },
  });
  const last = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !last.startsWith('{')) return { error: `the child process failed (exit ${r.status})` };
  const out = JSON.parse(last) as { rows?: Row[]; peak?: Peak; profile?: Profile | null; error?: string };
  return out.rows && out.peak ? { rows: out.rows, peak: out.peak, profile: out.profile ?? null } : { error: out.error ?? 'no rows' };
}

/**
 * The child of nativeChild: select tfjs-node (tfjs-node-gpu when $VQ_BACKEND is node-gpu), run the
 * cases, print {rows, peak} (peak: this process's peak RSS after all of them) or {error} as JSON.
 */
async function nativeChildMain(o: Options, threads: number): Promise<void> {
  tf.enableProdMode();
  const choice = process.env.VQ_BACKEND === 'node-gpu' ? 'node-gpu' : 'node';
  const info = await initBackend(choice, { quiet: true });
  if (info.choice !== choice) {
    process.stdout.write(`${JSON.stringify({ error: info.attempts.find((a) => a.choice === choice)?.reason ?? info.summary })}\n`);
    return;
  }
  const rows: Row[] = [];
  const backend = `tfjs-${choice}`;
  const t = choice === 'node-gpu' ? null : threads;
  const startKib = peakRssKib();
  const profile = await runCases(o, backend, t, rows, o.profile);
  const peak: Peak = { backend, threads: t, process: 'child', kib: peakRssKib(), startKib };
  process.stdout.write(`${JSON.stringify({ rows, peak, profile })}\n`);
}

/** The machine a run measured, printed in the report's first line and in the JSON. */
function machineInfo() {
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.arch()}`,
    node: process.version,
    tfjs: tf.version.tfjs,
    loadavg: os.loadavg().map((l) => Number(l.toFixed(2))),
  };
}
type Machine = ReturnType<typeof machineInfo>;

/**
 * Step 1. The native backend (tfjs-node), once per thread count: TensorFlow sizes its thread
 * pools when it loads, from TF_NUM_INTRAOP_THREADS, so each count runs in a child process of its own.
 */
function benchNative(o: Options, threads: number[], rows: Row[], peaks: Peak[], notes: string[], profiles: Record<string, Profile>): void {
  for (const t of threads) {
    const child = nativeChild(o, t);
    if ('error' in child) { notes.push(`tfjs-node with ${t} thread(s) not used: ${child.error}`); continue; }
    rows.push(...child.rows);
    peaks.push(child.peak);
    if (child.profile) profiles[`tfjs-node-${t}t`] = child.profile;
  }
}

/** This process's peak RSS before its first case (KiB), or null when it has already run cases. */
function mainStartKib(peaks: Peak[]): number | null {
  return peaks.some((p) => p.process === 'main') ? null : peakRssKib();
}

/**
 * Step 2. wasm, at each thread count (the threaded build is started afresh for each), in this
 * process: the peak RSS after a thread count's cases also covers the counts before it.
 */
async function benchWasm(o: Options, threads: number[], rows: Row[], peaks: Peak[], notes: string[], profiles: Record<string, Profile>): Promise<void> {
  for (const t of threads) {
    tf.disposeVariables();
    try {
      setWasmThreads(t, { reinit: true });
      const info = await initBackend('wasm', { quiet: true });
      if (info.choice !== 'wasm') throw new Error(`wasm did not load: ${info.summary}`);
      registerWasmKernels();
    } catch (e) {
      notes.push(`wasm with ${t} thread(s) unavailable: ${e instanceof Error ? e.message : String(e)}`);
      continue;
    }
    const actual = wasmThreadsInUse() ?? t;
    if (actual !== t) notes.push(`wasm asked for ${t} threads, runs ${actual}`);
    const startKib = mainStartKib(peaks);
    const prof = await runCases(o, 'wasm', actual, rows, o.profile);
    if (prof) profiles[`wasm-${actual}t`] = prof;
    peaks.push({ backend: 'wasm', threads: actual, process: 'main', kib: peakRssKib(), startKib });
  }
}

/** Step 3. The pure-JS backend (slow: opt-in). */
async function benchCpu(o: Options, rows: Row[], peaks: Peak[], notes: string[]): Promise<void> {
  if (o.cpu) {
    await initBackend('cpu', { quiet: true });
    const startKib = mainStartKib(peaks);
    await runCases(o, 'cpu', null, rows, false);
    peaks.push({ backend: 'cpu', threads: null, process: 'main', kib: peakRssKib(), startKib });
  } else {
    notes.push('cpu (pure-JS) backend skipped: about 50x slower than wasm; pass --cpu to include it');
  }
}

type TorchInfo = { python: string; torch: string; blas: string };
/** PyTorch's RSS per thread count, KiB: that of the process with the largest peak at it (as in Peak). */
type TorchPeaks = Map<number, { kib: number; startKib: number | null }>;

/** The vectors N a vq-layer row ran (its throughput × its time). */
const vqNOf = (r: Row): number => Math.round((r.ours * r.ms) / 1000);

/** Whether PyTorch's case `c` is our row's computation: same case, N (vq-layer) and batch (VQ-VAE step). */
function sameCase(r: Row, c: TorchCase): boolean {
  if (c.name !== r.name) return false;
  if (r.name === 'vq-layer' && c.n !== undefined && c.n !== vqNOf(r)) return false;
  return r.batch === null || c.batch === undefined || c.batch === r.batch;
}

/**
 * PyTorch at each of `torchThreads`: the cases other than vq-layer in one process, vq-layer in
 * one process per N our rows ran (vectors/s compares at equal N). Fills `peaks`.
 */
function torchRuns(o: Options, torchInfo: TorchInfo, torchThreads: number[], vqNs: number[], peaks: TorchPeaks): Map<number, TorchRun> {
  const runs = new Map<number, TorchRun>();
  for (const t of torchThreads) {
    const cases = o.cases.filter((c) => c !== 'vq-layer');
    const run = cases.length ? runTorch(torchInfo.python, t, cases, o, o.vqN) : { torch: torchInfo.torch, python: '', threads: t, cases: [] };
    const procs = [run];
    for (const n of o.cases.includes('vq-layer') ? (vqNs.length ? vqNs : [o.vqN]) : []) {
      const r = runTorch(torchInfo.python, t, ['vq-layer'], o, n);
      procs.push(r);
      if (r && run) run.cases.push(...r.cases.map((c) => ({ ...c, n })));
    }
    let top: TorchRun | null = null;
    for (const r of procs) if (r?.peak_rss_kib && r.peak_rss_kib > (top?.peak_rss_kib ?? 0)) top = r;
    if (top?.peak_rss_kib) peaks.set(t, { kib: top.peak_rss_kib, startKib: top.start_rss_kib ?? null });
    if (run) runs.set(t, run);
  }
  return runs;
}

/** Rows of several native rounds → one row per case, backend, threads and batch: the median time. */
function medianRounds(rounds: Row[][]): Row[] {
  if (rounds.length <= 1) return rounds[0] ?? [];
  const all = rounds.flat();
  return rounds[0].map((r) => {
    const same = all.filter((x) => x.name === r.name && x.backend === r.backend && x.threads === r.threads && x.batch === r.batch);
    const ms = median(same.map((x) => x.ms));
    return { ...r, ms, ours: (r.ours * r.ms) / ms, steps: same.reduce((a, x) => a + x.steps, 0), peak_rss_kib: Math.max(...same.map((x) => x.peak_rss_kib)) };
  });
}

/** PyTorch runs of several rounds → one per thread count, each case at its median time. */
function medianTorchRounds(rounds: Map<number, TorchRun>[]): Map<number, TorchRun> {
  const out = new Map<number, TorchRun>();
  for (const [t, first] of rounds[0] ?? new Map<number, TorchRun>()) {
    const all = rounds.map((m) => m.get(t)).filter((x): x is TorchRun => !!x).flatMap((x) => x.cases);
    out.set(t, {
      ...first,
      cases: first.cases.map((c) => {
        const ms = median(all.filter((x) => x.name === c.name && x.batch === c.batch && x.n === c.n).map((x) => x.ms));
        return { ...c, ms, value: (c.value * c.ms) / ms };
      }),
    });
  }
  return out;
}

/**
 * Step 4. PyTorch at the same thread counts (and at all cores); fills the pytorch columns of
 * `rows` with the run at the row's thread count, and `peaks`. `torchInfo`: findPython's answer
 * (null: not found). Returns which PyTorch ran, or null.
 */
function comparePyTorch(
  o: Options, torchInfo: TorchInfo | null, threads: number[], cores: number, rows: Row[], notes: string[], peaks: TorchPeaks,
  early: Map<number, TorchRun> = new Map(),
): TorchInfo | null {
  if (!torchInfo) {
    notes.push('PyTorch not found (tried --python, $VQ_PYTHON, .venv-bench/, python3; see bench/README.md for a pip PyTorch venv): pytorch columns are null');
    return null;
  }
  if (torchInfo.blas === 'generic') {
    notes.push(`PyTorch ${torchInfo.torch} at ${torchInfo.python} uses the generic reference BLAS (BLAS_INFO=generic, e.g. Debian's python3-torch): its matmuls and conv backward are far slower than a pip build's, so ratios against it flatter TensorFlow.js`);
  }
  const torchThreads = [...new Set([1, ...threads, cores].filter((t) => t <= cores))].sort((a, b) => a - b);
  const vqNs = [...new Set(rows.filter((r) => r.name === 'vq-layer').map(vqNOf))];
  // What the early (interleaved) runs measured need not run again: the remaining thread counts, and
  // vq-layer at the N wasm's heap allowed.
  const runs = torchRuns(o, torchInfo, torchThreads.filter((t) => !early.has(t)), vqNs, peaks);
  for (const [t, run] of early) {
    const more = vqNs.filter((n) => n !== o.vqN && o.cases.includes('vq-layer'));
    for (const n of more) {
      const r = runTorch(torchInfo.python, t, ['vq-layer'], o, n);
      if (r) run.cases.push(...r.cases.map((c) => ({ ...c, n })));
    }
    runs.set(t, run);
  }
  for (const r of rows) {
    // Ours against PyTorch at the same thread count (the pure-JS cpu backend: 1 thread).
    const t = r.threads ?? 1;
    const c = runs.get(t)?.cases.find((k) => sameCase(r, k));
    if (c) {
      r.pytorch = c.value;
      r.pytorch_threads = t;
      r.pytorch_ms = c.ms;
      r.ratio = r.ours / c.value;
      r.pytorch_peak_rss_kib = c.peak_rss_kib ?? null;
    }
  }
  return torchInfo;
}

/** Everything a run measured, as the two reports take it. */
interface Report {
  machine: Machine;
  torchInfo: TorchInfo | null;
  rows: Row[];
  notes: string[];
  profiles: Record<string, Profile>;
  peaks: Peak[];
  torchPeaks: TorchPeaks;
}

/** A table's lines: columns padded to their width, those in `left` to the left, the others to the right. */
function tableLines(header: string[], body: string[][], left: number[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (left.includes(i) ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)];
}

/** The main table: one row per case, backend, thread count (and VQ-VAE batch size). */
function caseLines(rows: Row[]): string[] {
  // The VQ-VAE step names its batch only when a run has batch sizes other than the default 256.
  const scaled = rows.some((r) => r.batch !== null && r.batch !== 256);
  const header = ['case', 'backend', 'threads', 'ours', 'unit', 'ms/step', 'PyTorch', 'PyT thr', 'PyT ms', 'ours/PyTorch'];
  const body = rows.map((r) => [
    scaled && r.batch !== null ? `${r.name} (batch ${r.batch})` : r.name,
    r.backend, r.threads === null ? '—' : String(r.threads), fmt(r.ours), r.unit, fmt(r.ms, 1),
    fmt(r.pytorch), r.pytorch_threads === null ? '—' : String(r.pytorch_threads), fmt(r.pytorch_ms, 1),
    r.ratio === null ? '—' : `${r.ratio.toFixed(2)}x`,
  ]);
  return tableLines(header, body, [0, 1, 4]);
}

/**
 * The VQ-VAE step's ours / PyTorch (images/s) at each batch size, a line per backend and thread
 * count; nothing unless the run had ≥ 2 batch sizes and PyTorch ran.
 */
function batchLines(rows: Row[]): string[] {
  const vq = rows.filter((r) => r.name === 'vqvae-train-step' && r.batch !== null);
  const batches = [...new Set(vq.map((r) => r.batch as number))].sort((a, b) => a - b);
  if (batches.length < 2 || vq.every((r) => r.ratio === null)) return [];
  const key = (r: Row): string => `${r.backend} ${r.threads}`;
  const body = [...new Set(vq.map(key))].map((k) => {
    const of = vq.filter((r) => key(r) === k);
    const cell = (b: number): string => {
      const r = of.find((x) => x.batch === b);
      return r === undefined || r.ratio === null ? '—' : `${r.ratio.toFixed(2)}x`;
    };
    return [of[0].backend, of[0].threads === null ? '—' : String(of[0].threads), ...batches.map(cell)];
  });
  const header = ['backend', 'threads', ...batches.map((b) => `batch ${b}`)];
  return ['vqvae-train-step by batch size, ours / PyTorch in images/s (> 1: faster):', ...tableLines(header, body, [0, 1])];
}

/** Each of our processes' peak RSS beside PyTorch's at the same thread count, MiB. */
function peakLines(peaks: Peak[], torchPeaks: TorchPeaks): string[] {
  if (!peaks.length) return [];
  const mib = (kib: number | null | undefined): string => (kib === null || kib === undefined ? '—' : fmt(kib / 1024));
  const body = peaks.map((p) => {
    const torch = torchPeaks.get(p.threads ?? 1);
    return [p.backend, p.threads === null ? '—' : String(p.threads), p.process, mib(p.kib), mib(p.startKib), mib(torch?.kib), mib(torch?.startKib)];
  });
  return [
    'peak RSS per process, MiB (getrusage maxrss over all the cases a process ran; "at start": once loaded, before the first case; main runs wasm, then cpu, so its rows include those above; PyTorch: its largest process at that thread count):',
    ...tableLines(['backend', 'threads', 'process', 'ours', 'at start', 'PyTorch', 'at start'], body, [0, 2]),
  ];
}

/** The printed report: machine, PyTorch, the table of rows, notes, batch scaling, peak RSS, kernel profiles. */
function reportText(rep: Report): string {
  const { machine, torchInfo, rows, notes, profiles } = rep;
  const out: string[] = [];
  out.push(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memGiB} GiB, ${machine.platform}, node ${machine.node}, tfjs ${machine.tfjs}, load ${machine.loadavg.join(' ')}`);
  if (torchInfo) out.push(`pytorch: ${torchInfo.torch} (${torchInfo.python}, BLAS ${torchInfo.blas})`);
  out.push(...caseLines(rows));
  for (const r of rows) if (r.note) out.push(`note (${r.name}, ${r.backend}${r.threads ? ` ${r.threads}t` : ''}): ${r.note}`);
  for (const n of notes) out.push(`note: ${n}`);
  out.push(...batchLines(rows), ...peakLines(rep.peaks, rep.torchPeaks));
  for (const [k, p] of Object.entries(profiles)) {
    const total = p.kernels.reduce((a, b) => a + b.ms, 0);
    out.push(`profile of one VQ-VAE step (${p.model}), ${k}: ${total.toFixed(0)} ms in kernels (per-kernel minimum of 3 steps)`);
    for (const e of p.kernels.slice(0, 14)) out.push(`  ${e.kernel.padEnd(22)} ${e.ms.toFixed(1).padStart(8)} ms  ${String(e.calls).padStart(4)} calls  ${((100 * e.ms) / total).toFixed(1).padStart(5)}%`);
  }
  return `${out.join('\n')}\n`;
}

/** The --json line: the same run as one object (RSS in KiB). */
function reportJson(rep: Report): string {
  const { machine, torchInfo, rows, notes, profiles, peaks, torchPeaks } = rep;
  const json = {
    machine,
    pytorch: torchInfo,
    cases: rows.map((r) => ({
      name: r.name, backend: r.backend, threads: r.threads, unit: r.unit, ours: r.ours, pytorch: r.pytorch, ratio: r.ratio,
      ms_per_step: r.ms, median_of: r.steps, pytorch_threads: r.pytorch_threads, pytorch_ms_per_step: r.pytorch_ms,
      batch: r.batch, peak_rss_kib: r.peak_rss_kib, pytorch_peak_rss_kib: r.pytorch_peak_rss_kib,
      impl: r.impl, ...(r.note ? { note: r.note } : {}),
    })),
    peak_rss: peaks.map((p) => {
      const t = p.threads ?? 1;
      const torch = torchPeaks.get(t);
      return {
        backend: p.backend, threads: p.threads, process: p.process, peak_rss_kib: p.kib, start_rss_kib: p.startKib,
        pytorch_threads: torch ? t : null, pytorch_peak_rss_kib: torch?.kib ?? null, pytorch_start_rss_kib: torch?.startKib ?? null,
      };
    }),
    notes,
    ...(Object.keys(profiles).length ? { profiles } : {}),
  };
  return `${JSON.stringify(json)}\n`;
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const childThreads = process.env.VQ_BENCH_NATIVE_THREADS;
  if (childThreads) return nativeChildMain(o, Number(childThreads));
  tf.enableProdMode();
  const machine = machineInfo();
  const threads = o.threads.length ? o.threads : machine.cores >= 2 ? [1, 2] : [1];
  const rep: Report = { machine, torchInfo: null, rows: [], notes: [], profiles: {}, peaks: [], torchPeaks: new Map() };
  // Native and PyTorch side by side in time (alternating when --rounds > 1), then wasm and cpu.
  const nativeRounds: Row[][] = [];
  const torchRounds: Map<number, TorchRun>[] = [];
  const torchInfo = o.pytorch ? findPython(o.python) : null;
  for (let r = 0; r < o.rounds; r++) {
    const rows: Row[] = [];
    benchNative(o, threads, rows, r === 0 ? rep.peaks : [], r === 0 ? rep.notes : [], r === 0 ? rep.profiles : {});
    nativeRounds.push(rows);
    if (torchInfo) torchRounds.push(torchRuns(o, torchInfo, threads.filter((t) => t <= machine.cores), [o.vqN], r === 0 ? rep.torchPeaks : new Map()));
  }
  rep.rows.push(...medianRounds(nativeRounds));
  if (o.rounds > 1) rep.notes.push(`native and PyTorch times are medians over ${o.rounds} alternating rounds (native, then PyTorch)`);
  await benchWasm(o, threads, rep.rows, rep.peaks, rep.notes, rep.profiles);
  await benchCpu(o, rep.rows, rep.peaks, rep.notes);
  if (o.pytorch) rep.torchInfo = comparePyTorch(o, torchInfo, threads, machine.cores, rep.rows, rep.notes, rep.torchPeaks, medianTorchRounds(torchRounds));
  process.stdout.write(reportText(rep));
  if (o.json) process.stdout.write(reportJson(rep));
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`bench failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exit(1);
  },
);
