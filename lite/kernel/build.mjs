#!/usr/bin/env node
/**
 * Builds the kernel as a prebuilt JupyterLab/JupyterLite extension in labextension/:
 *  1. tsc: src/ → lib/ (what the extension builder bundles);
 *  2. `jupyter-builder build .` (JupyterLab 4.6's extension builder: the jupyter_builder Python
 *     package with the npm @jupyter/builder and @jupyterlab/core-meta pinned here, so nothing is
 *     downloaded): lib/index.js → labextension/ (remoteEntry, chunks, package.json), with
 *     @jupyterlite/services shared with the app (not bundled);
 *  3. esbuild: src/worker.ts and the TypeScript compiler → labextension/static/worker.js, one
 *     ES module the kernel starts as its Web Worker (kept out of webpack: it is 3 MB of
 *     already-minified code).
 *
 *   node lite/kernel/build.mjs [--bin <the Python environment's bin folder>]
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
// The Python environment's bin folder (jupyter-builder, a dependency of jupyterlab 4.6), else PATH.
const argBin = process.argv.indexOf('--bin');
const pyBin = argBin > 0 ? path.resolve(process.argv[argBin + 1]) : null;

function run(cmd, args, what) {
  const t = Date.now();
  const env = pyBin ? { ...process.env, PATH: `${pyBin}${path.delimiter}${process.env.PATH}` } : process.env;
  const r = spawnSync(cmd, args, { cwd: HERE, stdio: 'inherit', env });
  if (r.error || r.status !== 0) throw new Error(`${what} failed (${cmd} ${args.join(' ')}): ${r.error?.message ?? `exit code ${r.status}`}`);
  console.log(`[kernel] ${what}: ${((Date.now() - t) / 1000).toFixed(1)} s`);
}

if (!fs.existsSync(path.join(HERE, 'node_modules', '@jupyter', 'builder'))) {
  throw new Error(`lite/kernel/node_modules is missing: run \`npm ci --prefix ${path.relative(process.cwd(), HERE) || '.'}\``);
}
fs.rmSync(path.join(HERE, 'lib'), { recursive: true, force: true });
run(process.execPath, [path.join(HERE, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], 'tsc');
fs.rmSync(path.join(HERE, 'labextension'), { recursive: true, force: true });
run(pyBin ? path.join(pyBin, 'jupyter-builder') : 'jupyter-builder', ['build', '.'], 'jupyter-builder build');

const t = Date.now();
const esbuild = await import(path.join(HERE, 'node_modules', 'esbuild', 'lib', 'main.js'));
await esbuild.build({
  entryPoints: [path.join(HERE, 'src', 'worker.ts')],
  outfile: path.join(HERE, 'labextension', 'static', 'worker.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
  // the TypeScript compiler probes for Node modules it never needs in transpileModule
  external: ['fs', 'path', 'os', 'crypto', 'inspector', 'perf_hooks', 'buffer', 'source-map-support'],
});
console.log(`[kernel] esbuild worker: ${((Date.now() - t) / 1000).toFixed(1)} s, ${(fs.statSync(path.join(HERE, 'labextension', 'static', 'worker.js')).size / 1e6).toFixed(1)} MB`);
