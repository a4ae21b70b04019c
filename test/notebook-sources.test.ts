/**
 * Every notebook ends with a "Sources" markdown cell whose references a reader can follow:
 * markdown links to http(s) addresses, arXiv papers linked by their abstract page, and every
 * arXiv id the notebook's prose cites linked there. The cells are written by
 * scripts/notebook-sources.mjs, which must agree with the notebooks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const NOTEBOOKS = path.join(ROOT, 'notebooks');

interface Cell { cell_type: string; id?: string; source: string | string[] }
interface Notebook { cells: Cell[] }

const text = (c: Cell): string => (Array.isArray(c.source) ? c.source.join('') : c.source);

/** What is wrong with a notebook's sources ([] when nothing). */
export function sourcesProblems(nb: Notebook): string[] {
  const problems: string[] = [];
  const markdown = nb.cells.filter((c) => c.cell_type === 'markdown');
  const cell = markdown.find((c) => /^#+ Sources\s*$/m.test(text(c).split('\n')[0]));
  if (!cell) return ['no markdown cell headed "Sources"'];
  if (nb.cells[nb.cells.length - 1] !== cell) problems.push('the Sources cell is not the last cell');
  const body = text(cell);
  const links = [...body.matchAll(/\[[^\]]+\]\((https?:\/\/[^)\s]+)\)/g)].map((m) => m[1]);
  if (links.length === 0) problems.push('the Sources cell has no markdown link to an http(s) address');
  for (const l of links) {
    if (/arxiv\.org/.test(l) && !/^https:\/\/arxiv\.org\/abs\/\d{4}\.\d{4,5}$/.test(l)) problems.push(`malformed arXiv link ${l}`);
  }
  const linkedIds = new Set(links.flatMap((l) => /arxiv\.org\/abs\/(\d{4}\.\d{4,5})/.exec(l)?.slice(1) ?? []));
  for (const c of markdown) {
    if (c === cell) continue;
    for (const m of text(c).matchAll(/arXiv[ :](\d{4}\.\d{4,5})/g)) {
      if (!linkedIds.has(m[1])) problems.push(`arXiv ${m[1]} is cited but not linked in the Sources cell`);
    }
  }
  return problems;
}

const notebooks = fs.readdirSync(NOTEBOOKS).filter((f) => f.endsWith('.ipynb')).sort();

test('there are notebooks to check', () => {
  assert.ok(notebooks.length >= 11, notebooks.join(', '));
});

for (const name of notebooks) {
  test(`${name} ends with a Sources cell of links`, () => {
    const nb = JSON.parse(fs.readFileSync(path.join(NOTEBOOKS, name), 'utf8')) as Notebook;
    assert.deepEqual(sourcesProblems(nb), []);
  });
}

test('a notebook without sources, or with unlinked ones, is caught', () => {
  const md = (source: string): Cell => ({ cell_type: 'markdown', source });
  assert.deepEqual(sourcesProblems({ cells: [md('# 99 — Title\n\nAs in arXiv 1711.00937.')] }), ['no markdown cell headed "Sources"']);
  assert.deepEqual(sourcesProblems({ cells: [md('# T\n\narXiv 1711.00937'), md('## Sources\n\n- van den Oord et al. 2017')] }), [
    'the Sources cell has no markdown link to an http(s) address',
    'arXiv 1711.00937 is cited but not linked in the Sources cell',
  ]);
  assert.deepEqual(sourcesProblems({ cells: [md('## Sources\n\n- [VQ-VAE](https://arxiv.org/abs/1711.00937)')] }), []);
});

test('the Sources cells are the ones scripts/notebook-sources.mjs writes', () => {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'notebook-sources.mjs'), '--check'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
});
