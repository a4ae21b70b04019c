/**
 * Summary statistics of small samples for notebooks: the mean of a few runs, the median of a
 * list of values, a mean ± standard deviation over seeds. Plain numbers in, plain numbers out;
 * an empty sample (or one value where a spread needs two) is an error that names the argument.
 */
import { fmt } from '../display/round';
import { checkInt, checkNumberArray } from '../validate';

/** Arithmetic mean of `xs` (an array or typed array, at least one number). */
export function mean(xs: ArrayLike<number>): number {
  checkNumberArray('mean(xs)', xs);
  let sum = 0;
  for (let i = 0; i < xs.length; i++) sum += xs[i];
  return sum / xs.length;
}

/**
 * Median of `xs` (at least one number): the middle value after sorting, or the mean of the two
 * middle values when the length is even. `xs` is not changed.
 */
export function median(xs: ArrayLike<number>): number {
  checkNumberArray('median(xs)', xs);
  const s = Array.from(xs).sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** A mean with the sample standard deviation around it (see {@link meanSd}). */
export interface MeanSd {
  mean: number;
  /** Sample standard deviation: √(Σ (x − mean)² / (n − 1)). */
  sd: number;
}

/**
 * Mean and sample standard deviation (divisor n − 1, as numpy's `std(ddof=1)` and PyTorch's
 * `std`) of `xs`, e.g. one metric over seeds. Needs at least two values: one value has no
 * sample spread.
 */
export function meanSd(xs: ArrayLike<number>): MeanSd {
  checkNumberArray('meanSd(xs)', xs, 2);
  const m = mean(xs);
  let ss = 0;
  for (let i = 0; i < xs.length; i++) ss += (xs[i] - m) ** 2;
  return { mean: m, sd: Math.sqrt(ss / (xs.length - 1)) };
}

/** "mean ± sd" with `decimals` decimals each (vq.fmt), e.g. "0.0058 ± 0.0003": a meanSd in a table. */
export function formatMeanSd(s: MeanSd, decimals: number): string {
  checkInt('formatMeanSd(decimals)', decimals, 0, 20);
  return `${fmt(s.mean, decimals)} ± ${fmt(s.sd, decimals)}`;
}
