/**
 * The library's layering, checked on its sources: quantizer/, vqvae/, prior/ and display/ are
 * peers that do not import each other (their trainers share lib/train, a layer below them);
 * only notebook/ (and the entry point) combine them; only notebook/paths.ts guesses where the
 * repository is; argument checks come from lib/validate.ts alone.
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
