/**
 * A small seeded generator (mulberry32) so that codebook init, k-means seeding and dead-code
 * restarts are reproducible on every backend: all random numbers are drawn here, in JS.
 */
export class Rng {
  private state: number;

  /** @param seed any integer; undefined draws one from Math.random (not reproducible). */
  constructor(seed?: number) {
    this.state = (seed ?? Math.floor(Math.random() * 2 ** 32)) >>> 0;
  }

  /** Uniform in [0, 1). mulberry32 (Tommy Ettinger, public domain). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** `n` draws from U(lo, hi). */
  uniform(n: number, lo: number, hi: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * this.next();
    return out;
  }

  /** `n` draws from N(mean, std²) by Box–Muller. */
  normal(n: number, mean = 0, std = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i += 2) {
      const u = 1 - this.next(); // (0, 1]: log(u) is finite
      const r = Math.sqrt(-2 * Math.log(u));
      const a = 2 * Math.PI * this.next();
      out[i] = mean + std * r * Math.cos(a);
      if (i + 1 < n) out[i + 1] = mean + std * r * Math.sin(a);
    }
    return out;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /**
   * `k` row numbers out of `n`: distinct (partial Fisher–Yates) when k ≤ n, otherwise every
   * row once in random order and then the rest drawn with replacement.
   */
  sample(n: number, k: number): number[] {
    const perm = Array.from({ length: n }, (_, i) => i);
    const m = Math.min(k, n);
    for (let i = 0; i < m; i++) {
      const j = i + this.int(n - i);
      [perm[i], perm[j]] = [perm[j], perm[i]];
    }
    const out = perm.slice(0, m);
    while (out.length < k) out.push(this.int(n));
    return out;
  }
}
