/**
 * Batches: the one place that turns a data set of n examples into seeded mini-batches, with a
 * fresh shuffle on every pass over the data. Two ways to meet the end of a pass:
 *   'epoch' — the pass ends the epoch; its last batch may be short (or dropped: dropLast), as
 *             torch's DataLoader. The trainers (VQ-VAE, prior, studies) use it.
 *   'carry' — batches run across passes, so every batch is full (trainQuantizer's stream of
 *             steps over a fixed set).
 * The permutation comes from `shuffle(n)` so that each caller keeps the random stream its
 * committed results were drawn with (see permutationOf / rngSampleOf).
 */
import { Rng, mulberry32, permutation } from '../rng';
import { checkInt } from '../validate';

export type ShuffleFn = (n: number) => ArrayLike<number>;

/** Fisher–Yates from the end on mulberry32(seed): the trainers' stream. */
export const permutationOf = (seed: number): ShuffleFn => {
  const rand = mulberry32(seed);
  return (n) => permutation(n, rand);
};

/** Rng(seed).sample(n, n): trainQuantizer's stream. */
export const rngSampleOf = (seed: number): ShuffleFn => {
  const rng = new Rng(seed);
  return (n) => rng.sample(n, n);
};

/** The batches of one epoch: `shuffle(n)` cut into `batchSize` pieces (the last may be short, or dropped). */
export function epochBatches(n: number, batchSize: number, rand: () => number, dropLast = false): Int32Array[] {
  checkInt('epochBatches(n)', n, 0);
  checkInt('epochBatches(batchSize)', batchSize);
  return cut(permutation(n, rand), batchSize, dropLast);
}

function cut(p: ArrayLike<number>, batchSize: number, dropLast: boolean): Int32Array[] {
  const perm = p instanceof Int32Array ? p : Int32Array.from(p);
  const out: Int32Array[] = [];
  for (let i = 0; i < perm.length; i += batchSize) {
    if (dropLast && i + batchSize > perm.length) break;
    out.push(perm.subarray(i, Math.min(perm.length, i + batchSize)));
  }
  return out;
}

/** A seeded batch stream over n examples. */
export class Batches {
  private pending: number[] = [];

  constructor(
    readonly n: number,
    readonly batchSize: number,
    private readonly shuffle: ShuffleFn,
    readonly mode: 'epoch' | 'carry' = 'epoch',
    readonly dropLast = false,
  ) {
    checkInt('Batches(n)', n, 1);
    checkInt('Batches(batchSize)', batchSize);
  }

  /** Steps in one epoch ('epoch' mode). */
  get stepsPerEpoch(): number {
    return this.dropLast ? Math.floor(this.n / this.batchSize) : Math.ceil(this.n / this.batchSize);
  }

  /** 'epoch' mode: the batches of the next pass (a fresh shuffle). */
  nextEpoch(): Int32Array[] {
    return cut(this.shuffle(this.n), this.batchSize, this.dropLast);
  }

  /** 'carry' mode: the next full batch (min(batchSize, n) rows), drawing a fresh pass when needed. */
  next(): Int32Array {
    const m = Math.min(this.batchSize, this.n);
    if (this.pending.length < m) this.pending = this.pending.concat(Array.from(this.shuffle(this.n)));
    return Int32Array.from(this.pending.splice(0, m));
  }
}
