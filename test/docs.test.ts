/**
 * Facts the documentation states that the repository must keep true: environment.yml pins the
 * same Python packages as requirements.txt, the Python version the README asks for is the one
 * scripts/pyenv.mjs checks, and every relative link of the README and docs/ leads to a file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const read = (rel: string): string => fs.readFileSync(path.join(ROOT, rel), 'utf8');

/** `name==version` lines, names normalised as pip does (case, - and _). */
function pins(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^[\s-]*([A-Za-z0-9_.-]+)==([^\s#]+)\s*$/gm)) out.set(m[1].toLowerCase().replace(/[-_.]+/g, '-'), m[2]);
  return out;
}

test('environment.yml pins exactly the packages and versions of requirements.txt', () => {
  const req = pins(read('requirements.txt'));
  const env = pins(read('environment.yml'));
  assert.ok(req.size >= 7 && req.has('jupyter-client'), `requirements.txt: ${[...req.keys()].join(', ')}`);
  assert.deepEqual([...env.entries()].sort(), [...req.entries()].sort());
});

test('the README asks for the Python version scripts/pyenv.mjs checks', () => {
  const m = /sys\.version_info >= \(3, (\d+)\)/.exec(read('scripts/pyenv.mjs'));
  assert.ok(m, 'scripts/pyenv.mjs checks sys.version_info');
  assert.match(read('README.md'), new RegExp(`Python ≥ 3\\.${m[1]}\\b`));
  assert.match(read('docs/setup.md'), new RegExp(`Python ≥ 3\\.${m[1]}\\b`));
});

test('relative links in README.md, CONTRIBUTING.md and docs/ lead to files', () => {
  const pages = ['README.md', 'CONTRIBUTING.md', ...fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  for (const page of pages) {
    for (const m of read(page).matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1].split('#')[0];
      if (target === '' || /^[a-z]+:/.test(target)) continue;
      assert.ok(fs.existsSync(path.join(ROOT, path.dirname(page), target)), `${page} links to ${m[1]}, which does not exist`);
    }
  }
});

test('the README front figure is a committed PNG under 200 KB', () => {
  const m = /!\[[^\]]*\]\((docs\/img\/[^)]+\.png)\)/.exec(read('README.md'));
  assert.ok(m, 'the README shows a figure from docs/img/');
  assert.ok(fs.statSync(path.join(ROOT, m[1])).size < 200 * 1024);
});
