/**
 * The library's layering, checked on its sources: quantizer/, vqvae/, prior/ and display/ are
 * peers that do not import each other (their trainers share lib/train, a layer below them);
 * only notebook/ (and the entry points) combine them; only notebook/paths.ts guesses where the
 * repository is; argument checks come from lib/validate.ts alone. And every file is on one of two
 * sides: the core (runs wherever TensorFlow.js runs; lib/core.ts) or Node; a core-side file
 * imports only core-side files and tfjs, never a Node builtin or a Node-only package
 * (test/core-bundle.test.ts bundles the core for the browser).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const LIB = path.join(__dirname, '..', '..', 'lib');

/** Every lib/ source file (relative path) with the lib/ folders it imports ('' for lib/*.ts). */
function imports(): { file: string; text: string; targets: string[] }[] {
  const out: { file: string; text: string; targets: string[] }[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) {
        const text = fs.readFileSync(p, 'utf8');
        const targets = [...text.matchAll(/from '(\.[^']*)'/g)].map((m) => path.relative(LIB, path.resolve(path.dirname(p), m[1])));
        out.push({ file: path.relative(LIB, p), text, targets });
      }
    }
  };
  walk(LIB);
  return out;
}

const folderOf = (rel: string): string => (rel.includes(path.sep) ? rel.split(path.sep)[0] : '');

test('quantizer/, vqvae/, prior/ and display/ do not import each other; only notebook/ combines them', () => {
  const peers = ['quantizer', 'vqvae', 'prior', 'display'];
  const files = imports();
  assert.ok(files.length > 30, `found ${files.length} sources under ${LIB}`);
  for (const { file, targets } of files) {
    const from = folderOf(file);
    for (const t of targets) {
      const to = folderOf(t);
      if (from === to || from === 'notebook' || file === 'index.ts') continue;
      if (peers.includes(from) && peers.includes(to)) {
        // The one import between these folders is a layer, not a peer: the VQ-VAE takes its quantizer through the protocol (types).
        if (!(from === 'vqvae' && t === path.join('quantizer', 'protocol'))) assert.fail(`${file} imports ${t}: ${from}/ and ${to}/ are peers`);
      }
      if (from === 'quantizer') assert.ok(!['vqvae', 'prior', 'display'].includes(to), `${file} imports ${t}: quantizer/ sits below the VQ-VAE and the prior`);
      assert.notEqual(to, 'notebook', `${file} imports ${t}: only notebook/ and index.ts may use notebook/`);
      if (from === 'train') assert.ok(!peers.includes(to), `${file} imports ${t}: train/ sits below the peers it trains`);
    }
  }
});

test('only notebook/paths.ts guesses the repository; validation lives in validate.ts alone', () => {
  for (const { file, text } of imports()) {
    if (file !== path.join('notebook', 'paths.ts')) assert.ok(!/__dirname|repoRoot\(/.test(text), `${file} guesses the repository`);
    if (file !== 'validate.ts') {
      assert.ok(!/function (checkInt|checkKeys|checkNumber|checkOptionNames)\b/.test(text), `${file} defines its own argument check`);
    }
  }
});

/** Where each lib/ file runs (a folder, or a file of lib/ itself). test/core-bundle.test.ts keeps NODE_SIDE too. */
const CORE_SIDE = [
  'quantizer/', 'nn/', 'train/', 'vqvae/', 'prior/', 'display/', 'wasm/',
  'core.ts', 'backend-core.ts', 'metrics.ts', 'rng.ts', 'validate.ts', 'interrupt.ts',
];
const NODE_SIDE = ['node/', 'checkpoint/', 'data/', 'native/', 'notebook/', 'index.ts', 'internal.ts', 'backend.ts', 'io.ts'];
/** The only packages a core-side file may import. */
const CORE_PACKAGES = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm'];

const sideOf = (rel: string): 'core' | 'node' | null => {
  const p = rel.split(path.sep).join('/');
  const core = CORE_SIDE.some((c) => (c.endsWith('/') ? p.startsWith(c) : p === c));
  const node = NODE_SIDE.some((c) => (c.endsWith('/') ? p.startsWith(c) : p === c));
  return core === node ? null : core ? 'core' : 'node';
};

/** Source without comments (a comment may name Node freely). */
const code = (text: string): string => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');

test('every lib/ file is on one side; core-side files import only core-side files and tfjs, nothing of Node', () => {
  const files = imports();
  for (const { file, text } of files) {
    const side = sideOf(file);
    assert.ok(side !== null, `${file}: add it (or its folder) to CORE_SIDE or NODE_SIDE in test/layout.test.ts`);
    if (side !== 'core') continue;
    const src = code(text);
    const specs = [...src.matchAll(/(?:\bfrom\s*|\bimport\s*|\brequire\s*\(\s*)'([^']+)'/g)].map((m) => m[1]!);
    for (const spec of specs) {
      if (spec.startsWith('.')) {
        const target = path.relative(LIB, path.resolve(path.dirname(path.join(LIB, file)), spec));
        const t = fs.existsSync(path.join(LIB, `${target}.ts`)) ? `${target}.ts` : path.join(target, 'index.ts');
        assert.equal(sideOf(t), 'core', `${file} imports ${spec}: a core-side file imports only core-side files (${t} is on the Node side)`);
      } else {
        assert.ok(CORE_PACKAGES.includes(spec), `${file} imports '${spec}': a core-side file imports only ${CORE_PACKAGES.join(', ')}`);
      }
    }
    assert.ok(!/\brequire\s*\(|\bimport\s+\w+\s*=\s*require\b/.test(src), `${file} uses require: core-side files use static imports only`);
    assert.ok(!/\bBuffer\b|\b__dirname\b|\b__filename\b/.test(src), `${file} uses Buffer or __dirname (Node only)`);
    for (const line of src.split('\n')) {
      for (const g of ['process', 'setImmediate']) {
        if (new RegExp(`\\b${g}\\b`).test(line.replace(/'[^']*'|`[^`]*`/g, ''))) {
          assert.ok(line.includes(`typeof ${g}`), `${file}: '${line.trim()}' uses ${g} without a typeof check on the same line (browsers have none)`);
        }
      }
    }
  }
  assert.ok(files.some((f) => sideOf(f.file) === 'core') && files.some((f) => sideOf(f.file) === 'node'));
});
