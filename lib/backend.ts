/**
 * Compute backend selection.
 *
 * Order tried (fastest first): tfjs-node-gpu (CUDA) → tfjs-node → wasm → cpu.
 * Override with the environment variable VQ_BACKEND = node-gpu | node | wasm | cpu
 * (the override is tried first; if it fails to load we still fall through, and say so).
 * VQ_WASM_THREADS = n runs wasm's threaded-SIMD build on n threads (lib/wasm/threads.ts); the
 * default is the number of cores, at most 4 (see defaultWasmThreads); 1 is the plain SIMD build.
 *
 * A backend that fails to load is reported in one line and skipped; this never throws
 * unless even the pure-JS cpu backend fails.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import os from 'node:os';
import { registerNativeKernels } from './native/index';
import { setNativeMemoryProbe } from './quantizer/memory';
import { registerWasmKernels, requestedWasmThreads, setWasmThreads, wasmThreadsChosen, wasmThreadsInUse } from './wasm/index';
import { checkOneOf, checkOptionNames } from './validate';

export type BackendChoice = 'node-gpu' | 'node' | 'wasm' | 'cpu';
export const BACKEND_ORDER: readonly BackendChoice[] = ['node-gpu', 'node', 'wasm', 'cpu'];

export interface BackendAttempt {
  choice: BackendChoice;
  ok: boolean;
  /** Why it failed (one line), or '' when it loaded. */
  reason: string;
}

export interface BackendInfo {
  /** The choice that loaded. */
  choice: BackendChoice;
  /** tf.getBackend() after selection: 'tensorflow', 'wasm' or 'cpu'. */
  tfBackend: string;
  attempts: BackendAttempt[];
  /**
   * Human-readable: the chosen backend, then one line per backend that failed to load, e.g.
   * "backend: wasm (tfjs 4.22.0)\n  skipped node-gpu: not installed\n  skipped node: not installed".
   */
  summary: string;
}

let selected: BackendInfo | null = null;

function oneLine(e: unknown, choice?: BackendChoice): string {
  const msg = e instanceof Error ? e.message : String(e);
  const first = msg.split('\n').find((l) => l.trim() !== '') ?? msg;
  if (/Cannot find module '@tensorflow\/tfjs-node(-gpu)?'/.test(first)) return 'not installed';
  // The package is installed but its native binding was never built (see scripts/native-build.mjs).
  if (/tfjs_binding\.node/.test(first)) {
    return choice === 'node-gpu' ? 'not built (`npm run setup:gpu` builds it on a machine with CUDA)' : 'not built (`npm run setup:native` builds it)';
  }
  return first.trim().slice(0, 200);
}

/** What the native backend runs on, e.g. "TensorFlow 2.16.2, CPU" or "TensorFlow 2.16.2, GPU". */
function nativeDevice(): string {
  const binding = (tf.backend() as unknown as { binding?: { TF_Version?: string; isUsingGpuDevice?: () => boolean } }).binding;
  const version = binding?.TF_Version ?? '?';
  const gpu = binding?.isUsingGpuDevice?.() ?? false;
  return `TensorFlow ${version}, ${gpu ? 'GPU' : 'CPU'}`;
}

/**
 * Threads for wasm when neither $VQ_WASM_THREADS nor setWasmThreads() chose: the machine's cores,
 * at most 4 (XNNPACK's gain flattens beyond that for these model sizes). On 2 idle cores a
 * VQ-VAE step runs ~1.4x faster on 2 threads; with the cores busy elsewhere it gains nothing.
 */
export function defaultWasmThreads(): number {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(4, cores));
}

/** Parse a $VQ_WASM_THREADS value: 1 when unset/empty; throws unless a positive integer. */
export function parseWasmThreads(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return 1;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`VQ_WASM_THREADS: expected a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

/** Parse a $VQ_BACKEND value: a choice, null when unset/empty; throws on anything else. */
export function parseBackendOverride(value: string | undefined): BackendChoice | null {
  if (value === undefined || value === '') return null;
  const v = value.trim().toLowerCase();
  if ((BACKEND_ORDER as readonly string[]).includes(v)) return v as BackendChoice;
  throw new Error(
    `VQ_BACKEND: expected one of ${BACKEND_ORDER.join(', ')}, got ${JSON.stringify(value)}`,
  );
}

async function tryChoice(choice: BackendChoice): Promise<void> {
  switch (choice) {
    case 'node-gpu':
    case 'node': {
      // The native packages register the 'tensorflow' backend on import (and throw
      // when libtensorflow or CUDA cannot be loaded). TensorFlow's C++ start-up notes go to stderr
      // unless TF_CPP_MIN_LOG_LEVEL says otherwise: keep warnings and errors only.
      process.env.TF_CPP_MIN_LOG_LEVEL ??= '1';
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        require(choice === 'node-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node');
      } catch (e) {
        // An installed but unbuilt package registers its kernels before its binding fails to load:
        // drop them, or the next native package's registration warns ~150 times ("already registered").
        for (const k of tf.getKernelsForBackend('tensorflow')) tf.unregisterKernel(k.kernelName, 'tensorflow');
        throw e;
      }
      if (!(await tf.setBackend('tensorflow'))) throw new Error('tensorflow backend failed to initialise');
      registerNativeKernels();
      // the quantizers' memory guard (lib/quantizer/memory.ts) stays browser-safe: the limit comes from here
      setNativeMemoryProbe(() => os.freemem());
      if (choice === 'node-gpu' && !nativeDevice().endsWith('GPU')) {
        // Unregister it so that 'node' can register its own 'tensorflow' backend next.
        tf.removeBackend('tensorflow');
        for (const k of tf.getKernelsForBackend('tensorflow')) tf.unregisterKernel(k.kernelName, 'tensorflow');
        throw new Error('tfjs-node-gpu loaded but TensorFlow sees no GPU (no CUDA driver, or no device visible)');
      }
      return;
    }
    case 'wasm': {
      const before = processHandlers();
      try {
        await startWasm();
      } finally {
        dropHandlersAddedSince(before);
      }
      return;
    }
    case 'cpu': {
      if (!(await tf.setBackend('cpu'))) throw new Error('cpu backend failed to initialise');
      // The cpu backend's one-time "install our node backend" banner (tfjs prints it on first use unless in
      // prod mode, which we no longer set): initBackend's summary already says which backend runs and why.
      (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
      return;
    }
  }
}

/**
 * The process-wide error handlers Emscripten's Node glue installs when the wasm module starts:
 * `uncaughtException → rethrow` and `unhandledRejection → throw`. They turn any later uncaught
 * error in the process (an un-awaited rejected promise in a notebook cell, a throw in a timer)
 * into exit code 7 with ~55 KB of minified Emscripten source on stderr, and they override the
 * handlers a host (the tslab kernel, a test runner) installed to stay alive. We remove exactly
 * the listeners added while the backend started, so Node's own behaviour (a short error, exit 1)
 * or the host's handlers apply again.
 */
const HANDLED_EVENTS = ['uncaughtException', 'unhandledRejection'] as const;
type ProcessHandlers = Record<(typeof HANDLED_EVENTS)[number], Function[]>;

/**
 * Emscripten's two handlers, recognised by their source: `function (ex) { if (!(ex instanceof
 * ExitStatus)) { throw ex; } }` and `function (reason) { throw reason; }`.
 */
function isEmscriptenHandler(f: Function): boolean {
  const src = Function.prototype.toString.call(f).replace(/\s+/g, ' ');
  return /instanceof ExitStatus\)\) ?\{? ?throw ex;? ?\}? ?\}$/.test(src) || /^function ?\(reason\) ?\{ ?throw reason;? ?\}$/.test(src);
}

/** The handlers there were when this module loaded (before any wasm start). */
const HANDLERS_AT_LOAD = processHandlers();

function processHandlers(): ProcessHandlers {
  return { uncaughtException: process.listeners('uncaughtException'), unhandledRejection: process.listeners('unhandledRejection') };
}

function dropHandlersAddedSince(before: ProcessHandlers): void {
  const proc: NodeJS.EventEmitter = process;
  for (const ev of HANDLED_EVENTS) {
    for (const l of proc.listeners(ev)) {
      if (!before[ev].includes(l)) proc.removeListener(ev, l as (...a: unknown[]) => void);
    }
  }
}

async function startWasm(): Promise<void> {
  // $VQ_WASM_THREADS, when set, wins over an earlier setWasmThreads(); reinit tears down a wasm
  // backend started with another thread count (its tensors go with it).
  const env = process.env.VQ_WASM_THREADS;
  const threads =
    env !== undefined && env.trim() !== '' ? parseWasmThreads(env)
    : wasmThreadsChosen() ? requestedWasmThreads()
    : defaultWasmThreads();
  if (threads !== requestedWasmThreads()) setWasmThreads(threads, { reinit: true });
  if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend failed to initialise');
  registerWasmKernels();
}

/**
 * Select the fastest backend that loads (or `prefer`, or $VQ_BACKEND) and return what happened.
 * Idempotent: a second call with no argument returns the first result.
 *
 * @param prefer force a choice first (falls through to the rest of the order when it fails)
 * @param opts.verbose print each failed backend's one-line reason as it happens (the reasons are
 *   always in the returned summary, which notebooks print in their first cell)
 */
export async function initBackend(
  prefer?: BackendChoice,
  opts: { verbose?: boolean; quiet?: boolean } = {},
): Promise<BackendInfo> {
  if (prefer !== undefined) checkOneOf('initBackend(prefer)', prefer, BACKEND_ORDER);
  checkOptionNames('initBackend(prefer, options)', opts, ['verbose', 'quiet']);
  if (selected && prefer === undefined) return selected;
  // No tf.enableProdMode(): in tfjs 4.22 it only silences tfjs's console warnings (measured: the same
  // ms per VQ-VAE step with and without it). Ragged nested arrays are refused instead of silently
  // truncated (tf.tensor([[0], [1, 2]]) → [[0], [1]]): a check at tensor creation from JS arrays only.
  tf.env().set('TENSORLIKE_CHECK_SHAPE_CONSISTENCY', true);
  if (!selected) await adoptLazyBackend();
  const override = prefer ?? parseBackendOverride(process.env.VQ_BACKEND);
  const order: BackendChoice[] = override
    ? [override, ...BACKEND_ORDER.filter((c) => c !== override)]
    : [...BACKEND_ORDER];
  const attempts: BackendAttempt[] = [];
  for (const choice of order) {
    try {
      await tryChoice(choice);
      attempts.push({ choice, ok: true, reason: '' });
      const failed = attempts.filter((a) => !a.ok).map((a) => `\n  skipped ${a.choice}: ${a.reason}`);
      selected = {
        choice,
        tfBackend: tf.getBackend(),
        attempts,
        summary:
          `backend: ${choice} (tfjs ${tf.version.tfjs}, tf.getBackend() = '${tf.getBackend()}'` +
          (choice === 'wasm' ? `, ${wasmThreadsInUse() ?? 1} thread(s))`
            : choice === 'node' || choice === 'node-gpu' ? `, ${nativeDevice()})` : ')') +
          failed.join(''),
      };
      return selected;
    } catch (e) {
      const reason = oneLine(e, choice);
      attempts.push({ choice, ok: false, reason });
      if (opts.verbose && !opts.quiet) console.warn(`[backend] ${choice} unavailable: ${reason}`);
    }
  }
  throw new Error(`no TensorFlow.js backend could be loaded: ${attempts.map((a) => `${a.choice}: ${a.reason}`).join('; ')}`);
}

/**
 * A tf op that ran before initBackend made tfjs pick its highest-priority registered backend
 * (wasm) by itself: its start is still pending (every later setBackend then fails with "Backend
 * 'tensorflow' has not yet been initialized"), Emscripten's rethrowing process handlers are
 * installed (a later stray error exits with code 7), and our wasm kernels are missing. Let that
 * start finish, then remove those handlers, so that selection proceeds as if initBackend had come
 * first (the early tensors stay valid: tfjs moves their data to the backend chosen).
 */
async function adoptLazyBackend(): Promise<void> {
  // (both are undefined, not null, on a fresh engine)
  const engine = tf.engine() as unknown as { backendName?: string | null; pendingBackendInit?: Promise<unknown> | null };
  if (!engine.backendName && !engine.pendingBackendInit) return;
  try {
    await tf.ready();
  } catch {
    // the lazy start failed: selection below tries every backend anyway
  }
  const proc: NodeJS.EventEmitter = process;
  for (const ev of HANDLED_EVENTS) {
    for (const l of proc.listeners(ev)) {
      if (!HANDLERS_AT_LOAD[ev].includes(l) && isEmscriptenHandler(l)) proc.removeListener(ev, l as (...a: unknown[]) => void);
    }
  }
}

/** The backend chosen by initBackend, or null before it ran. */
export function backendInfo(): BackendInfo | null {
  return selected;
}
