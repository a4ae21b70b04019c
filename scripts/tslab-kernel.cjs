#!/usr/bin/env node
/**
 * Launcher for the project's own tslab kernel (node_modules/tslab), with two fixes to its
 * Jupyter protocol support. The kernelspec written by scripts/setup.mjs runs this file.
 *
 * 1. kernel_info_reply lacks `status: "ok"`, which the messaging spec requires; nbval and
 *    jupyter_client's wait_for_ready read it (nbval fails every cell with KeyError: 'status').
 * 2. When a cell fails (a TypeScript diagnostic, a thrown exception, a rejected awaited
 *    promise), tslab only prints the error to stderr and replies `status: "error"`. It never
 *    publishes an iopub `error` message, and the execute_reply lacks ename/evalue/traceback.
 *    Every frontend that looks for error outputs (nbval, nbclient, JupyterLab's error
 *    rendering, "run all" stopping on error) therefore treats the cell as a success.
 *    Here the executor's error reports are captured and published as a proper `error` message.
 *
 * 3. A kernel that survives its user. An un-awaited rejected promise or a throw in a timer is
 *    reported (in the running cell's stderr when a cell runs, else on the kernel's stderr, a
 *    few lines) and the kernel lives on. tslab's own handlers print it, but any library that
 *    installs `uncaughtException → rethrow` / `unhandledRejection → throw` handlers later (as
 *    Emscripten's Node glue in tfjs-backend-wasm does) made the kernel exit with code 7. Here
 *    uncaught exceptions go to process.setUncaughtExceptionCaptureCallback (it takes precedence
 *    over every 'uncaughtException' listener), and listeners that others add for either event
 *    are wrapped so that a throw inside one is reported instead of ending the process.
 * 4. Interrupt (SIGINT, Jupyter's interrupt_mode "signal") also counts in
 *    globalThis[Symbol.for('vq-notebooks.interrupts')], which the library's long loops (training,
 *    evaluation, sampling) check before each step: they stop with an InterruptedError instead of
 *    running on in the background after tslab has ended the cell. After a shutdown_request the
 *    kernel exits within a second even when a timer of the user's would keep Node alive.
 *
 * Usage (what Jupyter runs): node scripts/tslab-kernel.cjs kernel --config-path <connection file>
 */
'use strict';
const path = require('path');

const tslabDir = path.dirname(require.resolve('tslab/package.json', { paths: [path.join(__dirname, '..')] }));
const executorMod = require(path.join(tslabDir, 'dist', 'executor.js'));
const jupyterMod = require(path.join(tslabDir, 'dist', 'jupyter.js'));
const mainMod = require(path.join(tslabDir, 'dist', 'main.js'));
const ts = require(require.resolve('typescript', { paths: [tslabDir] })); // the TypeScript tslab compiles with
const tsVersion = ts.version;

const DIAGNOSTIC_FORMAT = '%s%d:%d - %s';

/** Turn what the executor passed to console.error into {ename, evalue, traceback}. */
function describeFailure(calls) {
  const diags = calls.filter((args) => args[0] === DIAGNOSTIC_FORMAT);
  if (diags.length > 0) {
    const lines = diags.map(([, file, line, col, msg]) => {
      const text = typeof msg === 'string' ? msg : ts.flattenDiagnosticMessageText(msg, '\n');
      return `${file}${line}:${col} - ${text}`;
    });
    return { ename: 'TypeScriptError', evalue: lines[0], traceback: lines };
  }
  const last = calls.length > 0 ? calls[calls.length - 1] : ['unknown error'];
  const err = last.length === 1 ? last[0] : last;
  if (err instanceof Error) {
    const stack = typeof err.stack === 'string' ? err.stack : `${err.name}: ${err.message}`;
    return { ename: err.name || 'Error', evalue: err.message, traceback: stack.split('\n') };
  }
  const text = require('util').inspect(err);
  return { ename: 'Error', evalue: text, traceback: [`Uncaught ${text}`] };
}

// (2a) Give every executor a console whose `error` records what it reports. The executor only
// calls console.error for failures (diagnostics, exceptions); module-mode diagnostics are the
// exception (the cell still succeeds), so those are printed to stderr as tslab did.
const createExecutor = executorMod.createExecutor;
executorMod.createExecutor = function createExecutorWithErrors(rootDir, convs, konsole) {
  let calls = [];
  const recorder = { log: konsole.log, error: (...args) => calls.push(args) };
  const executor = createExecutor(rootDir, convs, recorder);
  const execute = executor.execute;
  executor.lastFailure = null;
  executor.execute = async function (src) {
    calls = [];
    executor.lastFailure = null;
    const ok = await execute.call(executor, src);
    if (ok) {
      for (const args of calls) konsole.error(...args);
    } else {
      executor.lastFailure = describeFailure(calls);
    }
    calls = [];
    return ok;
  };
  return executor;
};

// (1) kernel_info_reply: add status "ok" and the TypeScript version the kernel compiles with.
const handleKernel = jupyterMod.JupyterHandlerImpl.prototype.handleKernel;
jupyterMod.JupyterHandlerImpl.prototype.handleKernel = function () {
  const reply = handleKernel.call(this);
  reply.status = 'ok';
  if (!this.isJs) reply.language_info.version = tsVersion;
  return reply;
};

// (3) Errors outside any awaited code: report them and stay alive.
const util = require('util');
/** The running cell's stream writer, or null between cells. */
let currentCell = null;
const reported = new WeakSet();

function shortError(e) {
  const clip = (line) => (line.length > 300 ? `${line.slice(0, 300)}…` : line);
  if (e instanceof Error) {
    const lines = (typeof e.stack === 'string' ? e.stack : `${e.name}: ${e.message}`).split('\n');
    return lines.slice(0, 8).map(clip).join('\n') + (lines.length > 8 ? '\n    …' : '');
  }
  return clip(util.inspect(e, { depth: 2, breakLength: Infinity }));
}

function reportStray(kind, e) {
  if (e !== null && (typeof e === 'object' || typeof e === 'function')) {
    if (reported.has(e)) return;
    reported.add(e);
  }
  const text = `${kind}: ${shortError(e)}\n(the kernel is still running)\n`;
  if (currentCell) {
    try {
      currentCell('stderr', text);
      return;
    } catch {
      // fall through to the kernel's stderr
    }
  }
  process.stderr.write(`[tslab-kernel] ${text}`);
}

const UNCAUGHT = 'Uncaught exception outside the cell (e.g. thrown in a timer or callback)';
const UNHANDLED = 'Unhandled promise rejection (a promise nobody awaited)';
const GUARDED = new Set(['uncaughtException', 'unhandledRejection']);

function guardListener(event, listener) {
  const guarded = function (...args) {
    try {
      return listener.apply(this, args);
    } catch (e) {
      // Emscripten's handlers rethrow what they were given: that was reported already.
      reportStray(event === 'unhandledRejection' ? UNHANDLED : UNCAUGHT, e);
    }
  };
  guarded.listener = listener; // removeListener(listener) and listeners() see the original
  return guarded;
}

function installStrayErrorGuards() {
  process.removeAllListeners('uncaughtException'); // tslab's: superseded by the capture callback
  process.removeAllListeners('unhandledRejection');
  process.setUncaughtExceptionCaptureCallback((e) => reportStray(UNCAUGHT, e));
  process.on('unhandledRejection', (reason) => reportStray(UNHANDLED, reason));
  for (const method of ['on', 'addListener', 'prependListener', 'once', 'prependOnceListener']) {
    const original = process[method];
    process[method] = function (event, listener) {
      return original.call(this, event, GUARDED.has(event) && typeof listener === 'function' ? guardListener(event, listener) : listener);
    };
  }
}

// (4) Interrupts: counted for the library's loops (lib/interrupt.ts reads the same symbol).
const INTERRUPTS = Symbol.for('vq-notebooks.interrupts');
function installInterruptCounter() {
  globalThis[INTERRUPTS] = globalThis[INTERRUPTS] || 0;
  process.prependListener('SIGINT', () => {
    globalThis[INTERRUPTS] += 1;
  });
}

const handleShutdown = jupyterMod.ZmqServer.prototype.handleShutdown;
jupyterMod.ZmqServer.prototype.handleShutdown = function (sock, msg) {
  handleShutdown.call(this, sock, msg);
  // tslab closes its sockets next; a timer or loop of the user's could keep Node alive.
  setTimeout(() => process.exit(0), 1000).unref();
};

// (2b) execute_request: publish the failure as an iopub `error` message and complete the reply.
jupyterMod.ZmqServer.prototype.handleExecute = async function (sock, msg) {
  const key = this.connInfo.key;
  const iopub = this.iopub;
  const publish = (msgType, content) => {
    const m = msg.createReply();
    m.header.msg_type = msgType;
    m.content = content;
    m.signAndSend(key, iopub);
  };
  const writeStream = (name, text) => publish('stream', { name, text });
  const writeDisplayData = (data, update) => publish(update ? 'update_display_data' : 'display_data', data);
  currentCell = writeStream;
  let content;
  try {
    content = await this.handler.handleExecute(msg.content, writeStream, writeDisplayData);
  } finally {
    currentCell = null;
  }
  if (content.status === 'error') {
    const failure = this.handler.executor.lastFailure || {
      ename: 'Error',
      evalue: 'execution failed',
      traceback: ['execution failed'],
    };
    publish('error', failure);
    Object.assign(content, failure);
  } else if (content.status === 'abort') {
    // tslab aborts requests queued within 200 ms of a failure (tslab #19); the spec calls it 'aborted'.
    content.status = 'aborted';
  }
  const reply = msg.createReply();
  reply.header.msg_type = 'execute_reply';
  reply.content = content;
  reply.signAndSend(key, sock);
};

const argv = process.argv.slice(2);
if (argv[0] !== 'kernel') {
  console.error('usage: tslab-kernel.cjs kernel --config-path <connection file> [--js]');
  process.exit(2);
}
const i = argv.indexOf('--config-path');
if (i < 0 || !argv[i + 1]) {
  console.error('tslab-kernel: --config-path <connection file> is required');
  process.exit(2);
}
mainMod.startKernel({
  configPath: argv[i + 1],
  enableFindLocal: false,
  jsKernel: argv.includes('--js'),
  globalVersion: require(path.join(tslabDir, 'package.json')).version,
});
// startKernel installs tslab's SIGINT and error handlers synchronously; ours go after them.
installStrayErrorGuards();
installInterruptCounter();
