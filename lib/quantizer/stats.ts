/**
 * Codebook-health statistics across batches, kept in plain JS numbers so that notebooks can
 * read and plot them without holding tensors. Perplexity: lib/metrics.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { perplexityOf } from '../metrics';
import { MAX_CODEBOOK_SIZE, checkInt } from '../validate';

export { perplexityOf };

export interface BatchStats {
  /** exp(entropy) of this batch's assignment frequencies. */
  perplexity: number;
  /** Fraction of codes used in this batch. */
  usage: number;
  /** Vectors in this batch. */
  vectors: number;
}

export class CodebookStats {
  /** Cumulative count of assignments to each code since creation or reset().   [K] */
  readonly counts: Float64Array;
  /** Counts over the last `window` batches.   [K] */
  readonly windowCounts: Float64Array;
  /** Batches recorded since creation or reset(). */
  batches = 0;
  /** Vectors recorded since creation or reset(). */
  vectors = 0;
  /** Codes re-seeded by dead-code restarts since creation or reset(). */
  restarts = 0;
  /** The most recent batch, or null before the first. */
  last: BatchStats | null = null;
  /** Per-batch perplexity history (one entry per recorded batch), for plots. */
  readonly history: number[] = [];
  private readonly ring: Array<{ codes: Int32Array; n: Int32Array }> = [];

  constructor(readonly codebookSize: number, readonly window = 100) {
    checkInt('CodebookStats: codebookSize', codebookSize, 1, MAX_CODEBOOK_SIZE);
    checkInt('CodebookStats: window', window, 1);
    this.counts = new Float64Array(codebookSize);
    this.windowCounts = new Float64Array(codebookSize);
  }

  /** Record one batch of code indices (any shape; a tensor is read synchronously, not disposed). */
  update(indices: tf.Tensor | ArrayLike<number>): BatchStats {
    const flat = indices instanceof tf.Tensor ? indices.dataSync() : indices;
    const batch = new Map<number, number>();
    for (let i = 0; i < flat.length; i++) {
      const k = flat[i];
      if (!Number.isInteger(k) || k < 0 || k >= this.codebookSize) {
        throw new Error(`CodebookStats.update(indices): indices must be integers in [0, ${this.codebookSize - 1}], got ${k}`);
      }
      batch.set(k, (batch.get(k) ?? 0) + 1);
    }
    const codes = Int32Array.from(batch.keys());
    const n = Int32Array.from(batch.values());
    for (let j = 0; j < codes.length; j++) {
      this.counts[codes[j]] += n[j];
      this.windowCounts[codes[j]] += n[j];
    }
    this.ring.push({ codes, n });
    if (this.ring.length > this.window) {
      const old = this.ring.shift()!;
      for (let j = 0; j < old.codes.length; j++) this.windowCounts[old.codes[j]] -= old.n[j];
    }
    this.batches += 1;
    this.vectors += flat.length;
    this.last = { perplexity: perplexityOf(n), usage: codes.length / this.codebookSize, vectors: flat.length };
    this.history.push(this.last.perplexity);
    return this.last;
  }

  /** Perplexity of the assignments pooled over the last `window` batches. */
  windowPerplexity(): number {
    return perplexityOf(this.windowCounts);
  }

  /** Fraction of codes used at least once in the last `window` batches. */
  windowUsage(): number {
    return (this.codebookSize - this.deadCount()) / this.codebookSize;
  }

  /** Codes not used in the last `window` batches ("dead"); all K before the first batch. */
  deadCount(): number {
    let dead = 0;
    for (let k = 0; k < this.codebookSize; k++) if (this.windowCounts[k] === 0) dead++;
    return dead;
  }

  /** One line for a notebook, e.g. "batches 120 | perplexity 51.3 (window) | used 60/64 | dead 4 | restarts 9". */
  summary(): string {
    const used = this.codebookSize - this.deadCount();
    return (
      `batches ${this.batches} | perplexity ${this.windowPerplexity().toFixed(1)} (last ${Math.min(this.batches, this.window)})` +
      ` | used ${used}/${this.codebookSize} | dead ${this.codebookSize - used} | restarts ${this.restarts}`
    );
  }

  reset(): void {
    this.counts.fill(0);
    this.windowCounts.fill(0);
    this.ring.length = 0;
    this.history.length = 0;
    this.batches = 0;
    this.vectors = 0;
    this.restarts = 0;
    this.last = null;
  }
}
