/**
 * Exponential moving averages of per-code counts and sums, for the EMA codebook update
 * (van den Oord et al. 2017, appendix A.1; Sonnet `VectorQuantizerEMA`) and for the usage
 * counts that dead-code restarts read (Dhariwal et al. 2020, Jukebox).
 */
import * as tf from '@tensorflow/tfjs';

/** rows of `base` where mask = 1 replaced by the same rows of `repl`.   base, repl: [K, ...], mask: [K] */
export function replaceRows(base: tf.Tensor, mask: tf.Tensor1D, repl: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const m = tf.reshape(mask, [mask.shape[0], ...base.shape.slice(1).map(() => 1)]);
    return tf.add(tf.mul(m, repl), tf.mul(tf.sub(1, m), base));
  });
}

export class CodebookEma {
  /** EMA of how many vectors each code received per batch.   [K] */
  readonly clusterSize: tf.Variable<tf.Rank.R1>;
  /** EMA of the sum of the vectors each code received (only when the codebook is EMA-trained).   [K, dim] */
  readonly embedSum: tf.Variable<tf.Rank.R2> | null;
  /** Updates applied so far (the t in the debiasing factor 1 − decay^t). */
  steps = 0;

  constructor(
    readonly codebookSize: number,
    readonly dim: number,
    readonly decay: number,
    readonly epsilon: number,
    trackSums: boolean,
  ) {
    this.clusterSize = tf.tidy(() => tf.variable(tf.zeros([codebookSize]), false)) as tf.Variable<tf.Rank.R1>;
    this.embedSum = trackSums ? (tf.tidy(() => tf.variable(tf.zeros([codebookSize, dim]), false)) as tf.Variable<tf.Rank.R2>) : null;
  }

  /**
   * One debiased EMA step, as Sonnet's ExponentialMovingAverage: hidden_t = d·hidden_{t−1} + (1−d)·v,
   * average_t = hidden_t / (1 − d^t), written on the averages: avg_t = a·avg_{t−1} + b·v with
   * a = d(1 − d^{t−1}) / (1 − d^t), b = (1 − d) / (1 − d^t)  (so avg_1 = v).
   * counts: [K] codes' counts in this batch, sums: [K, dim] their vector sums (or null).
   */
  update(counts: tf.Tensor1D, sums: tf.Tensor2D | null): void {
    const d = this.decay;
    const t = ++this.steps;
    const denom = 1 - Math.pow(d, t);
    const a = (d * (1 - Math.pow(d, t - 1))) / denom;
    const b = (1 - d) / denom;
    tf.tidy(() => {
      this.clusterSize.assign(tf.add(tf.mul(this.clusterSize, a), tf.mul(counts, b)));
      if (this.embedSum && sums) this.embedSum.assign(tf.add(tf.mul(this.embedSum, a), tf.mul(sums, b)));
    });
  }

  /**
   * The codebook the averages imply, with Laplace smoothing of the counts (Sonnet):
   * n = Σ_k N_k,  Ñ_k = (N_k + ε) / (n + K ε) · n,  e_k = m_k / Ñ_k.   → [K, dim]
   */
  codebook(): tf.Tensor2D {
    if (!this.embedSum) throw new Error('CodebookEma.codebook(): sums are not tracked');
    const sums = this.embedSum;
    return tf.tidy(() => {
      const n = tf.sum(this.clusterSize);
      const smoothed = tf.mul(tf.div(tf.add(this.clusterSize, this.epsilon), tf.add(n, this.codebookSize * this.epsilon)), n);
      return tf.div(sums, tf.reshape(smoothed, [-1, 1])) as tf.Tensor2D;
    });
  }

  /**
   * Restart bookkeeping for re-seeded codes (mask [K], 1 = restarted; vectors [K, dim] their new
   * positions): their count becomes `count` and their sum vector·count, so e_k ≈ vector. A code
   * that then wins nothing decays below `count` and is re-seeded at the next step (Jukebox).
   */
  reseed(mask: tf.Tensor1D, vectors: tf.Tensor2D, count: number): void {
    tf.tidy(() => {
      this.clusterSize.assign(replaceRows(this.clusterSize, mask, tf.fill([this.codebookSize], count)) as tf.Tensor1D);
      if (this.embedSum) this.embedSum.assign(replaceRows(this.embedSum, mask, tf.mul(vectors, count)) as tf.Tensor2D);
    });
  }

  dispose(): void {
    this.clusterSize.dispose();
    this.embedSum?.dispose();
  }
}
