/**
 * Set up before any library module runs (entry.ts imports this first):
 *  - where the bundle's own assets are (mnist-digits.bin, for shims/mnist.cjs);
 *  - `process` when the host has none (the TypeScript kernel provides one, with cells' env);
 *    VQ_WASM_THREADS=1 keeps the library off its Node-only threaded start (lib/node/wasm-threads.ts):
 *    in a browser tfjs-backend-wasm picks its threaded SIMD build by itself where the page is
 *    cross-origin isolated;
 *  - a minimal global `require` for the library's `require.resolve`/`require.cache` uses (the
 *    esbuild bundle's `__require` falls back to it): lib/node/tslab.ts looks for tslab's display
 *    writer in `require.cache[<tslab>/dist/jupyter.js]`; here that is the kernel's
 *    `globalThis.tslab` writer (entry.ts also sets it with setDisplayWriter);
 *  - setImmediate when missing.
 */
const G = globalThis as unknown as Record<string, any>;

G.__vqLiteAssets = { mnist: new URL('./mnist-digits.bin', import.meta.url).href };

if (typeof G.process === 'undefined') {
  G.process = {
    env: {},
    pid: 0,
    browser: true,
    versions: {},
    listeners: () => [],
    on() {},
    removeListener() {},
    stdout: { isTTY: false, write: (s: string) => (console.log(String(s).replace(/\n$/, '')), true) },
    stderr: { isTTY: false, write: (s: string) => (console.error(String(s).replace(/\n$/, '')), true) },
  };
}
G.process.env ??= {};
G.process.env.VQ_WASM_THREADS ??= '1';

if (typeof G.setImmediate === 'undefined') G.setImmediate = (f: (...a: unknown[]) => void, ...a: unknown[]) => setTimeout(f, 0, ...a);

const TSLAB_JUPYTER = 'tslab/dist/jupyter.js';
if (typeof G.require === 'undefined') {
  const req = (id: string) => {
    throw new Error(`Cannot find module '${id}' (in the browser bundle)`);
  };
  req.resolve = (id: string) => id;
  req.cache = {
    [TSLAB_JUPYTER]: {
      get exports() {
        return { lastWriteDisplayData: G.tslab?.lastWriteDisplayData ?? null };
      },
    },
  };
  G.require = req;
}
export {};
