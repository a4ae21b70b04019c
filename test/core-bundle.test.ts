/**
 * The browser-safe core (lib/core.ts, `vq-notebooks/core`) bundles for the browser: esbuild
 * (platform 'browser', format esm, bundle) must find nothing in it that needs Node.
 *  - With @tensorflow/* external (what a page that loads tfjs itself would bundle): no import of a
 *    Node builtin at all, and every file pulled in is a core-side lib/ file.
 *  - With tfjs bundled too: it builds (tfjs's own Node-only requires are switched off by its
 *    packages' "browser" fields; esbuild would fail on any other builtin), no lib/ file imports a
 *    builtin, and no Node-only package (sharp, pngjs, mnist, tslab, tfjs-node, …) is in it.
 * The sizes are printed (minified).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { builtinModules } from 'node:module';
import type * as esbuildTypes from 'esbuild';

const ROOT = path.join(__dirname, '..', '..');
const ENTRY = path.join(ROOT, 'lib', 'core.ts');
const NODE_ONLY_PACKAGES = ['sharp', 'pngjs', 'mnist', 'tslab', 'plotly.js-dist', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'zeromq'];
/** The Node side of lib/ (test/layout.test.ts keeps the same list). */
const NODE_SIDE = ['node/', 'checkpoint/', 'data/', 'native/', 'notebook/', 'index.ts', 'internal.ts', 'backend.ts', 'io.ts'];
const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

// eslint-disable-next-line @typescript-eslint/no-require-imports
const esbuild = require('esbuild') as typeof esbuildTypes;

async function bundle(external: string[]): Promise<{ bytes: number; inputs: string[]; builtinImports: { path: string; importer: string }[] }> {
  const builtinImports: { path: string; importer: string }[] = [];
  const r = await esbuild.build({
    entryPoints: [ENTRY], absWorkingDir: ROOT, bundle: true, platform: 'browser', format: 'esm', minify: true,
    write: false, metafile: true, logLevel: 'silent', external,
    plugins: [{
      name: 'record-node-builtins',
      setup(b) {
        b.onResolve({ filter: /.*/ }, (a) => {
          if (builtins.has(a.path) || a.path.startsWith('node:')) builtinImports.push({ path: a.path, importer: path.relative(ROOT, a.importer) });
          return undefined; // resolve as usual
        });
      },
    }],
  });
  return { bytes: r.outputFiles[0]!.contents.length, inputs: Object.keys(r.metafile.inputs), builtinImports };
}

test('the package exports the core as vq-notebooks/core', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pkg = require(path.join(ROOT, 'package.json')) as { exports: Record<string, { types?: string; default?: string }> };
  assert.deepEqual(pkg.exports['./core'], { types: './dist/lib/core.d.ts', default: './dist/lib/core.js' });
});

const kb = (b: number): string => `${(b / 1024).toFixed(0)} KiB`;

test('lib/core.ts bundles for the browser with tfjs external: no Node builtin, only core-side lib/ files', async () => {
  const { bytes, inputs, builtinImports } = await bundle(['@tensorflow/*']);
  assert.deepEqual(builtinImports, [], 'the core imports Node builtins');
  const outside = inputs.filter((f) => !f.startsWith('lib/'));
  assert.deepEqual(outside, [], 'files outside lib/ in the core bundle (with @tensorflow/* external)');
  const nodeSide = inputs.filter((f) => NODE_SIDE.some((n) => f.slice('lib/'.length).startsWith(n)));
  assert.deepEqual(nodeSide, [], 'Node-side lib/ files in the core bundle');
  assert.ok(inputs.includes('lib/core.ts') && inputs.includes('lib/quantizer/vq.ts'), inputs.join(', '));
  console.log(`core bundle, @tensorflow/* external: ${kb(bytes)} minified, ${inputs.length} files`);
});

test('lib/core.ts bundles for the browser with tfjs included: no Node-only package, lib/ imports no builtin', async () => {
  const { bytes, inputs, builtinImports } = await bundle([]);
  const ours = builtinImports.filter((i) => !i.importer.includes('node_modules'));
  assert.deepEqual(ours, [], 'lib/ files import Node builtins');
  const nodeOnly = inputs.filter((f) => NODE_ONLY_PACKAGES.some((p) => f.includes(`node_modules/${p}/`)));
  assert.deepEqual(nodeOnly, [], 'Node-only packages in the core bundle');
  const disabled = [...new Set(builtinImports.map((i) => i.path))].sort();
  console.log(`core bundle with tfjs: ${kb(bytes)} minified; builtins tfjs's packages switch off for browsers: ${disabled.join(', ') || 'none'}`);
});
