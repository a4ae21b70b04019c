/**
 * Kernel interrupts for the library's long loops (training, evaluation, encoding, sampling, NLL).
 *
 * When Jupyter interrupts the tslab kernel (SIGINT), tslab ends the running cell at once, but the
 * cell's promise keeps running: without a check, `await trainer.fit(x, { epochs: 1000 })` would
 * go on training in the background. scripts/tslab-kernel.cjs counts interrupts in
 * `globalThis[Symbol.for('vq-notebooks.interrupts')]`; every loop of ours takes a guard when it
 * starts and checks it before each step, stopping with an InterruptedError when the count moved.
 * A step is never cut in half: the model keeps the weights of its last completed step.
 * Outside the kernel the count never moves (a plain script's Ctrl-C ends the process as usual).
 */
const INTERRUPTS = Symbol.for('vq-notebooks.interrupts');

/** Interrupts the host (the tslab kernel launcher) has received so far. */
export function interruptCount(): number {
  const n = (globalThis as Record<symbol, unknown>)[INTERRUPTS];
  return typeof n === 'number' ? n : 0;
}

/** Count one interrupt, as the kernel does on SIGINT (for tests and for hosts other than tslab). */
export function signalInterrupt(): void {
  (globalThis as Record<symbol, unknown>)[INTERRUPTS] = interruptCount() + 1;
}

/**
 * A promise that resolves after the event loop's next turn: setImmediate under Node (after
 * pending I/O, such as a SIGINT handler), a zero-delay timer where there is none (browsers).
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise<void>((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
}

/** What a loop throws when the kernel was interrupted while it ran. */
export class InterruptedError extends Error {
  constructor(where: string, done: string) {
    super(`${where}: interrupted (kernel interrupt) after ${done}; the model keeps the weights of the last completed step`);
    this.name = 'InterruptedError';
  }
}

/**
 * A check for one loop: `await check(done)` before each step yields to the event loop once (so
 * that the SIGINT handler can run even in a loop whose awaits all resolve as microtasks, as
 * wasm's `data()` does), then rejects with an InterruptedError naming `where` once an interrupt
 * arrived after the guard was made. `done()` says how far the loop got.
 */
export function interruptGuard(where: string): (done: () => string) => Promise<void> {
  const start = interruptCount();
  return async (done) => {
    await yieldToEventLoop();
    if (interruptCount() !== start) throw new InterruptedError(where, done());
  };
}
