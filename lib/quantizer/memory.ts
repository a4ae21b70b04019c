/**
 * Memory guard for the quantizers. Their forward passes hold [N, K] tensors (N vectors × K
 * codes): on the wasm backend a step that does not fit in wasm32's 4 GiB heap used to hang
 * (threaded build) or abort the module (`RuntimeError: Aborted()`, "memory access out of
 * bounds"), after which every op of the backend throws; on the native backend it ended in a raw
 * `Invalid TF_Status: 8 … OOM` (or the OS killing the process). We estimate the bytes before any
 * tensor work and throw a catchable error that says so and how many vectors fit.
 *
 * Browser-safe: no `node:*` import here. The native backend's limit (free system memory) comes
 * from lib/backend.ts through {@link setNativeMemoryProbe}; without a probe only wasm is guarded.
 */
import * as tf from '@tensorflow/tfjs';
import { vqPeakBytes } from './distance';

/** wasm32's address space; tfjs-backend-wasm's heap grows up to it. */
export const WASM_HEAP_LIMIT = 4 * 1024 ** 3;

const GiB = (b: number) => `${(b / 1024 ** 3).toFixed(2)} GiB`;
const n = (x: number) => x.toLocaleString('en-US');

/** Bytes of memory the native (TensorFlow) backend may still allocate, or null when unknown. */
let nativeProbe: (() => number | null) | null = null;

/**
 * Set how the guard learns the memory left to the native backend (lib/backend.ts passes
 * `os.freemem()`, i.e. MemAvailable on Linux); null switches the native guard off.
 */
export function setNativeMemoryProbe(probe: (() => number | null) | null): void {
  nativeProbe = probe;
}

/** Whether the engine is recording a gradient (tf.grad / variableGrads / minimize) right now. */
export function recordingGradient(): boolean {
  const engine = tf.engine() as unknown as { state?: { gradientDepth?: number } };
  return (engine.state?.gradientDepth ?? 0) > 0;
}

export interface MemoryCheckOptions {
  /** Backend name (default tf.getBackend()). */
  backend?: string;
  /** wasm: the heap's size (default 4 GiB). */
  heapLimit?: number;
  /** wasm: bytes held by tensors (default tf.memory().numBytes). */
  inUse?: number;
  /** native: bytes the system can still give (default: the probe set by lib/backend.ts). */
  available?: number;
  /** Whether a gradient is being recorded (default: whether one is). */
  withGradient?: boolean;
}

/**
 * Throw when `need(N, withGradient)` bytes would not fit in what the backend has left: wasm's 4 GiB
 * heap less the tensors it holds, or the native backend's free system memory. A no-op on other
 * backends. `what` describes the work, e.g. "4,096 vectors × 65,536 codes (dim 16)".
 */
export function checkMemory(where: string, N: number, what: string, need: (N: number, withGradient: boolean) => number,
  opts: MemoryCheckOptions = {}): void {
  const backend = opts.backend ?? tf.getBackend();
  let free: number;
  let pool: string;
  if (backend === 'wasm') {
    const inUse = opts.inUse ?? tf.memory().numBytes;
    // a margin for the rest of the model, XNNPACK's buffers and the allocator's fragmentation
    free = 0.85 * (opts.heapLimit ?? WASM_HEAP_LIMIT) - inUse;
    pool = `the ${GiB(Math.max(0, free))} left of the wasm backend's 4 GiB heap (${GiB(inUse)} held by tensors)`;
  } else if (backend === 'tensorflow') {
    const avail = opts.available ?? nativeProbe?.() ?? null;
    if (avail === null || !Number.isFinite(avail)) return;
    free = 0.85 * avail;
    pool = `the ${GiB(Math.max(0, free))} of system memory the native backend can still take (85% of ${GiB(avail)} available)`;
  } else {
    return;
  }
  const withGradient = opts.withGradient ?? recordingGradient();
  const bytes = need(N, withGradient);
  if (bytes <= free) return;
  let fits = 0;
  for (let lo = 0, hi = N; lo <= hi;) {
    const mid = Math.floor((lo + hi) / 2);
    if (need(mid, withGradient) <= free) { fits = mid; lo = mid + 1; } else hi = mid - 1;
  }
  throw new Error(
    `${where}: out of memory — ${what} need about ${GiB(bytes)} for the forward${withGradient ? ' and backward' : ''} pass, ` +
    `more than ${pool}. Pass at most ${n(fits)} vectors at a time (split z into batches), or use fewer codes.`,
  );
}

/**
 * Throw when a VQ forward (+ backward, when a gradient is being recorded) over N vectors of dim
 * D against K codes would not fit (see checkMemory). `heapLimit` and `inUse` are for tests.
 */
export function checkVQMemory(where: string, N: number, K: number, D: number, opts: MemoryCheckOptions = {}): void {
  checkMemory(where, N, `${n(N)} vectors × ${n(K)} codes (dim ${D})`, (m, g) => vqPeakBytes(m, K, D, g), opts);
}

/**
 * Peak bytes of LFQ's forward (+ backward) over N vectors of width D with d = log2 K bits: the
 * entropy term's [N, K] logits, softmax, clamped log and products stay alive in one tidy.
 * Measured with tf.profile (N 512, K 1,024, wasm and native): 18.4–19.1 [N, K] tensors; 20 here.
 */
export function lfqPeakBytes(N: number, K: number, D: number, d: number): number {
  return 4 * (20 * N * K + 8 * (N * D + K * d + N * d));
}

/**
 * Peak bytes of SimVQ's forward (+ backward): distances, their argmin and the one-hot [N, K]
 * (kept for the gradient to W), plus the codebook C·W. Measured with tf.profile (N 512, K 1,024,
 * dim 8 and 64): 12.6–16.4 [N, K] tensors' worth; 14 [N, K] plus the [N, D] and [K, f + D] terms here.
 */
export function simvqPeakBytes(N: number, K: number, D: number, f: number): number {
  return 4 * (14 * N * K + 8 * (N * D + K * (f + D)));
}
