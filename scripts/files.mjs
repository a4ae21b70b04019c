/**
 * The checkout's files, for every script: where the checkout is (ROOT), its notebooks (listed in
 * reading order, picked by name), and atomic writes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout's root folder (the one with package.json). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The scripts' one atomic write (lib/io.ts is the library's): a temp file in the same folder,
 * every byte checked written (a short write — disk full, a file-size limit — throws, naming the
 * file), fsync, rename over the target, fsync of the folder. A failure leaves the old file and
 * no temp file; temp files of earlier writes whose process is gone (kill -9) are removed first.
 */
export function writeFileAtomic(file, data) {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  const prefix = `.${path.basename(file)}.tmp-`;
  for (const name of fs.readdirSync(dir)) {
    const m = name.startsWith(prefix) && /^(\d+)-\d+$/.exec(name.slice(prefix.length));
    if (!m) continue;
    try { process.kill(Number(m[1]), 0); } catch (e) { if (e.code === 'ESRCH') fs.rmSync(path.join(dir, name), { force: true }); }
  }
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  const tmp = path.join(dir, `${prefix}${process.pid}-${Date.now()}`);
  let fd = null;
  let written = 0;
  try {
    fd = fs.openSync(tmp, 'w');
    while (written < buf.byteLength) {
      const n = fs.writeSync(fd, buf, written, buf.byteLength - written);
      if (!(n > 0)) throw new Error('wrote 0 bytes');
      written += n;
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
    fs.renameSync(tmp, file);
  } catch (e) {
    if (fd !== null) try { fs.closeSync(fd); } catch { /* already failing */ }
    fs.rmSync(tmp, { force: true });
    throw new Error(`could not write ${file}: ${e.message} (${written} of ${buf.byteLength} bytes written; the previous file, if any, is unchanged)`, { cause: e });
  }
  try {
    const dfd = fs.openSync(dir, 'r');
    try { fs.fsyncSync(dfd); } finally { fs.closeSync(dfd); }
  } catch (e) {
    if (!['EINVAL', 'EISDIR', 'EPERM', 'EACCES'].includes(e.code)) throw e;
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
