/**
 * The kernel's Web Worker: runs notebook cells.
 *
 * Each cell is transpiled and rewritten by ./transform (tslab's semantics: top-level names
 * persist, top-level await, the last expression is the result) and evaluated with indirect eval
 * in the worker's global scope. The worker also provides what tslab notebooks expect from their
 * host, in browser form:
 *  - console.* → Jupyter `stream` messages (stdout, stderr), formatted like Node's util.format;
 *  - `process` with `env`, `stdout.write`, `stderr.write` (no `versions.node`: libraries must
 *    not take this for Node), and `setImmediate`;
 *  - tslab's display API as the global `tslab` (`tslab.display.html(...)`, `png`, `newDisplay()`)
 *    and its writer `tslab.lastWriteDisplayData(msg, update)`, the hook a library uses to send
 *    `display_data` / `update_display_data` with any MIME bundle;
 *  - imports resolved through a module map from the page (specifier → ES module URL), e.g.
 *    `../dist/lib/index.js` → the bundled library; `tslab` → the display API;
 *  - interrupts: the count lives in a SharedArrayBuffer when the page is cross-origin isolated
 *    (read at any time, even by a loop that never yields), else in a message handled when the
 *    cell next yields to the event loop. It is exposed as
 *    `globalThis[Symbol.for('vq-notebooks.interrupts')]`, the protocol the tslab launcher uses
 *    (scripts/tslab-kernel.cjs), so library loops stop at their next step. A cell that does not
 *    stop is ended by the page terminating this worker (see ./kernel).
 */
import { CellSyntaxError, transformCell } from './transform';
import { format, inspect } from './inspect';
import type { FromWorker, FromWorkerResult, IOPubType, ModuleMap, ToWorker } from './protocol';

type MimeBundle = Record<string, unknown>;
interface DisplayMsg {
  data: MimeBundle;
  metadata?: Record<string, unknown>;
  transient?: { display_id?: string };
}

const G = globalThis as unknown as Record<string | symbol, unknown> & {
  postMessage(msg: unknown): void;
  addEventListener(type: string, f: (e: any) => void): void;
};

let parentHeader: unknown = null;
let modules: ModuleMap = {};
let baseUrl = '';
let interruptView: Int32Array | null = null;
let localInterrupts = 0;
let interruptOffset = 0;
const loaded = new Map<string, Promise<Record<string, unknown>>>();

function post(msg: FromWorker): void {
  try {
    G.postMessage(msg);
  } catch {
    // not structured-cloneable (a function in a display bundle...): send its JSON form
    G.postMessage(JSON.parse(JSON.stringify(msg)));
  }
}

function iopub(msgType: IOPubType, content: Record<string, unknown>): void {
  post({ type: 'iopub', msgType, content, parentHeader });
}

function stream(name: 'stdout' | 'stderr', text: string): void {
  if (text !== '') iopub('stream', { name, text });
}

// ---- console -------------------------------------------------------------------------------
const timers = new Map<string, number>();
const counts = new Map<string, number>();
const out = (...a: unknown[]) => stream('stdout', format(...a) + '\n');
const err = (...a: unknown[]) => stream('stderr', format(...a) + '\n');
Object.assign(console, {
  log: out,
  info: out,
  debug: out,
  dir: (v: unknown) => stream('stdout', inspect(v) + '\n'),
  table: out,
  warn: err,
  error: err,
  trace: (...a: unknown[]) => err(format(...a), '\n' + (new Error().stack ?? '').split('\n').slice(2).join('\n')),
  assert: (cond: unknown, ...a: unknown[]) => {
    if (!cond) err('Assertion failed' + (a.length ? ': ' + format(...a) : ''));
  },
  time: (label = 'default') => void timers.set(label, performance.now()),
  timeEnd: (label = 'default') => {
    const t = timers.get(label);
    if (t !== undefined) out(`${label}: ${(performance.now() - t).toFixed(3)}ms`);
    timers.delete(label);
  },
  count: (label = 'default') => {
    const n = (counts.get(label) ?? 0) + 1;
    counts.set(label, n);
    out(`${label}: ${n}`);
  },
});

// ---- process, setImmediate -------------------------------------------------------------------
const listeners = new Map<string, Function[]>();
const processShim = {
  env: {} as Record<string, string>,
  argv: ['jupyterlite'],
  pid: 1,
  platform: 'browser',
  browser: true,
  title: 'browser',
  version: '',
  versions: {} as Record<string, string>,
  cwd: () => '/',
  exit: (code?: number) => {
    throw new Error(`process.exit(${code ?? ''}) called: there is no process to end in the browser`);
  },
  nextTick: (f: (...a: unknown[]) => void, ...a: unknown[]) => queueMicrotask(() => f(...a)),
  hrtime: Object.assign(
    (prev?: [number, number]) => {
      const t = performance.now();
      const s = Math.floor(t / 1000);
      const ns = Math.round((t % 1000) * 1e6);
      return prev ? [s - prev[0], ns - prev[1]] : [s, ns];
    },
    { bigint: () => BigInt(Math.round(performance.now() * 1e6)) },
  ),
  memoryUsage: () => ({ rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 }),
  stdout: { isTTY: false, write: (s: string) => (stream('stdout', String(s)), true) },
  stderr: { isTTY: false, write: (s: string) => (stream('stderr', String(s)), true) },
  on(ev: string, f: Function) {
    listeners.set(ev, [...(listeners.get(ev) ?? []), f]);
    return processShim;
  },
  once(ev: string, f: Function) {
    return processShim.on(ev, f);
  },
  off(ev: string, f: Function) {
    listeners.set(ev, (listeners.get(ev) ?? []).filter((g) => g !== f));
    return processShim;
  },
  removeListener(ev: string, f: Function) {
    return processShim.off(ev, f);
  },
  listeners: (ev: string) => [...(listeners.get(ev) ?? [])],
  emit: (ev: string, ...a: unknown[]) => {
    for (const f of listeners.get(ev) ?? []) f(...a);
    return (listeners.get(ev) ?? []).length > 0;
  },
};
if (typeof G.process === 'undefined') G.process = processShim;

// setImmediate: a macrotask (so messages, e.g. an interrupt, are handled in between), without
// setTimeout's 4 ms clamp.
const immediates: Array<() => void> = [];
const channel = new MessageChannel();
channel.port1.onmessage = () => {
  const f = immediates.shift();
  f?.();
};
if (typeof G.setImmediate === 'undefined') {
  G.setImmediate = (f: (...a: unknown[]) => void, ...a: unknown[]) => {
    immediates.push(() => f(...a));
    channel.port2.postMessage(null);
    return immediates.length;
  };
  G.clearImmediate = () => {};
}

// ---- interrupts ------------------------------------------------------------------------------
function interruptsSeen(): number {
  return (interruptView ? Atomics.load(interruptView, 0) : localInterrupts) + interruptOffset;
}
Object.defineProperty(G, Symbol.for('vq-notebooks.interrupts'), {
  configurable: true,
  get: interruptsSeen,
  // signalInterrupt() in the library writes count + 1
  set: (v: number) => {
    interruptOffset += v - interruptsSeen();
  },
});

// ---- display (tslab's API) -------------------------------------------------------------------
function writeDisplayData(msg: DisplayMsg, update: boolean): void {
  iopub(update ? 'update_display_data' : 'display_data', {
    data: msg.data,
    metadata: msg.metadata ?? {},
    transient: msg.transient ?? {},
  });
}

function base64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

let displayIds = 0;
function makeDisplay(id?: string) {
  let shown = false;
  const send = (data: MimeBundle) => {
    writeDisplayData({ data, metadata: {}, transient: id ? { display_id: id } : {} }, id !== undefined && shown);
    shown = true;
  };
  return {
    html: (s: string) => send({ 'text/html': s }),
    markdown: (s: string) => send({ 'text/markdown': s }),
    svg: (s: string) => send({ 'image/svg+xml': s }),
    png: (b: Uint8Array) => send({ 'image/png': base64(b) }),
    jpeg: (b: Uint8Array) => send({ 'image/jpeg': base64(b) }),
    gif: (b: Uint8Array) => send({ 'image/gif': base64(b) }),
    pdf: (b: Uint8Array) => send({ 'application/pdf': base64(b) }),
    text: (s: string) => send({ 'text/plain': s }),
    javascript: (s: string) => send({ 'application/javascript': s }),
    raw: (mime: string, data: unknown) => send({ [mime]: data }),
  };
}
const tslab = {
  display: makeDisplay(),
  newDisplay: () => makeDisplay(`ts-display-${displayIds++}`),
  lastWriteDisplayData: writeDisplayData,
  /** Not tslab's: the Jupyter writer under a clearer name. */
  writeDisplayData,
};
G.tslab = tslab;

// ---- imports ---------------------------------------------------------------------------------
async function tsImport(spec: string): Promise<unknown> {
  if (spec === 'tslab') return tslab;
  const target = modules[spec];
  if (!target) {
    const known = ['tslab', ...Object.keys(modules)].join(', ');
    throw new Error(`Cannot find module '${spec}': in the browser this kernel imports only ${known}`);
  }
  const [url, exportName] = target.split('#');
  const abs = new URL(url, baseUrl).href;
  let p = loaded.get(abs);
  if (!p) {
    p = import(/* webpackIgnore: true */ abs) as Promise<Record<string, unknown>>;
    loaded.set(abs, p);
    p.catch(() => loaded.delete(abs));
  }
  const mod = await p;
  return exportName ? mod[exportName] : mod;
}
G.__tsImport = tsImport;

// ---- errors outside a cell's promise ---------------------------------------------------------
function errorFields(e: unknown): { ename: string; evalue: string; traceback: string[] } {
  if (e instanceof Error) {
    const ename = e.name || 'Error';
    const stack = (e.stack ?? '').split('\n');
    // V8's stack starts with "Name: message"; keep the frames of the cell and the libraries,
    // drop the worker's own.
    const frames = stack.filter((l) => /^\s+at /.test(l) && !/kernel-worker|worker\.js|at eval \(<anonymous>\)/.test(l));
    // a syntax error's frames would be the transpiler's: its message has the position
    return { ename, evalue: e.message, traceback: [`${ename}: ${e.message}`, ...(e instanceof CellSyntaxError ? [] : frames)] };
  }
  const text = typeof e === 'string' ? e : inspect(e);
  return { ename: 'Error', evalue: text, traceback: [`Uncaught ${text}`] };
}

G.addEventListener('unhandledrejection', (ev: PromiseRejectionEvent) => {
  ev.preventDefault();
  const { traceback } = errorFields(ev.reason);
  stream('stderr', `Unhandled promise rejection (a promise nobody awaited): ${traceback.join('\n')}\n`);
});
G.addEventListener('error', (ev: ErrorEvent) => {
  ev.preventDefault();
  const { traceback } = errorFields(ev.error ?? ev.message);
  stream('stderr', `Uncaught error (in a timer or callback): ${traceback.join('\n')}\n`);
});

// ---- cells -----------------------------------------------------------------------------------
/** A cell's value as Node's REPL (and tslab) print it: strings quoted, objects inspected. */
function resultBundle(value: unknown): MimeBundle {
  return { 'text/plain': inspect(value) };
}

async function execute(id: number, code: string, executionCount: number): Promise<FromWorkerResult> {
  try {
    const cell = transformCell(code, `cell-${executionCount}.ts`);
    const value = await (0, eval)(cell.code);
    return { type: 'result', id, status: 'ok', data: value === undefined ? undefined : resultBundle(value) };
  } catch (e) {
    return { type: 'result', id, status: 'error', ...errorFields(e) };
  }
}

G.addEventListener('message', async (ev: MessageEvent<ToWorker>) => {
  const msg = ev.data;
  switch (msg.type) {
    case 'init':
      modules = msg.modules;
      baseUrl = msg.baseUrl;
      interruptView = msg.interruptBuffer ? new Int32Array(msg.interruptBuffer) : null;
      Object.assign(processShim.env, msg.env);
      post({ type: 'ready' });
      return;
    case 'interrupt':
      localInterrupts++;
      return;
    case 'execute': {
      parentHeader = msg.parentHeader;
      post(await execute(msg.id, msg.code, msg.executionCount));
      return;
    }
  }
});
