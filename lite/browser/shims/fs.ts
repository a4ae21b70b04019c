/**
 * `fs` in the browser: an in-memory file system, enough for the library's atomic writes
 * (lib/io.ts) and checkpoints. Files under /vq-notebooks/data/ (checkpoints, training logs) are
 * also kept in the browser's IndexedDB (database "vq-notebooks-files"): written there when a file
 * gets its final name (writeFileSync, renameSync), removed with rmSync, and loaded back by
 * `restorePersisted()` before the library runs (lite/browser/entry.ts awaits it). So a checkpoint
 * saved by notebook 06 is there for notebook 07, and after a reload, in the same browser.
 * `/vq-notebooks/package.json` exists so that lib/notebook/paths.ts finds a "repository root".
 */
import { Buffer } from 'buffer';

type Entry = { kind: 'file'; data: Uint8Array; mtimeMs: number } | { kind: 'dir'; mtimeMs: number };
const files = new Map<string, Entry>();
const fds = new Map<number, { path: string; chunks: Uint8Array[] }>();
let nextFd = 3;

function norm(p: string): string {
  const parts: string[] = [];
  for (const s of String(p).split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') parts.pop();
    else parts.push(s);
  }
  return '/' + parts.join('/');
}
const parent = (p: string) => norm(p + '/..');
function enoent(op: string, p: string): Error {
  return Object.assign(new Error(`ENOENT: no such file or directory, ${op} '${p}' (the browser's in-memory file system)`), { code: 'ENOENT' });
}
function mkdirp(p: string): void {
  const n = norm(p);
  if (n === '/' || files.has(n)) return;
  mkdirp(parent(n));
  files.set(n, { kind: 'dir', mtimeMs: Date.now() });
}
// ---- IndexedDB mirror of /vq-notebooks/data/ ----------------------------------------------
const PERSISTED = '/vq-notebooks/data/';
const DB = 'vq-notebooks-files';
let db: Promise<IDBDatabase | null> | null = null;
function openDb(): Promise<IDBDatabase | null> {
  if (db) return db;
  db = new Promise((resolve) => {
    try {
      const req = indexedDB.open(DB, 1);
      req.onupgradeneeded = () => req.result.createObjectStore('files');
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => resolve(null);
    } catch {
      resolve(null); // no IndexedDB (e.g. some private modes): memory only
    }
  });
  return db;
}
function persist(p: string, data: Uint8Array | null): void {
  if (!p.startsWith(PERSISTED) || typeof indexedDB === 'undefined') return;
  void openDb().then((d) => {
    if (!d) return;
    const tx = d.transaction('files', 'readwrite');
    if (data) tx.objectStore('files').put(data, p);
    else tx.objectStore('files').delete(p);
  });
}
/** Load the persisted files into memory (await before the library runs). */
export async function restorePersisted(): Promise<number> {
  if (typeof indexedDB === 'undefined') return 0;
  const d = await openDb();
  if (!d) return 0;
  return new Promise((resolve) => {
    const req = d.transaction('files', 'readonly').objectStore('files').openCursor();
    let n = 0;
    req.onsuccess = () => {
      const cur = req.result;
      if (!cur) return resolve(n);
      const p = String(cur.key);
      mkdirp(parent(p));
      files.set(p, { kind: 'file', data: cur.value as Uint8Array, mtimeMs: Date.now() });
      n++;
      cur.continue();
    };
    req.onerror = () => resolve(n);
  });
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const bytes = (d: string | Uint8Array) => (typeof d === 'string' ? enc.encode(d) : new Uint8Array(d.buffer, d.byteOffset, d.byteLength).slice());
/** Node's fs returns Buffers (callers use toString(), readUInt32LE...): the `buffer` package's. */
function toBuffer(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

export function existsSync(p: string): boolean {
  const n = norm(p);
  return n === '/' || files.has(n);
}
export function statSync(p: string) {
  const n = norm(p);
  const e = n === '/' ? { kind: 'dir' as const, mtimeMs: 0 } : files.get(n);
  if (!e) throw enoent('stat', p);
  return {
    size: e.kind === 'file' ? e.data.length : 0,
    mtimeMs: e.mtimeMs,
    mtime: new Date(e.mtimeMs),
    isFile: () => e.kind === 'file',
    isDirectory: () => e.kind === 'dir',
  };
}
export function readFileSync(p: string, opts?: string | { encoding?: string }) {
  const e = files.get(norm(p));
  if (!e || e.kind !== 'file') throw enoent('open', p);
  const encoding = typeof opts === 'string' ? opts : opts?.encoding;
  return encoding ? dec.decode(e.data) : toBuffer(e.data.slice());
}
export function writeFileSync(p: string, data: string | Uint8Array): void {
  const n = norm(p);
  if (!existsSync(parent(n))) throw enoent('open', p);
  files.set(n, { kind: 'file', data: bytes(data), mtimeMs: Date.now() });
  persist(n, (files.get(n) as { data: Uint8Array }).data);
}
export function mkdirSync(p: string, opts?: { recursive?: boolean }): void {
  if (opts?.recursive) return mkdirp(p);
  if (!existsSync(parent(p))) throw enoent('mkdir', p);
  files.set(norm(p), { kind: 'dir', mtimeMs: Date.now() });
}
export function readdirSync(p: string): string[] {
  const n = norm(p);
  if (!existsSync(n)) throw enoent('scandir', p);
  const prefix = n === '/' ? '/' : n + '/';
  return [...files.keys()].filter((k) => k.startsWith(prefix) && !k.slice(prefix.length).includes('/')).map((k) => k.slice(prefix.length)).sort();
}
export function rmSync(p: string, opts?: { force?: boolean; recursive?: boolean }): void {
  const n = norm(p);
  if (!files.has(n)) {
    if (opts?.force) return;
    throw enoent('rm', p);
  }
  for (const k of [...files.keys()]) {
    if (k === n || k.startsWith(n + '/')) {
      files.delete(k);
      persist(k, null);
    }
  }
}
export const unlinkSync = (p: string) => rmSync(p);
export function renameSync(from: string, to: string): void {
  const e = files.get(norm(from));
  if (!e) throw enoent('rename', from);
  files.delete(norm(from));
  files.set(norm(to), e);
  persist(norm(from), null);
  if (e.kind === 'file') persist(norm(to), e.data);
}
export function openSync(p: string, flags: string = 'r'): number {
  const n = norm(p);
  if (flags.startsWith('r') && !existsSync(n)) throw enoent('open', p);
  if (flags.startsWith('w')) {
    if (!existsSync(parent(n))) throw enoent('open', p);
    files.set(n, { kind: 'file', data: new Uint8Array(0), mtimeMs: Date.now() });
  }
  const fd = nextFd++;
  fds.set(fd, { path: n, chunks: [] });
  return fd;
}
export function writeSync(fd: number, buf: Uint8Array, off = 0, len = buf.length - off): number {
  const f = fds.get(fd);
  if (!f) throw new Error(`EBADF: bad file descriptor ${fd}`);
  f.chunks.push(bytes(buf.subarray(off, off + len)));
  flush(f);
  return len;
}
function flush(f: { path: string; chunks: Uint8Array[] }): void {
  const e = files.get(f.path);
  if (!e || e.kind !== 'file' || f.chunks.length === 0) return;
  const total = e.data.length + f.chunks.reduce((s, c) => s + c.length, 0);
  const data = new Uint8Array(total);
  data.set(e.data);
  let o = e.data.length;
  for (const c of f.chunks) {
    data.set(c, o);
    o += c.length;
  }
  files.set(f.path, { kind: 'file', data, mtimeMs: Date.now() });
  f.chunks = [];
}
export function fsyncSync(fd: number): void {
  const f = fds.get(fd);
  if (f) flush(f);
}
export function closeSync(fd: number): void {
  fsyncSync(fd);
  fds.delete(fd);
}
export const promises = {
  readFile: async (p: string, o?: string) => readFileSync(p, o),
  writeFile: async (p: string, d: string | Uint8Array) => writeFileSync(p, d),
  mkdir: async (p: string, o?: { recursive?: boolean }) => mkdirSync(p, o),
  rm: async (p: string, o?: { force?: boolean }) => rmSync(p, o),
  stat: async (p: string) => statSync(p),
};

mkdirp('/vq-notebooks/data');
writeFileSync('/vq-notebooks/package.json', '{"name":"vq-notebooks","browser":true}');

export default {
  existsSync, statSync, readFileSync, writeFileSync, mkdirSync, readdirSync, rmSync, unlinkSync, renameSync,
  openSync, writeSync, fsyncSync, closeSync, promises, restorePersisted,
};
