/**
 * Checkpoints of a model's named variables (VQ-VAE with its codebook, PixelCNN prior) in one
 * file at a given path, through a file-system tf.io.IOHandler. (Names under the repository's
 * data/checkpoints/ are lib/notebook's business.)
 *
 * File: "VQCKPT01" | u32 LE header length | header JSON {config, weightSpecs, meta} | weights.
 * Saving is atomic: the bytes go to a temp file in the same folder, fsync, then rename over
 * the old file (rename(2) is atomic on one file system), so an interrupted save leaves the
 * previous checkpoint intact. Loading checks the stored config equals the requested one.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { checkOptionNames, checkString } from '../validate';

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
}

/** Field-by-field differences between two JSON values, as "a.b: stored X, requested Y". */
function configDiff(stored: unknown, wanted: unknown, at = ''): string[] {
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObj(stored) && isObj(wanted)) {
    const keys = [...new Set([...Object.keys(stored), ...Object.keys(wanted)])].sort();
    return keys.flatMap((k) => configDiff(stored[k], wanted[k], at ? `${at}.${k}` : k));
  }
  const s = JSON.stringify(stored);
  const w = JSON.stringify(wanted);
  return s === w ? [] : [`${at || '(root)'}: stored ${s ?? 'nothing'}, requested ${w ?? 'nothing'}`];
}

function writeAtomic(file: string, parts: Uint8Array[], beforeRename?: (tmp: string) => void): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}-${Date.now()}`);
  const fd = fs.openSync(tmp, 'w');
  try {
    for (const p of parts) fs.writeSync(fd, p);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    beforeRename?.(tmp);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

export type FileIOHandler = Required<Pick<tf.io.IOHandler, 'save' | 'load'>>;

/** A tf.io.IOHandler reading and writing one checkpoint file. */
export function fileCheckpointHandler(file: string, opts: HandlerOptions = {}): FileIOHandler {
  checkOptionNames('fileCheckpointHandler(file, options)', opts, ['expectConfig', 'beforeRename']);
  return {
    async save(art: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      const weights = new Uint8Array(tf.io.CompositeArrayBuffer.join(art.weightData ?? new ArrayBuffer(0)));
      const header = Buffer.from(JSON.stringify({
        config: art.modelTopology ?? null,
        weightSpecs: art.weightSpecs ?? [],
        meta: art.userDefinedMetadata ?? {},
        savedAt: new Date().toISOString(),
      }));
      const len = Buffer.alloc(4);
      len.writeUInt32LE(header.length);
      writeAtomic(file, [Buffer.from(MAGIC), len, header, weights], opts.beforeRename);
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.byteLength } };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      if (!fs.existsSync(file)) throw new Error(`checkpoint not found: ${file}`);
      const buf = fs.readFileSync(file);
      if (buf.subarray(0, 8).toString() !== MAGIC) throw new Error(`checkpoint ${file}: not a ${MAGIC} file`);
      const hLen = buf.readUInt32LE(8);
      const h = JSON.parse(buf.subarray(12, 12 + hLen).toString());
      if (opts.expectConfig !== undefined) {
        const diff = configDiff(h.config, opts.expectConfig);
        if (diff.length) throw new Error(`checkpoint ${file} was saved with another configuration: ${diff.join('; ')}`);
      }
      const w = buf.subarray(12 + hLen);
      return {
        modelTopology: h.config,
        weightSpecs: h.weightSpecs,
        weightData: w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength),
        userDefinedMetadata: h.meta,
      };
    },
  };
}

export interface SaveOptions {
  /** Extra JSON stored beside the weights (e.g. epochs trained, test MSE). */
  meta?: Record<string, unknown>;
  beforeRename?: (tmpPath: string) => void;
}

/** Save `model`'s variables and config to the file `file`; returns the path. */
export async function saveCheckpoint(model: Checkpointable, file: string, opts: SaveOptions = {}): Promise<string> {
  checkOptionNames('saveCheckpoint(model, file, options)', opts, ['meta', 'beforeRename']);
  checkString('saveCheckpoint(file)', file);
  const named = model.namedVariables();
  const { data, specs } = await tf.io.encodeWeights(Object.fromEntries(named));
  await fileCheckpointHandler(file, { beforeRename: opts.beforeRename }).save({
    modelTopology: JSON.parse(JSON.stringify(model.config)),
    weightSpecs: specs,
    weightData: data,
    userDefinedMetadata: (opts.meta ?? {}) as Record<string, object>,
  });
  return file;
}

/**
 * Load the checkpoint file `file` into `model`'s variables. Throws, naming the fields, when it was
 * saved with another config, and names missing or mis-shaped weights. Returns the stored meta.
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
  const tensors = tf.io.decodeWeights(art.weightData!, specs);
  for (const [k, v] of named) v.assign(tensors[k]);
  tf.dispose(Object.values(tensors));
  model.restored?.();
  return (art.userDefinedMetadata ?? {}) as Record<string, unknown>;
}
