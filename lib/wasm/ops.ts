/**
 * Small toolkit for writing wasm kernels out of other wasm kernels.
 *
 * A kernel function receives and returns `TensorInfo`s (not Tensors): the engine does not
 * track what a kernel allocates internally. Every intermediate made here is therefore owned
 * by a `KernelScope` and released with the backend's `disposeData` (which honours the
 * reference counts that wasm's Reshape uses to share buffers), so a composed kernel leaves
 * exactly one new buffer behind: the output it returns.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export type TensorInfo = tf.TensorInfo;
export type Attrs = tf.NamedAttrMap;

interface WasmKernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: BackendWasm;
  attrs?: Attrs;
}
type WasmKernelFunc = (args: WasmKernelArgs) => TensorInfo | TensorInfo[];

/** The kernel functions wasm shipped with, captured before we override any of them. */
const shipped = new Map<string, tf.KernelConfig>();

/** Remember wasm's own config for `name` (call before overriding it). */
export function captureShipped(name: string): tf.KernelConfig | undefined {
  if (!shipped.has(name)) {
    const cfg = tf.getKernel(name, 'wasm');
    if (cfg) shipped.set(name, cfg);
  }
  return shipped.get(name);
}

function kernelFuncFor(name: string): WasmKernelFunc {
  const cfg = shipped.get(name) ?? tf.getKernel(name, 'wasm');
  if (!cfg) throw new Error(`wasm kernel '${name}' is not registered`);
  return cfg.kernelFunc as unknown as WasmKernelFunc;
}

export function asWasm(backend: unknown): BackendWasm {
  return backend as BackendWasm;
}

/** Owns the intermediates of one kernel invocation. */
export class KernelScope {
  private readonly owned: TensorInfo[] = [];
  private readonly aliases: TensorInfo[] = [];
  constructor(readonly backend: BackendWasm) {}

  /**
   * A new tensor id over x's memory (no copy), with any shape of the same size. wasm's
   * XNNPACK caches some operators by tensor id (the fully-connected operator by its weights'
   * id, ignoring shape); an alias gives an operator of its own that dies with the alias.
   * Released (without freeing the memory) by dispose().
   */
  alias(x: TensorInfo, shape: number[]): TensorInfo {
    if (tf.util.sizeFromShape(shape) !== tf.util.sizeFromShape(x.shape)) {
      throw new Error(`alias: size mismatch ${x.shape} -> ${shape}`);
    }
    const data = this.backend.dataIdMap.get(x.dataId);
    if (!data) throw new Error('alias: unknown dataId');
    const out = this.backend.makeOutput(shape, x.dtype, data.memoryOffset);
    this.aliases.push(out);
    return out;
  }

  /** Run wasm kernel `name` (the shipped one when we overrode it); the result is owned. */
  run(name: string, inputs: tf.NamedTensorInfoMap, attrs: Attrs = {}): TensorInfo {
    const out = kernelFuncFor(name)({ inputs, backend: this.backend, attrs });
    if (Array.isArray(out)) throw new Error(`kernel ${name} returned several outputs`);
    this.owned.push(out);
    return out;
  }

  /** Run one of OUR kernel functions on this backend; the result is owned. */
  call(fn: (args: WasmKernelArgs) => TensorInfo, inputs: tf.NamedTensorInfoMap, attrs: Attrs = {}): TensorInfo {
    const out = fn({ inputs, backend: this.backend, attrs });
    this.owned.push(out);
    return out;
  }

  /** A new float32 buffer (contents undefined), owned. */
  make(shape: number[], dtype: tf.DataType = 'float32'): TensorInfo {
    const out = this.backend.makeOutput(shape, dtype);
    this.owned.push(out);
    return out;
  }

  /** A zero-filled float32 buffer, owned. */
  zeros(shape: number[]): TensorInfo {
    const out = this.make(shape);
    heapF32(this.backend, out).fill(0);
    return out;
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  slice(x: TensorInfo, begin: number[], size: number[]): TensorInfo {
    return this.run('Slice', { x }, { begin, size });
  }

  /** A float32 buffer filled with `value`, owned. */
  fill(shape: number[], value: number): TensorInfo {
    const out = this.make(shape);
    heapF32(this.backend, out).fill(value);
    return out;
  }

  /** Free one owned intermediate now (keeps peak memory down inside loops). */
  dispose1(t: TensorInfo): void {
    const i = this.owned.lastIndexOf(t);
    if (i < 0) throw new Error('KernelScope.dispose1: not owned by this scope');
    this.owned.splice(i, 1);
    this.backend.disposeData(t.dataId);
  }

  /** Take `t` out of the scope: it survives `dispose()` (used for the kernel's output). */
  keep(t: TensorInfo): TensorInfo {
    const i = this.owned.lastIndexOf(t);
    if (i >= 0) {
      this.owned.splice(i, 1);
      return t;
    }
    if (this.aliases.includes(t)) throw new Error('KernelScope.keep: an alias cannot outlive its scope');
    // Not made here (an input passed through): the output needs a reference of its own.
    this.backend.incRef(t.dataId);
    return { dataId: t.dataId, shape: t.shape.slice(), dtype: t.dtype };
  }

  dispose(): void {
    for (const t of this.owned) this.backend.disposeData(t.dataId);
    this.owned.length = 0;
    for (const t of this.aliases) {
      const data = this.backend.dataIdMap.get(t.dataId);
      if (!data) continue;
      // Drop the id (and the operators cached on it) but not the memory: x owns that.
      this.backend.wasm.tfjs.disposeData(data.id);
      this.backend.dataIdMap.delete(t.dataId);
    }
    this.aliases.length = 0;
  }
}

/** Run `body` with a scope; everything it allocates except the returned info is freed. */
export function withScope(backend: unknown, body: (s: KernelScope) => TensorInfo): TensorInfo {
  const s = new KernelScope(asWasm(backend));
  try {
    return s.keep(body(s));
  } finally {
    s.dispose();
  }
}

/**
 * A Float32Array view of a tensor's data on the wasm heap. Take a fresh view after any call
 * into wasm (the heap may grow, which detaches or shortens older views).
 */
export function heapF32(backend: BackendWasm, t: TensorInfo): Float32Array {
  const data = backend.dataIdMap.get(t.dataId);
  if (!data) throw new Error('heapF32: unknown dataId');
  // With the threaded build the heap is a growable SharedArrayBuffer; the module's HEAP views
  // can lag behind a growth done on another thread, the memory object itself cannot.
  const mod = backend.wasm as unknown as { wasmMemory?: WebAssembly.Memory; HEAPU8: Uint8Array };
  const buffer = mod.wasmMemory ? mod.wasmMemory.buffer : mod.HEAPU8.buffer;
  return new Float32Array(buffer, data.memoryOffset, tf.util.sizeFromShape(t.shape));
}

export function heapI32(backend: BackendWasm, t: TensorInfo): Int32Array {
  const data = backend.dataIdMap.get(t.dataId);
  if (!data) throw new Error('heapI32: unknown dataId');
  const mod = backend.wasm as unknown as { wasmMemory?: WebAssembly.Memory; HEAPU8: Uint8Array };
  const buffer = mod.wasmMemory ? mod.wasmMemory.buffer : mod.HEAPU8.buffer;
  return new Int32Array(buffer, data.memoryOffset, tf.util.sizeFromShape(t.shape));
}

/** Explicit conv padding in the form kernels accept: [[0,0],[top,bottom],[left,right],[0,0]]. */
export function explicitPad(top: number, bottom: number, left: number, right: number): tf.backend_util.ExplicitPadding {
  return [[0, 0], [top, bottom], [left, right], [0, 0]];
}

type Pad = tf.backend_util.ExplicitPadding | 'same' | 'valid' | number;

/** An explicit padding given for NCHW ([[0,0],[0,0],[t,b],[l,r]]) in NHWC order; others unchanged. */
export function padToNHWC(pad: Pad, dataFormat: string): Pad {
  if (dataFormat !== 'NCHW' || typeof pad !== 'object') return pad;
  return [pad[0], pad[2], pad[3], pad[1]];
}
