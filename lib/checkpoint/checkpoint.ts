/**
 * Checkpoints of a model's named variables (VQ-VAE with its codebook, PixelCNN prior) in one
 * file at a given path, through a file-system tf.io.IOHandler. (Names under the repository's
 * data/checkpoints/ are lib/notebook's business.)
 *
 * File: "VQCKPT01" | u32 LE header length | header JSON {config, weightSpecs, meta, savedAt,
 * weightBytes, weightsSha256, fileSha256} | weights; fileSha256 is the sha256 of the whole file
 * with its own 64 hex digits written as zeros, so any damaged byte is named as such. Saving goes through lib/io.ts writeFileAtomic (every
 * byte checked written, fsync, rename, fsync of the folder), so a full disk or a kill leaves the
 * previous checkpoint intact. Loading checks everything before it assigns anything: the file's
 * framing, its length, the weights' sha256 (files saved before the checksum existed load
 * without it), the stored config, and every weight's name, shape, dtype and finiteness.
 * Every error names the file and the fault.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { checkOptionNames, checkString } from '../validate';
import { writeFileAtomic } from '../io';

const MAGIC = 'VQCKPT01';

/** What can be checkpointed: an architecture config and named variables. */
export interface Checkpointable {
  readonly config: object;
  namedVariables(): Map<string, tf.Variable>;
  /** Called after loading assigned every weight: state that the weights make moot is reset. */
  restored?(): void;
}

export interface HandlerOptions {
  /** On load, the config the checkpoint must have been saved with (else a clear error). */
  expectConfig?: object;
  /** Test hook: runs after the temp file is written, before the rename. */
  beforeRename?: (tmpPath: string) => void;
  /** Test hook: stands in for fs.writeSync (simulates a short write / full disk). */
  writeSync?: (fd: number, buf: Uint8Array, offset: number, length: number) => number;
}

/**
 * Config values renamed after checkpoints were saved with them (old → current): on load, a stored
 * old value matches the current one, so those files keep loading. 'vqvae-seed004' is the VQ-VAE's
 * former arch tag (it named a source document, not a seed); the tag is now 'dldemos-vqvae'.
 */
const RENAMED_CONFIG_VALUES: ReadonlyMap<string, string> = new Map([['vqvae-seed004', 'dldemos-vqvae']]);

/** Field-by-field differences between two JSON values, as "a.b: stored X, requested Y". */
function configDiff(stored: unknown, wanted: unknown, at = ''): string[] {
  if (typeof stored === 'string' && RENAMED_CONFIG_VALUES.get(stored) === wanted) return [];
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObj(stored) && isObj(wanted)) {
    const keys = [...new Set([...Object.keys(stored), ...Object.keys(wanted)])].sort();
    return keys.flatMap((k) => configDiff(stored[k], wanted[k], at ? `${at}.${k}` : k));
  }
  const s = JSON.stringify(stored);
  const w = JSON.stringify(wanted);
  return s === w ? [] : [`${at || '(root)'}: stored ${s ?? 'nothing'}, requested ${w ?? 'nothing'}`];
}

const sha256 = (b: Uint8Array): string => crypto.createHash('sha256').update(b).digest('hex');
const ZERO_SHA = '0'.repeat(64);
/** sha256 of the concatenated parts. */
function fileSha256(parts: Uint8Array[]): string {
  const h = crypto.createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1 };

/** Bytes the weights of `specs` take (null when a spec is malformed or of an unknown dtype). */
function specBytes(specs: tf.io.WeightsManifestEntry[]): number | null {
  let total = 0;
  for (const s of specs) {
    if (!s || typeof s.name !== 'string' || !Array.isArray(s.shape) || !s.shape.every((d) => Number.isInteger(d) && d >= 0)) return null;
    const b = DTYPE_BYTES[s.dtype];
    if (b === undefined || s.quantization) return null;
    total += s.shape.reduce((a, d) => a * d, 1) * b;
  }
  return total;
}

export type FileIOHandler = Required<Pick<tf.io.IOHandler, 'save' | 'load'>>;

/** A tf.io.IOHandler reading and writing one checkpoint file. */
export function fileCheckpointHandler(file: string, opts: HandlerOptions = {}): FileIOHandler {
  checkOptionNames('fileCheckpointHandler(file, options)', opts, ['expectConfig', 'beforeRename', 'writeSync']);
  return {
    async save(art: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      const weights = new Uint8Array(tf.io.CompositeArrayBuffer.join(art.weightData ?? new ArrayBuffer(0)));
      const header = Buffer.from(JSON.stringify({
        config: art.modelTopology ?? null,
        weightSpecs: art.weightSpecs ?? [],
        meta: art.userDefinedMetadata ?? {},
        savedAt: new Date().toISOString(),
        weightBytes: weights.byteLength,
        weightsSha256: sha256(weights),
        fileSha256: ZERO_SHA, // last: filled in below with the sha256 of the whole file as written with zeros here
      }));
      const len = Buffer.alloc(4);
      len.writeUInt32LE(header.length);
      const parts = [Buffer.from(MAGIC), len, header, weights];
      header.write(fileSha256(parts), header.length - 2 - ZERO_SHA.length, 'latin1');
      writeFileAtomic(file, parts, { beforeRename: opts.beforeRename, writeSync: opts.writeSync });
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.byteLength } };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      if (!fs.existsSync(file)) throw new Error(`checkpoint not found: ${file}`);
      if (fs.statSync(file).isDirectory()) throw new Error(`checkpoint ${file} is a directory, not a checkpoint file`);
      const buf = fs.readFileSync(file);
      const damaged = (what: string) => new Error(`checkpoint ${file} is damaged: ${what}`);
      if (buf.length < 12 || buf.subarray(0, 8).toString() !== MAGIC) {
        throw new Error(`checkpoint ${file}: not a ${MAGIC} file${buf.length < 12 ? ` (${buf.length} bytes)` : ''}`);
      }
      const hLen = buf.readUInt32LE(8);
      if (12 + hLen > buf.length) throw damaged(`truncated: its header says ${hLen} bytes, the file has ${buf.length - 12} after the framing`);
      // The whole-file checksum (files from before it existed have none): covers framing, header and weights.
      const stored = /,"fileSha256":"([0-9a-f]{64})"\}$/.exec(buf.subarray(12, 12 + hLen).toString('latin1'));
      let checksumFault = '';
      if (stored) {
        const blank = Buffer.from(buf);
        blank.write(ZERO_SHA, 12 + hLen - 2 - ZERO_SHA.length, 'latin1');
        const actual = fileSha256([blank]);
        if (actual !== stored[1]) checksumFault = `checksum mismatch (sha256 of the file is ${actual.slice(0, 12)}…, its header says ${stored[1].slice(0, 12)}…)`;
      }
      // (the specific faults below are named first; the checksum catches every other damaged byte)
      let h: { config?: unknown; weightSpecs?: unknown; meta?: unknown; weightBytes?: unknown; weightsSha256?: unknown };
      try {
        h = JSON.parse(buf.subarray(12, 12 + hLen).toString());
      } catch (e) {
        throw damaged(`its header is not valid JSON (${(e as Error).message})`);
      }
      if (h === null || typeof h !== 'object' || !Array.isArray(h.weightSpecs)) throw damaged('its header has no list of weights (weightSpecs)');
      const specs = h.weightSpecs as tf.io.WeightsManifestEntry[];
      const want = specBytes(specs);
      if (want === null) throw damaged('its list of weights is malformed (each needs a name, a shape of integers ≥ 0 and a dtype float32, int32 or bool)');
      const w = buf.subarray(12 + hLen);
      if (w.length !== want) {
        throw damaged(`${w.length < want ? 'truncated' : 'trailing bytes'}: its weights need ${want} bytes, the file holds ${w.length}`);
      }
      if (checksumFault) throw damaged(checksumFault);
      if (h.weightsSha256 !== undefined && h.weightsSha256 !== sha256(w)) {
        throw damaged(`checksum mismatch (sha256 of the weights is ${sha256(w).slice(0, 12)}…, the header says ${String(h.weightsSha256).slice(0, 12)}…)`);
      }
      if (opts.expectConfig !== undefined) {
        const diff = configDiff(h.config, opts.expectConfig);
        if (diff.length) throw new Error(`checkpoint ${file} was saved with another configuration: ${diff.join('; ')}`);
      }
      return {
        modelTopology: h.config as object,
        weightSpecs: specs,
        weightData: w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength),
        userDefinedMetadata: (h.meta ?? {}) as Record<string, object>,
      };
    },
  };
}

export interface SaveOptions {
  /** Extra JSON stored beside the weights (e.g. epochs trained, test MSE). */
  meta?: Record<string, unknown>;
  /** Test hooks, see HandlerOptions. */
  beforeRename?: (tmpPath: string) => void;
  writeSync?: (fd: number, buf: Uint8Array, offset: number, length: number) => number;
}

/**
 * Throw unless `v` survives JSON unchanged: numbers finite, no BigInt, function, undefined inside
 * arrays, symbol or cycle. `at` names the place ("meta.log.loss[3]").
 */
export function checkJson(at: string, v: unknown, seen: Set<unknown> = new Set()): void {
  const bad = (what: string) => new Error(`${at} must be JSON (finite numbers, strings, booleans, null, arrays, plain objects), got ${what}`);
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw bad(`${v} (JSON would store it as null)`);
    return;
  }
  if (typeof v === 'bigint') throw bad(`a BigInt (${v}n); store it as a number or a string`);
  if (typeof v !== 'object') throw bad(typeof v === 'undefined' ? 'undefined' : `a ${typeof v}`);
  if (seen.has(v)) throw bad('a circular reference');
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return; // Date and the like: JSON's own form
  seen.add(v);
  if (Array.isArray(v)) v.forEach((x, i) => checkJson(`${at}[${i}]`, x, seen));
  else if (ArrayBuffer.isView(v)) throw bad(`a ${v.constructor.name} (use Array.from)`);
  else for (const [k, x] of Object.entries(v)) if (x !== undefined) checkJson(`${at}.${k}`, x, seen);
  seen.delete(v);
}

/** Names of the float32 variables holding NaN or ±Infinity (reads every float32 variable). */
export function nonFiniteVariables(named: Map<string, tf.Variable>): string[] {
  const out: string[] = [];
  for (const [k, v] of named) {
    if (v.dtype !== 'float32') continue;
    const ok = tf.tidy(() => tf.all(tf.isFinite(v)).dataSync()[0]);
    if (!ok) out.push(k);
  }
  return out;
}

/**
 * Save `model`'s variables and config to the file `file`; returns the path. Refuses (and keeps
 * the previous file) when a variable holds NaN or Infinity — loadCheckpoint would refuse such a
 * file — or when `meta` is not plain JSON.
 */
export async function saveCheckpoint(model: Checkpointable, file: string, opts: SaveOptions = {}): Promise<string> {
  checkOptionNames('saveCheckpoint(model, file, options)', opts, ['meta', 'beforeRename', 'writeSync']);
  checkString('saveCheckpoint(file)', file);
  if (opts.meta !== undefined) checkJson('saveCheckpoint(options.meta)', opts.meta);
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) throw new Error(`saveCheckpoint(file): ${file} is a directory`);
  const named = model.namedVariables();
  const nonFinite = nonFiniteVariables(named);
  if (nonFinite.length) {
    throw new Error(`saveCheckpoint: not saved to ${file}: non-finite values (NaN or Infinity) in ${nonFinite.join(', ')} ` +
      `(a diverged training?); the previous file, if any, is unchanged`);
  }
  const { data, specs } = await tf.io.encodeWeights(Object.fromEntries(named));
  await fileCheckpointHandler(file, { beforeRename: opts.beforeRename, writeSync: opts.writeSync }).save({
    modelTopology: JSON.parse(JSON.stringify(model.config)),
    weightSpecs: specs,
    weightData: data,
    userDefinedMetadata: (opts.meta ?? {}) as Record<string, object>,
  });
  return file;
}

/**
 * Load the checkpoint file `file` into `model`'s variables. Throws, naming the file and the fault, when
 * the file is damaged (truncated, checksum mismatch, bad header), was saved with another config,
 * or has missing, unexpected, mis-shaped, mistyped or non-finite weights — all checked before
 * any variable is assigned, so a failed load leaves the model as it was. Returns the stored meta.
 */
export async function loadCheckpoint(model: Checkpointable, file: string): Promise<Record<string, unknown>> {
  checkString('loadCheckpoint(file)', file);
  const expectConfig = JSON.parse(JSON.stringify(model.config));
  const art = await fileCheckpointHandler(file, { expectConfig }).load();
  const named = model.namedVariables();
  const specs = art.weightSpecs ?? [];
  const stored = new Set(specs.map((s) => s.name));
  const missing = [...named.keys()].filter((k) => !stored.has(k));
  const extra = [...stored].filter((k) => !named.has(k));
  if (missing.length || extra.length) {
    throw new Error(`checkpoint ${file}: weights differ from the model's (missing: ${missing.join(', ') || 'none'}; unexpected: ${extra.join(', ') || 'none'})`);
  }
  const bad = specs.filter((s) => JSON.stringify(s.shape) !== JSON.stringify(named.get(s.name)!.shape));
  if (bad.length) {
    throw new Error(`checkpoint ${file}: shape mismatch for ${bad.map((s) => `${s.name} (stored [${s.shape}], model [${named.get(s.name)!.shape}])`).join(', ')}`);
  }
  const badType = specs.filter((s) => s.dtype !== named.get(s.name)!.dtype);
  if (badType.length) {
    throw new Error(`checkpoint ${file}: dtype mismatch for ${badType.map((s) => `${s.name} (stored ${s.dtype}, model ${named.get(s.name)!.dtype})`).join(', ')}`);
  }
  const tensors = tf.io.decodeWeights(art.weightData!, specs);
  try {
    const nonFinite = specs.filter((s) => s.dtype === 'float32' && !(tensors[s.name].dataSync() as Float32Array).every(Number.isFinite));
    if (nonFinite.length) {
      throw new Error(`checkpoint ${file} is damaged: non-finite values (NaN or Infinity) in ${nonFinite.map((s) => s.name).join(', ')}`);
    }
    for (const [k, v] of named) v.assign(tensors[k]);
  } finally {
    tf.dispose(Object.values(tensors));
  }
  model.restored?.();
  return (art.userDefinedMetadata ?? {}) as Record<string, unknown>;
}
