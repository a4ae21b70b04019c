/**
 * Memory guard for the VQ layer on the wasm backend. wasm32's heap ends at 4 GiB: a VQ step
 * whose [N, K] distance tensors do not fit used to hang (threaded build) or abort the wasm
 * module (`RuntimeError: Aborted()`), after which every op of the backend throws. We estimate
 * the bytes before running and throw a catchable error that says so and what N fits.
 */
import * as tf from '@tensorflow/tfjs';
import { vqPeakBytes } from './distance';

/** wasm32's address space; tfjs-backend-wasm's heap grows up to it. */
export const WASM_HEAP_LIMIT = 4 * 1024 ** 3;

const GiB = (b: number) => `${(b / 1024 ** 3).toFixed(2)} GiB`;

/** Whether the engine is recording a gradient (tf.grad / variableGrads / minimize) right now. */
function recordingGradient(): boolean {
  const engine = tf.engine() as unknown as { state?: { gradientDepth?: number } };
  return (engine.state?.gradientDepth ?? 0) > 0;
}

/**
 * Throw when a VQ forward (+ backward, when a gradient is being recorded) over N vectors of dim
 * D against K codes would not fit in what is left of the wasm heap. No-op on other backends.
 * `heapLimit` and `inUse` are for tests (default: 4 GiB and tf.memory().numBytes).
 */
export function checkVQMemory(where: string, N: number, K: number, D: number,
  opts: { backend?: string; heapLimit?: number; inUse?: number; withGradient?: boolean } = {}): void {
  if ((opts.backend ?? tf.getBackend()) !== 'wasm') return;
  const withGradient = opts.withGradient ?? recordingGradient();
  const need = vqPeakBytes(N, K, D, withGradient);
  const inUse = opts.inUse ?? tf.memory().numBytes;
  // a margin for the rest of the model, XNNPACK's buffers and the allocator's fragmentation
  const free = 0.85 * (opts.heapLimit ?? WASM_HEAP_LIMIT) - inUse;
  if (need <= free) return;
  let fits = 0;
  for (let lo = 0, hi = N; lo <= hi;) {
    const mid = Math.floor((lo + hi) / 2);
    if (vqPeakBytes(mid, K, D, withGradient) <= free) { fits = mid; lo = mid + 1; } else hi = mid - 1;
  }
  throw new Error(
    `${where}: out of memory — ${N.toLocaleString('en-US')} vectors × ${K.toLocaleString('en-US')} codes (dim ${D}) need about ` +
    `${GiB(need)} for the forward${withGradient ? ' and backward' : ''} pass, more than the ${GiB(Math.max(0, free))} left of the ` +
    `wasm backend's 4 GiB heap (${GiB(inUse)} held by tensors). Pass at most ${fits.toLocaleString('en-US')} vectors at a time ` +
    `(split z into batches), or use fewer codes.`,
  );
}
