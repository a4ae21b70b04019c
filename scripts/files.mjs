/**
 * The checkout's files, for every script: where the checkout is (ROOT), its notebooks (listed in
 * reading order, picked by name), and atomic writes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout's root folder (the one with package.json). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Write a file atomically: a temporary file in the same folder, then rename over the target. */
export function writeFileAtomic(file, data) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** The notebooks in notebooks/, in reading order (their file names start with a number). */
export function listNotebooks(dir = path.join(ROOT, 'notebooks')) {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.ipynb'))
    .sort()
    .map((f) => path.join(dir, f));
}

/**
 * The notebooks whose file name contains one of `filters` (all of them when there is none), in
 * the order of `notebooks` (default: notebooks/ in reading order). `npm start -- 03 05`.
 */
export function notebooksMatching(filters, notebooks = listNotebooks()) {
  return notebooks.filter((nb) => filters.length === 0 || filters.some((f) => path.basename(nb).includes(f)));
}

/**
 * Notebooks from command-line arguments: each `*.ipynb` argument is a notebook file (anywhere),
 * the others are name filters on notebooks/ (notebooksMatching); no argument: every notebook.
 * Throws when a file is missing, a filter matches nothing, or two picked notebooks share a name.
 */
export function selectNotebooks(argv) {
  const files = argv.filter((a) => a.endsWith('.ipynb'));
  const filters = argv.filter((a) => !a.endsWith('.ipynb'));
  const picked = [];
  for (const f of files) {
    const abs = path.resolve(f);
    if (!fs.existsSync(abs)) throw new Error(`no such notebook: ${f}`);
    picked.push(abs);
  }
  if (filters.length > 0 || files.length === 0) {
    const hit = notebooksMatching(filters);
    if (filters.length > 0 && hit.length === 0) throw new Error(`no notebook in notebooks/ matches ${filters.join(', ')}`);
    picked.push(...hit);
  }
  if (picked.length === 0) throw new Error('no notebooks to test');
  const names = picked.map((p) => path.basename(p));
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new Error(`two notebooks named ${dup}`);
  return picked;
}

/** Write `value` as indented JSON with a final newline, creating the folder. */
export function writeJson(file, value) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + '\n');
}
