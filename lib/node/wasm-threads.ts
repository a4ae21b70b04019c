/**
 * Multi-threaded wasm (XNNPACK's thread pool on the threaded-SIMD build) under Node.
 *
 * tfjs-backend-wasm 4.22 ships `tfjs-backend-wasm-threaded-simd.wasm` but never uses it in
 * Node, for three reasons, each worked around here:
 *  1. the flag WASM_HAS_MULTITHREAD_SUPPORT is hard-wired to false when IS_NODE;
 *  2. its loader hands Emscripten a `blob:` URL for the pthread worker script and a Blob for
 *     the main script; Node's worker_threads accept neither (we write the worker script to a
 *     file and point the main script at the package's own .js file);
 *  3. the C++ side caps the pool at emscripten_num_logical_cores()/2 (it assumes 2 hyper-
 *     threads per core), computed once when the module starts: on a 2-core machine, 1 thread.
 *     os.cpus() is what Emscripten reads under Node, so it is stretched while the module
 *     starts, and restored straight after.
 * The Emscripten build itself supports Node (worker_threads); Atomics.wait on the main
 * thread is allowed in Node.
 *
 * Usage: call `setWasmThreads(n)` BEFORE the wasm backend is first initialised (before
 * `tf.setBackend('wasm')` / `initBackend('wasm')`); n <= 1 keeps the shipped single-threaded
 * SIMD build. With `{ reinit: true }` an already-initialised wasm backend is torn down
 * (all tensors on it are lost) so the next `tf.setBackend('wasm')` starts the new build.
 */
import * as fs from 'fs';
// The real module object (a namespace import is a frozen copy): its cpus is patched briefly.
import os = require('os');
import * as path from 'path';
import * as crypto from 'crypto';
import * as tf from '@tensorflow/tfjs';
import * as wasmPkg from '@tensorflow/tfjs-backend-wasm';
import { writeFileAtomic } from '../io';

const WASM_PRIORITY = 2; // what tfjs-backend-wasm registers itself with

let requestedThreads = 1;
let chosen = false;
let shippedFactory: (() => tf.KernelBackend | Promise<tf.KernelBackend>) | null = null;

interface EmscriptenModule {
  cwrap: (name: string, ret: string | null, args: string[]) => (...a: number[]) => number;
  PThread?: unknown;
  [k: string]: unknown;
}
type ModuleFactory = (cfg: Record<string, unknown>) => Promise<EmscriptenModule>;

function wasmOutDir(): string {
  return path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'wasm-out');
}

/** Write the pthread worker script to a file Node's Worker can load; returns its path. */
function workerScriptPath(dir: string): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { wasmWorkerContents } = require(path.join(dir, 'tfjs-backend-wasm-threaded-simd.worker.js')) as {
    wasmWorkerContents: string;
  };
  // The script is stored in a template literal: its "\n" escapes became real newlines inside
  // string literals; tfjs undoes that the same way before making its Blob.
  const src = wasmWorkerContents.replace(/\n/g, '\\n');
  const hash = crypto.createHash('sha1').update(src).digest('hex').slice(0, 12);
  const file = path.join(os.tmpdir(), `tfjs-wasm-threaded-simd-worker-${hash}.js`);
  if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== src) writeFileAtomic(file, src);
  return file;
}

async function threadedBackend(threads: number): Promise<tf.KernelBackend> {
  const dir = wasmOutDir();
  const mainScript = path.join(dir, 'tfjs-backend-wasm-threaded-simd.js');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const factory = require(mainScript) as ModuleFactory;
  const worker = workerScriptPath(dir);
  const realCpus = os.cpus;
  const cpu0 = realCpus()[0];
  (os as { cpus: () => os.CpuInfo[] }).cpus = () => new Array<os.CpuInfo>(2 * threads).fill(cpu0);
  let module: EmscriptenModule;
  try {
    module = await factory({
      locateFile: (p: string, prefix: string) =>
        p.endsWith('.worker.js') ? worker
          : p.endsWith('.wasm') ? path.join(dir, 'tfjs-backend-wasm-threaded-simd.wasm')
            : prefix + p,
      mainScriptUrlOrBlob: mainScript,
    });
  } finally {
    (os as { cpus: () => os.CpuInfo[] }).cpus = realCpus;
  }
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  wasmPkg.setThreadsCount(threads);
  const Ctor = wasmPkg.BackendWasm as unknown as new (m: EmscriptenModule) => tf.KernelBackend;
  const backend = new Ctor(module); // creates XNNPACK's pool: threads - 1 pthreads start here
  // Emscripten ref()s the worker of each running pthread, and the pool's threads never exit:
  // unref them so that they do not keep Node alive after the program is done.
  const pthread = module.PThread as { runningWorkers?: Array<{ unref?: () => void }> } | undefined;
  for (const w of pthread?.runningWorkers ?? []) w.unref?.();
  return backend;
}

/**
 * Choose how many threads the wasm backend uses (see the file comment). Must run before the
 * wasm backend is initialised, unless `reinit` is set.
 */
export function setWasmThreads(n: number, opts: { reinit?: boolean } = {}): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`setWasmThreads: expected an integer >= 1, got ${n}`);
  // (tf.findBackend would start initialising the backend it looks up.)
  const engine = tf.engine() as unknown as { registry: Record<string, unknown>; pendingBackendInit: unknown; backendName: string | null };
  if ('wasm' in engine.registry || (engine.backendName === 'wasm' && engine.pendingBackendInit != null)) {
    if (!opts.reinit) {
      throw new Error('setWasmThreads: the wasm backend is already initialised; call it before tf.setBackend(\'wasm\') or pass { reinit: true }');
    }
  }
  if (shippedFactory === null) {
    shippedFactory = tf.findBackendFactory('wasm');
    if (shippedFactory === null) throw new Error('setWasmThreads: @tensorflow/tfjs-backend-wasm is not loaded');
  }
  tf.removeBackend('wasm');
  requestedThreads = n;
  chosen = true;
  if (n <= 1) {
    tf.registerBackend('wasm', shippedFactory, WASM_PRIORITY);
  } else {
    tf.registerBackend('wasm', () => threadedBackend(n), WASM_PRIORITY);
  }
}

/** Whether setWasmThreads() was called (else the backend picks its default). */
export function wasmThreadsChosen(): boolean {
  return chosen;
}

/** Threads requested with setWasmThreads (1 when never called). */
export function requestedWasmThreads(): number {
  return requestedThreads;
}

export { wasmThreadsInUse } from '../wasm/index';
