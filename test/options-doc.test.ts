/**
 * docs/options.md is generated from the `*_OPTIONS` tables in lib/ (scripts/option-tables.mjs):
 * it must match what the script writes from the current sources, and the script's --check must
 * fail on a stale copy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const SCRIPT = path.join(ROOT, 'scripts', 'option-tables.mjs');
const DOC = path.join(ROOT, 'docs', 'options.md');

function check(out: string): { status: number | null; text: string } {
  const r = spawnSync(process.execPath, [SCRIPT, '--check', '--out', out], { cwd: ROOT, encoding: 'utf8' });
  return { status: r.status, text: `${r.stdout}${r.stderr}` };
}

test('docs/options.md is what scripts/option-tables.mjs writes from lib/ (re-run it after changing an option table)', () => {
  const r = check(DOC);
  assert.equal(r.status, 0, r.text);
});

test('docs/options.md documents the quantizers\' tables, every option with its default', () => {
  const doc = fs.readFileSync(DOC, 'utf8');
  for (const table of ['VQ_OPTIONS', 'EMA_OPTIONS', 'FSQ_OPTIONS', 'LFQ_OPTIONS', 'SIMVQ_OPTIONS', 'RESIDUAL_VQ_OPTIONS']) {
    assert.match(doc, new RegExp(`^## ${table}$`, 'm'), table);
  }
  assert.match(doc, /^\| `codebookSize` \| \*\*required\*\* \|/m);
  assert.match(doc, /^\| `commitmentWeight` \| `0\.25` \|/m);
  assert.match(doc, /^\| `deadCodeThreshold` \| `null` \|/m);
});

test('a stale docs/options.md fails the check, with the command that fixes it', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vq-options-'));
  try {
    const stale = path.join(dir, 'options.md');
    fs.writeFileSync(stale, fs.readFileSync(DOC, 'utf8').replace('| `commitmentWeight` | `0.25` |', '| `commitmentWeight` | `1` |'));
    const r = check(stale);
    assert.equal(r.status, 1, r.text);
    assert.match(r.text, /out of date: run `node scripts\/option-tables\.mjs`/);
    const missing = check(path.join(dir, 'none.md'));
    assert.equal(missing.status, 1, missing.text);
    assert.match(missing.text, /missing/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
