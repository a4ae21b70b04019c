/** Messages between the kernel (page) and its Web Worker. Plain structured-clone data. */

/** Where cell imports resolve: specifier → URL of an ES module, optionally `#exportName`. */
export type ModuleMap = Record<string, string>;

export interface WorkerInit {
  type: 'init';
  /** Absolute URL of the worker's own script (for anything it loads relative to itself). */
  baseUrl: string;
  modules: ModuleMap;
  /** `process.env` as cells see it. */
  env: Record<string, string>;
  /** Int32Array over a SharedArrayBuffer: [0] counts interrupts (only when cross-origin isolated). */
  interruptBuffer: SharedArrayBuffer | null;
}

export interface WorkerExecute {
  type: 'execute';
  id: number;
  code: string;
  executionCount: number;
  parentHeader: unknown;
}

/** An interrupt where no SharedArrayBuffer exists (handled when the cell next yields). */
export interface WorkerInterrupt {
  type: 'interrupt';
}

export type ToWorker = WorkerInit | WorkerExecute | WorkerInterrupt;

export type IOPubType = 'stream' | 'display_data' | 'update_display_data' | 'clear_output' | 'error';

export interface FromWorkerIOPub {
  type: 'iopub';
  msgType: IOPubType;
  content: Record<string, unknown>;
  parentHeader: unknown;
}

export interface FromWorkerResult {
  type: 'result';
  id: number;
  status: 'ok' | 'error';
  /** The cell's final expression as a MIME bundle (ok only; absent when undefined). */
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
  traceback?: string[];
}

export interface FromWorkerReady {
  type: 'ready';
}

export type FromWorker = FromWorkerIOPub | FromWorkerResult | FromWorkerReady;
