/** Numeric assertions shared by the quantizer tests. */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';

/** Element-wise |actual − expected| ≤ atol + rtol·|expected|, with the failing index in the message. */
export function near(actual: ArrayLike<number> | number, expected: ArrayLike<number> | number, atol = 1e-6, rtol = 1e-5, what = ''): void {
  const a = typeof actual === 'number' ? [actual] : Array.from(actual);
  const e = typeof expected === 'number' ? [expected] : Array.from(expected);
  assert.equal(a.length, e.length, `${what}: length ${a.length} vs ${e.length}`);
  a.forEach((x, i) => assert.ok(Math.abs(x - e[i]!) <= atol + rtol * Math.abs(e[i]!), `${what}[${i}]: ${x} vs ${e[i]}`));
}

/** A tensor's values as a plain array. */
export const vals = (t: tf.Tensor): number[] => Array.from(t.dataSync());

/** A scalar tensor's value. */
export const num = (t: tf.Tensor): number => t.dataSync()[0]!;
