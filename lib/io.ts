/**
 * File helpers: the library's one atomic write, so that a crash or a full disk never leaves a
 * half-written file in place of a good one (checkpoints, figures, the wasm worker script).
 */
import fs from 'node:fs';
import path from 'node:path';

export interface AtomicWriteOptions {
  /** Test hook: runs after the temp file is written and synced, before the rename. */
  beforeRename?: (tmpPath: string) => void;
  /** Test hook: stands in for fs.writeSync (to simulate a short write or a full disk). */
  writeSync?: (fd: number, buf: Uint8Array, offset: number, length: number) => number;
}

const TMP_MARK = '.tmp-';

/** The temp-file prefix of `file`'s writes: .<name>.tmp-<pid>-<time>. */
function tmpPrefix(file: string): string {
  return `.${path.basename(file)}${TMP_MARK}`;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove temp files of earlier writes of `file` whose process is gone (a kill -9 between write
 * and rename leaves one behind). Returns the names removed.
 */
export function removeStaleTempFiles(file: string): string[] {
  const dir = path.dirname(file);
  const prefix = tmpPrefix(file);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(\d+)-\d+$/.exec(name.slice(prefix.length));
    if (!m || processAlive(Number(m[1]))) continue; // not ours, or a write still in progress
    fs.rmSync(path.join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}

function fsyncDir(dir: string): void {
  let fd: number | null = null;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch (e) {
    // Some file systems cannot fsync a directory (EINVAL, EISDIR on a few); the rename is done.
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM' && code !== 'EACCES') throw e;
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

/**
 * Write `data` (a string, bytes, or several byte chunks written in order) to `file` atomically:
 * a temp file in the same folder, every byte checked written (a short write — disk full, a file
 * size limit — throws), fsync, rename over the target (atomic on POSIX file systems), fsync of
 * the folder. On any failure it throws an Error naming the file and leaves the old file intact
 * and no temp file behind. Temp files of earlier writes killed before their rename are removed.
 * Creates the folder if needed.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array | readonly Uint8Array[], opts: AtomicWriteOptions = {}): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  removeStaleTempFiles(file);
  const parts: readonly Uint8Array[] = typeof data === 'string' ? [Buffer.from(data)] : data instanceof Uint8Array ? [data] : data;
  const total = parts.reduce((s, p) => s + p.byteLength, 0);
  const write = opts.writeSync ?? ((fd: number, buf: Uint8Array, off: number, len: number) => fs.writeSync(fd, buf, off, len));
  const tmp = path.join(dir, `${tmpPrefix(file)}${process.pid}-${Date.now()}`);
  let fd: number | null = null;
  let written = 0;
  try {
    fd = fs.openSync(tmp, 'w');
    for (const p of parts) {
      let off = 0;
      while (off < p.byteLength) {
        const n = write(fd, p, off, p.byteLength - off);
        if (!(n > 0)) throw new Error(`wrote 0 bytes`);
        off += n;
        written += n;
      }
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
    if (fs.statSync(tmp).size !== total) throw new Error(`the temp file holds ${fs.statSync(tmp).size} bytes, expected ${total}`);
    opts.beforeRename?.(tmp);
    fs.renameSync(tmp, file);
  } catch (e) {
    if (fd !== null) {
      try { fs.closeSync(fd); } catch { /* already failing */ }
    }
    fs.rmSync(tmp, { force: true });
    const why = e instanceof Error ? e.message : String(e);
    const err = new Error(`could not write ${file}: ${why} (${written} of ${total} bytes written; the previous file, if any, is unchanged)`);
    (err as Error & { cause?: unknown }).cause = e;
    throw err;
  }
  fsyncDir(dir);
}
