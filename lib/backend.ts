/**
 * Compute backend selection under Node: the host lib/backend-core.ts's initBackend uses here,
 * installed when this module loads (the package's main entry loads it).
 *
 * Order tried (fastest first): tfjs-node-gpu (CUDA) → tfjs-node → wasm → cpu.
 * Override with the environment variable VQ_BACKEND = node-gpu | node | wasm | cpu | webgpu
 * (the override is tried first; if it fails to load we still fall through, and say so).
 * webgpu (TensorFlow.js's WebGPU backend on Dawn, lib/node/webgpu.ts; optional packages,
 * `npm run setup:webgpu`) is never in the order: only $VQ_BACKEND=webgpu or initBackend('webgpu')
 * try it.
 * VQ_WASM_THREADS = n runs wasm's threaded-SIMD build on n threads (lib/node/wasm-threads.ts); the
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
import { registerWasmKernels, wasmThreadsInUse } from './wasm/index';
import { requestedWasmThreads, setWasmThreads, wasmThreadsChosen } from './node/wasm-threads';
import { startWebgpu, webgpuDetail } from './node/webgpu';
import { BackendChoice, BackendHost, firstLine, setBackendHost, settleLazyBackend, startCpuBackend } from './backend-core';

export { initBackend, backendInfo } from './backend-core';
export type { BackendChoice, BackendAttempt, BackendInfo } from './backend-core';

/** The backends initBackend tries under Node, fastest first. */
export const BACKEND_ORDER: readonly BackendChoice[] = ['node-gpu', 'node', 'wasm', 'cpu'];

/** Backends tried under Node only when named ($VQ_BACKEND or initBackend's `prefer`), never in turn. */
export const BACKENDS_BY_NAME: readonly BackendChoice[] = ['webgpu'];

function oneLine(e: unknown, choice?: BackendChoice): string {
  const first = firstLine(e);
  if (/Cannot find module '@tensorflow\/tfjs-node(-gpu)?'/.test(first)) return 'not installed';
  // The package is installed but its native binding was never built (see scripts/native-build.mjs).
  if (/tfjs_binding\.node/.test(first)) {
    return choice === 'node-gpu' ? 'not built (`npm run setup:gpu` builds it on a machine with CUDA)' : 'not built (`npm run setup:native` builds it)';
  }
  return first;
}

/** What the native backend runs on, e.g. "TensorFlow 2.16.2, CPU" or "TensorFlow 2.16.2, GPU". */
function nativeDevice(): string {
  const binding = (tf.backend() as unknown as { binding?: { TF_Version?: string; isUsingGpuDevice?: () => boolean } }).binding;
  const version = binding?.TF_Version ?? '?';
  const gpu = binding?.isUsingGpuDevice?.() ?? false;
  const threads = nativeThreads();
  return `TensorFlow ${version}, ${gpu ? 'GPU' : 'CPU'}${threads ? `, ${threads} intra-op thread${threads === 1 ? '' : 's'}` : ''}`;
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

/**
 * TensorFlow's intra-op thread count as it is read when the native backend loads ($TF_NUM_INTRAOP_THREADS;
 * null: every core). Not chosen for the user: on a 2-core VM one thread made notebook 07's PixelCNN
 * prior ~20% faster and notebook 06's VQ-VAE ~20% slower (docs/performance.md).
 */
function nativeThreads(): number | null {
  const v = process.env.TF_NUM_INTRAOP_THREADS;
  return v !== undefined && v.trim() !== '' && Number(v) > 0 ? Number(v) : null;
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
  const accepted: readonly string[] = [...BACKEND_ORDER, ...BACKENDS_BY_NAME];
  if (accepted.includes(v)) return v as BackendChoice;
  throw new Error(
    `VQ_BACKEND: expected one of ${accepted.join(', ')}, got ${JSON.stringify(value)}`,
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
      await startCpuBackend();
      return;
    }
    case 'webgpu': {
      await startWebgpu();
      return;
    }
    default:
      throw new Error(`${choice} needs a browser`);
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
 * A tf op that ran before initBackend made tfjs pick its highest-priority registered backend
 * (wasm) by itself: its start is still pending (every later setBackend then fails with "Backend
 * 'tensorflow' has not yet been initialized"), Emscripten's rethrowing process handlers are
 * installed (a later stray error exits with code 7), and our wasm kernels are missing. Let that
 * start finish, then remove those handlers, so that selection proceeds as if initBackend had come
 * first (the early tensors stay valid: tfjs moves their data to the backend chosen).
 */
async function adoptLazyBackend(): Promise<void> {
  if (!(await settleLazyBackend())) return;
  const proc: NodeJS.EventEmitter = process;
  for (const ev of HANDLED_EVENTS) {
    for (const l of proc.listeners(ev)) {
      if (!HANDLERS_AT_LOAD[ev].includes(l) && isEmscriptenHandler(l)) proc.removeListener(ev, l as (...a: unknown[]) => void);
    }
  }
}

/** Node's host for initBackend (lib/backend-core.ts), installed below. */
const NODE_HOST: BackendHost = {
  order: BACKEND_ORDER,
  byName: BACKENDS_BY_NAME,
  load: tryChoice,
  detail: (choice) =>
    choice === 'wasm' ? `, ${wasmThreadsInUse() ?? 1} thread(s)`
    : choice === 'node' || choice === 'node-gpu' ? `, ${nativeDevice()}`
    : choice === 'webgpu' ? webgpuDetail() : '',
  reason: (choice, e) => oneLine(e, choice),
  override: () => parseBackendOverride(process.env.VQ_BACKEND),
  prepare: adoptLazyBackend,
};
setBackendHost(NODE_HOST);
