/**
 * The checks every quantizer makes on its inputs, in one place (VectorQuantizer, FSQ, LFQ, SimVQ
 * and ResidualVQ use them; the wording is lib/validate.ts's).
 */
import * as tf from '@tensorflow/tfjs';
import type { Quantizer } from './protocol';
import { OptionsOf, checkInt, checkVectors, describe, is, resolveOptions } from '../validate';

/** Options of every quantizer's `forward(z, options)`. */
export const FORWARD_OPTIONS = {
  /** Update the EMA codebook, restart dead codes and record `stats`. Default true. */
  training: { check: is.boolean, default: true },
};
/** Options of every quantizer's forward(z, options) (see FORWARD_OPTIONS). */
export type VQForwardOptions = OptionsOf<typeof FORWARD_OPTIONS>;

/** The largest float32. */
const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * The largest |z| a quantizer accepts for N vectors of width `dim`: √(FLOAT32_MAX / (4·N·dim)), so
 * that every square (z − q)² with |q| ≤ |z| and every sum of them over a vector or the batch
 * (distances, mean losses) stays finite in float32. About 1.8e19/√(4·N·dim): 4.5e16 for 4,096
 * vectors of 16; larger inputs gave an Infinity or NaN loss.
 */
export function maxInputMagnitude(N: number, dim: number): number {
  return Math.sqrt(FLOAT32_MAX / (4 * Math.max(1, N) * dim));
}

/**
 * Throw when z holds NaN or ±Infinity, or values too large to square in float32 (see
 * maxInputMagnitude). Reads z once and checks it in JS: no tensor op, so nothing is recorded on a
 * gradient tape (ops such as abs or max under tf.grad keep clones of their input for the backward
 * pass, which a throw here would leak).
 */
export function assertFiniteAndBounded(name: string, z: tf.Tensor, dim: number): void {
  const v = z.dataSync() as Float32Array;
  let maxAbs = 0;
  for (let i = 0; i < v.length; i++) {
    const a = Math.abs(v[i]);
    if (!(a <= maxAbs)) {
      if (!Number.isFinite(a)) throw new Error(`${name} must be finite, but it holds NaN or Infinity`);
      maxAbs = a;
    }
  }
  const N = v.length / dim;
  const limit = maxInputMagnitude(N, dim);
  if (maxAbs > limit) {
    throw new Error(`${name} must hold values of magnitude at most ${limit.toPrecision(3)} (= √(float32 max / (4·N·dim)) for ` +
      `N = ${N} vectors of dim ${dim}: the squares of larger values overflow float32 into an Infinity or NaN loss), ` +
      `found ${maxAbs.toPrecision(3)}; scale z down`);
  }
}

/**
 * The checks every quantizer's forward makes on its input: the options (→ training), z a live
 * float32 tensor [..., dim], and (when `checkFinite`) no NaN/Infinity nor overflowing values in z.
 * `owner` is e.g. 'FSQ'.
 */
export function checkForwardInput(owner: string, z: tf.Tensor, dim: number, opts: unknown, checkFinite: boolean): boolean {
  const { training } = resolveOptions(`${owner}.forward(z, options)`, FORWARD_OPTIONS, opts);
  checkVectors(`${owner}.forward(z)`, z, dim);
  if (checkFinite) assertFiniteAndBounded(`${owner}.forward(z)`, z, dim);
  return training;
}

/**
 * Throws, naming `argName`, unless `q` implements the quantizer protocol (protocol.ts): forward,
 * decode, trainableVariables, namedVariables, dispose, and integer codebookSize and dim. Duck-typed,
 * so that a user's own quantizer of that shape passes too.
 */
export function checkQuantizer(q: unknown, argName: string): Quantizer {
  const o = q as Record<string, unknown> | null;
  const methods = ['forward', 'decode', 'trainableVariables', 'namedVariables', 'dispose'];
  if (o === null || typeof o !== 'object' || methods.some((m) => typeof o[m] !== 'function')) {
    throw new Error(`${argName} must be a quantizer (VectorQuantizer, FSQ, LFQ, SimVQ, ResidualVQ, …: forward, decode, ` +
      `trainableVariables, namedVariables, dispose), got ${describe(q)}`);
  }
  checkInt(`${argName}.codebookSize`, o.codebookSize, 1);
  checkInt(`${argName}.dim`, o.dim, 1);
  return q as Quantizer;
}
