/**
 * Checkpoints by name, for notebooks: <dir>/<name>.ckpt with <dir> = <repo>/data/checkpoints
 * unless given, and loadOrTrain (reuse a saved model, else train and save it). The file format
 * and the path-based saveCheckpoint/loadCheckpoint are lib/checkpoint's.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  Checkpointable, checkJson, loadCheckpoint as loadCheckpointFile, nonFiniteVariables, saveCheckpoint as saveCheckpointFile,
} from '../checkpoint/checkpoint';
import { OptionsOf, checkFunction, is, resolveOptions } from '../validate';
import { defaultCheckpointDir } from './paths';

/** <dir>/<name>.ckpt; `name` is a plain file name (letters, digits, . _ -). */
export function checkpointPath(name: string, dir = defaultCheckpointDir()): string {
  if (typeof name !== 'string' || !/^[A-Za-z0-9._-]+$/.test(name) || name.startsWith('.')) {
    throw new Error(`checkpoint name must be letters, digits, '.', '_' or '-' (not starting with '.'), got ${JSON.stringify(name)}`);
  }
  return path.join(dir, `${name}.ckpt`);
}

const DIR_OPTION = {
  /** Folder of the checkpoints. Default <repo>/data/checkpoints. */
  dir: { check: is.string, optional: true as const },
};

export const SAVE_OPTIONS = {
  ...DIR_OPTION,
  /** Extra JSON stored beside the weights (e.g. epochs trained, test MSE). */
  meta: {
    check: (v: Record<string, unknown>, name: string): Record<string, unknown> => {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${name} must be a plain object, got ${String(v)}`);
      checkJson(name, v);
      return v;
    },
    default: {} as Record<string, unknown>,
  },
};

export const LOAD_OR_TRAIN_OPTIONS = {
  ...DIR_OPTION,
  /** Train (and save) even when the checkpoint exists. Default false. */
  retrain: { check: is.boolean, default: false },
};

/** Whether <dir>/<name>.ckpt exists. */
export function checkpointExists(name: string, opts: OptionsOf<typeof DIR_OPTION> = {}): boolean {
  const { dir } = resolveOptions('checkpointExists(name, options)', DIR_OPTION, opts);
  return fs.existsSync(checkpointPath(name, dir));
}

/** Save `model`'s variables and config as <dir>/<name>.ckpt; returns the path. */
export async function saveCheckpoint(model: Checkpointable, name: string, opts: OptionsOf<typeof SAVE_OPTIONS> = {}): Promise<string> {
  const { dir, meta } = resolveOptions('saveCheckpoint(model, name, options)', SAVE_OPTIONS, opts);
  return saveCheckpointFile(model, checkpointPath(name, dir), { meta });
}

/** Load <dir>/<name>.ckpt into `model`'s variables (see lib/checkpoint's loadCheckpoint); returns the stored meta. */
export async function loadCheckpoint(model: Checkpointable, name: string, opts: OptionsOf<typeof DIR_OPTION> = {}): Promise<Record<string, unknown>> {
  const { dir } = resolveOptions('loadCheckpoint(model, name, options)', DIR_OPTION, opts);
  return loadCheckpointFile(model, checkpointPath(name, dir));
}

/**
 * Load <name> when it exists (unless `retrain`), else run `train()` and save what it returns as
 * meta. A stored checkpoint of another config is an error, not a retrain. A model that `train()`
 * left with NaN or Infinity in a variable (training diverged) is not saved: the error says so and
 * names the variables, and the previous checkpoint, if any, stays.
 */
export async function loadOrTrain(
  model: Checkpointable, name: string, train: () => Promise<Record<string, unknown> | void>,
  opts: OptionsOf<typeof LOAD_OR_TRAIN_OPTIONS> = {},
): Promise<{ loaded: boolean; meta: Record<string, unknown> }> {
  const { dir, retrain } = resolveOptions('loadOrTrain(model, name, train, options)', LOAD_OR_TRAIN_OPTIONS, opts);
  checkFunction('loadOrTrain(train)', train);
  if (!retrain && checkpointExists(name, { dir })) {
    return { loaded: true, meta: await loadCheckpoint(model, name, { dir }) };
  }
  const meta = (await train()) ?? {};
  const nonFinite = nonFiniteVariables(model.namedVariables());
  if (nonFinite.length) {
    throw new Error(`loadOrTrain('${name}'): training diverged — non-finite values (NaN or Infinity) in ${nonFinite.join(', ')}; ` +
      `nothing was saved (the previous checkpoint, if any, is unchanged). Lower the learning rate or check the data, then run again`);
  }
  await saveCheckpoint(model, name, { dir, meta });
  return { loaded: false, meta };
}
