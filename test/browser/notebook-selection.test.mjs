/**
 * scripts/files.mjs: which notebooks `npm start -- 03 05` and `npm run test:browser -- 01 x.ipynb`
 * pick (one name filter for both), and writeFileAtomic leaving no temporary file.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT, listNotebooks, notebooksMatching, selectNotebooks, writeFileAtomic } from '../../scripts/files.mjs';

const names = (files) => files.map((f) => path.basename(f));

test('notebooksMatching: file names containing any filter, in reading order; no filter: all', () => {
  const all = ['/n/01-a.ipynb', '/n/02-b.ipynb', '/n/03-c.ipynb', '/n/10-d.ipynb'];
  assert.deepEqual(notebooksMatching([], all), all);
  assert.deepEqual(names(notebooksMatching(['03', '01'], all)), ['01-a.ipynb', '03-c.ipynb']);
  assert.deepEqual(names(notebooksMatching(['0'], all)), ['01-a.ipynb', '02-b.ipynb', '03-c.ipynb', '10-d.ipynb']);
  assert.deepEqual(notebooksMatching(['zz'], all), []);
  assert.deepEqual(notebooksMatching([]), listNotebooks(), 'default: notebooks/');
});

test('selectNotebooks: notebook files and name filters; missing, unmatched and duplicate names throw', () => {
  const first = listNotebooks()[0];
  const fixture = path.join(ROOT, 'test', 'fixtures', 'notebooks', 'runtime-error.ipynb');
  assert.deepEqual(selectNotebooks([]), listNotebooks());
  assert.deepEqual(selectNotebooks([path.basename(first).slice(0, 2)]), [first]);
  assert.deepEqual(selectNotebooks([fixture]), [fixture], 'a file alone: not the whole series');
  assert.deepEqual(selectNotebooks([fixture, path.basename(first).slice(0, 2)]), [fixture, first]);
  assert.throws(() => selectNotebooks(['no-such.ipynb']), /no such notebook: no-such.ipynb/);
  assert.throws(() => selectNotebooks(['zz-no-match']), /no notebook in notebooks\/ matches zz-no-match/);
  assert.throws(() => selectNotebooks([first, path.basename(first).slice(0, 2)]), /two notebooks named/);
});

test('writeFileAtomic writes the file, creating its folder, and leaves no temporary file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vq-files-'));
  try {
    const file = path.join(dir, 'sub', 'x.json');
    writeFileAtomic(file, '{"a":1}\n');
    writeFileAtomic(file, '{"a":2}\n');
    assert.equal(fs.readFileSync(file, 'utf8'), '{"a":2}\n');
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ['x.json']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
