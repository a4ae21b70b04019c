/**
 * Codebook-usage numbers from code counts, defined once for the quantizers' running statistics
 * and the VQ-VAE's training and evaluation. Perplexity as in Sonnet and ginka-generator:
 * exp(−Σ p log p) of the assignment frequencies p (K means every code used equally, 1 collapse).
 */

/** exp(−Σ p log p) over counts (p = count / total); 0·log 0 = 0; 0 when every count is 0. */
export function perplexityOf(counts: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i];
  if (total === 0) return 0;
  let h = 0;
  for (let i = 0; i < counts.length; i++) {
    if (counts[i] > 0) {
      const p = counts[i] / total;
      h -= p * Math.log(p);
    }
  }
  return Math.exp(h);
}

/** Fraction of codes with a count > 0. */
export function usageOf(counts: ArrayLike<number>): number {
  let used = 0;
  for (let i = 0; i < counts.length; i++) if (counts[i] > 0) used++;
  return used / counts.length;
}

/** Code counts → perplexity and usage. */
export function codeStats(counts: ArrayLike<number>): { perplexity: number; usage: number } {
  return { perplexity: perplexityOf(counts), usage: usageOf(counts) };
}
