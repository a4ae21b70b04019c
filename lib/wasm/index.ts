/**
 * Extra kernels that make training possible on the wasm backend.
 * (Filled in by the wasm-kernels work: Conv2DBackpropFilter, fast Conv2DBackpropInput, ...)
 */
let registered = false;

/** Register the training kernels wasm lacks. Safe to call more than once. */
export function registerWasmKernels(): void {
  if (registered) return;
  registered = true;
}
