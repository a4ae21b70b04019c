/**
 * The kernel on the page: JupyterLite's BaseKernel, with cells run in a Web Worker (./worker).
 *
 * Execution: each execute_request goes to the worker; its streams and displays come back as
 * iopub messages with the request's parent header; the result becomes an `execute_result`, a
 * throw becomes an iopub `error` message and an `execute_reply` with status "error" (what
 * nbval, nbclient and JupyterLab's stop-on-error look for).
 *
 * Interrupt: `interrupt()` bumps the worker's interrupt count (a SharedArrayBuffer when the page
 * is cross-origin isolated, else a message) so library loops stop at their next step. If the
 * cell is still running after `interruptGraceMs`, the worker is terminated and a fresh one
 * started: the cell ends with a `KernelRestarted` error saying that earlier cells' variables
 * are gone.
 */
import { BaseKernel, type IKernel } from '@jupyterlite/services';
import type { KernelMessage } from '@jupyterlab/services';
import type { FromWorker, FromWorkerResult, ModuleMap, ToWorker } from './protocol';

export interface TypeScriptKernelOptions extends IKernel.IOptions {
  /** URL of the worker script (an ES module). */
  workerUrl: string;
  /** Import specifier → module URL (relative to `baseUrl`), `#name` for one export. */
  modules: ModuleMap;
  /** What relative module URLs resolve against. */
  baseUrl: string;
  /** `process.env` in cells. */
  env: Record<string, string>;
  /** How long an interrupted cell may take to stop before the worker is restarted. */
  interruptGraceMs: number;
}

interface Pending {
  resolve: (r: FromWorkerResult) => void;
  parentHeader: unknown;
}

export class TypeScriptKernel extends BaseKernel {
  private readonly opts: TypeScriptKernelOptions;
  private worker!: Worker;
  private workerReady!: Promise<void>;
  private markReady!: () => void;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private interruptView: Int32Array | null = null;
  private generation = 0;
  /** Why the current worker cannot run cells (it failed to load or crashed), else null. */
  private workerFailure: string | null = null;

  constructor(options: TypeScriptKernelOptions) {
    super(options);
    this.opts = options;
    this.startWorker();
  }

  override get ready(): Promise<void> {
    return this.workerReady;
  }

  /** Whether interrupts reach a running loop through shared memory (cross-origin isolated page). */
  get sharedInterrupts(): boolean {
    return this.interruptView !== null;
  }

  override dispose(): void {
    if (this.isDisposed) return;
    this.worker?.terminate();
    this.failPending('KernelShutdown', 'the kernel was shut down while the cell ran');
    super.dispose();
  }

  private startWorker(): void {
    const generation = ++this.generation;
    this.workerFailure = null;
    this.workerReady = new Promise<void>((resolve) => (this.markReady = resolve));
    const shared = typeof SharedArrayBuffer === 'function' && globalThis.crossOriginIsolated === true;
    const buffer = shared ? new SharedArrayBuffer(4) : null;
    this.interruptView = buffer ? new Int32Array(buffer) : null;
    const worker = new Worker(this.opts.workerUrl, { type: 'module', name: 'typescript-kernel' });
    this.worker = worker;
    worker.onmessage = (e: MessageEvent<FromWorker>) => {
      if (generation === this.generation) this.onWorkerMessage(e.data);
    };
    worker.onerror = (e: ErrorEvent) => {
      if (generation !== this.generation) return;
      e.preventDefault();
      // The worker script failed to load or threw outside any cell: say so in every cell, and
      // let the kernel come up (a worker that never says ready would hang every cell).
      this.workerFailure = `the kernel's worker failed: ${e.message || 'could not load ' + this.opts.workerUrl}`;
      this.failPending('WorkerError', this.workerFailure);
      this.markReady();
    };
    const init: ToWorker = {
      type: 'init',
      baseUrl: this.opts.baseUrl,
      modules: this.opts.modules,
      env: this.opts.env,
      interruptBuffer: buffer,
    };
    worker.postMessage(init);
  }

  private onWorkerMessage(msg: FromWorker): void {
    switch (msg.type) {
      case 'ready':
        this.markReady();
        return;
      case 'result': {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        p?.resolve(msg);
        return;
      }
      case 'iopub': {
        const header = msg.parentHeader as KernelMessage.IHeader<KernelMessage.MessageType> | undefined;
        const content = msg.content as never;
        switch (msg.msgType) {
          case 'stream':
            this.stream(content, header);
            return;
          case 'display_data':
            this.displayData(content, header);
            return;
          case 'update_display_data':
            this.updateDisplayData(content, header);
            return;
          case 'clear_output':
            this.clearOutput(content, header);
            return;
          case 'error':
            this.publishExecuteError(content, header);
            return;
        }
      }
    }
  }

  private failPending(ename: string, evalue: string): void {
    for (const [id, p] of this.pending) {
      p.resolve({ type: 'result', id, status: 'error', ename, evalue, traceback: [`${ename}: ${evalue}`] });
    }
    this.pending.clear();
  }

  /** Stop the running cell (see the class comment). Returns at once. */
  interrupt(): void {
    if (this.pending.size === 0) return;
    if (this.interruptView) Atomics.add(this.interruptView, 0, 1);
    else this.worker.postMessage({ type: 'interrupt' } satisfies ToWorker);
    const waiting = [...this.pending.keys()];
    setTimeout(() => {
      if (this.isDisposed || !waiting.some((id) => this.pending.has(id))) return;
      this.worker.terminate();
      this.failPending(
        'KernelRestarted',
        `the cell did not stop within ${this.opts.interruptGraceMs / 1000} s of the interrupt, so the kernel's worker was ` +
          'terminated and started again: variables from earlier cells are gone, run the notebook again from the top',
      );
      this.startWorker();
    }, this.opts.interruptGraceMs);
  }

  async kernelInfoRequest(): Promise<KernelMessage.IInfoReplyMsg['content']> {
    return {
      status: 'ok',
      protocol_version: '5.3',
      implementation: 'jupyterlite-typescript-kernel',
      implementation_version: '0.1.0',
      language_info: {
        name: 'typescript',
        version: '5.9',
        mimetype: 'text/typescript',
        file_extension: '.ts',
        codemirror_mode: { name: 'javascript', typescript: true },
        nbconvert_exporter: 'script',
        pygments_lexer: 'typescript',
      },
      banner: 'TypeScript in a Web Worker (JupyterLite), with tslab-style cells',
      help_links: [],
    };
  }

  async executeRequest(content: KernelMessage.IExecuteRequestMsg['content']): Promise<KernelMessage.IExecuteReplyMsg['content']> {
    await this.ready;
    const parentHeader = this.parentHeader;
    const id = this.nextId++;
    const result = this.workerFailure
      ? ({ type: 'result', id, status: 'error', ename: 'WorkerError', evalue: this.workerFailure, traceback: [`WorkerError: ${this.workerFailure}`] } as FromWorkerResult)
      : await new Promise<FromWorkerResult>((resolve) => {
          this.pending.set(id, { resolve, parentHeader });
          const msg: ToWorker = { type: 'execute', id, code: content.code, executionCount: this.executionCount, parentHeader };
          this.worker.postMessage(msg);
        });
    if (result.status === 'ok') {
      if (result.data) {
        this.publishExecuteResult({ execution_count: this.executionCount, data: result.data as never, metadata: {} }, parentHeader);
      }
      return { status: 'ok', execution_count: this.executionCount, user_expressions: {}, payload: [] } as never;
    }
    const error = { ename: result.ename ?? 'Error', evalue: result.evalue ?? '', traceback: result.traceback ?? [] };
    this.publishExecuteError(error, parentHeader);
    return { status: 'error', execution_count: this.executionCount, ...error } as never;
  }

  async completeRequest(content: KernelMessage.ICompleteRequestMsg['content']): Promise<KernelMessage.ICompleteReplyMsg['content']> {
    return { status: 'ok', matches: [], cursor_start: content.cursor_pos, cursor_end: content.cursor_pos, metadata: {} };
  }

  async inspectRequest(): Promise<KernelMessage.IInspectReplyMsg['content']> {
    return { status: 'ok', found: false, data: {}, metadata: {} };
  }

  async isCompleteRequest(): Promise<KernelMessage.IIsCompleteReplyMsg['content']> {
    return { status: 'complete' } as never;
  }

  async commInfoRequest(): Promise<KernelMessage.ICommInfoReplyMsg['content']> {
    return { status: 'ok', comms: {} };
  }

  inputReply(): void {}
  async commOpen(): Promise<void> {}
  async commMsg(): Promise<void> {}
  async commClose(): Promise<void> {}
}
