/**
 * The README's quick start runs as written: the ```ts block(s) under "## Use the library" are
 * saved as one ES module inside the checkout (so `import … from 'vq-notebooks'` resolves to this
 * package through its own "exports", as it would for an installed copy) and run with Node on
 * the test backend against the built library (dist/lib). It must exit 0 and print what the
 * README's ```text block says it prints (the backend line aside).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { TEST_BACKEND } from './support/backend';

const ROOT = path.join(__dirname, '..', '..');
const HEADING = '## Use the library';

/** The README section under HEADING: its ```ts code and its ```text output. */
export function quickStart(readme: string): { code: string; output: string[] } {
  const start = readme.indexOf(`\n${HEADING}\n`);
  assert.ok(start >= 0, `README.md has no "${HEADING}" section`);
  const rest = readme.slice(start + HEADING.length + 2);
  const end = rest.search(/^## /m);
  const section = end === -1 ? rest : rest.slice(0, end);
  const blocks = (lang: string): string[] => [...section.matchAll(new RegExp('^```' + lang + '\\n([\\s\\S]*?)^```', 'gm'))].map((m) => m[1]);
  const code = blocks('ts');
  assert.ok(code.length > 0, `no \`\`\`ts block under "${HEADING}"`);
  const output = blocks('text').join('').split('\n').filter((l) => l !== '');
  return { code: code.join('\n'), output };
}

/** Lines that depend on the machine (which backends load), left out of the comparison. */
const machineLine = (l: string): boolean => l.startsWith('backend: ') || l.startsWith('  skipped ');

test('the README quick start imports the package by name and uses the library', () => {
  const { code, output } = quickStart(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
  assert.match(code, /from 'vq-notebooks'/);
  assert.ok(output.length >= 2, 'the README shows what the quick start prints');
});

test(`the README quick start runs as written and prints what the README says (${TEST_BACKEND})`, () => {
  assert.ok(fs.existsSync(path.join(ROOT, 'dist', 'lib', 'index.js')), 'dist/lib is built (npm run build)');
  const { code, output } = quickStart(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
  const dir = path.join(ROOT, '.tmp');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `quickstart-${process.pid}.mjs`);
  fs.writeFileSync(file, code);
  try {
    const r = spawnSync(process.execPath, [file], {
      cwd: ROOT, encoding: 'utf8', timeout: 180_000,
      env: { ...process.env, VQ_BACKEND: TEST_BACKEND, TF_CPP_MIN_LOG_LEVEL: '2' },
    });
    assert.equal(r.status, 0, `the quick start failed (exit ${r.status}, ${r.signal ?? 'no signal'}):\n${r.stdout}\n${r.stderr}`);
    const lines = r.stdout.split('\n').filter((l) => l !== '');
    assert.match(lines[0] ?? '', new RegExp(`^backend: ${TEST_BACKEND} `), r.stdout);
    assert.deepEqual(lines.filter((l) => !machineLine(l)), output.filter((l) => !machineLine(l)), r.stdout);
  } finally {
    fs.rmSync(file, { force: true });
  }
});
