#!/usr/bin/env node
/**
 * `npm run test:browser` (second half): the notebooks as a reader sees them, in JupyterLab
 * driven by headless Chromium.
 *
 * 1. Copies the notebooks into a scratch project root, .tmp/browser-<pid>/notebooks/, whose
 *    other top-level entries (dist/, data/, node_modules/, ...) are symlinks to this checkout,
 *    so `../dist/lib/index.js` resolves as usual and the committed notebooks are never written.
 *    Autosave is off and nothing saves; a changed scratch copy would fail the test.
 * 2. Starts JupyterLab from the project's Python environment on a free 127.0.0.1 port, token
 *    authentication on (a fresh random token; the script checks that requests without it are
 *    refused), with Jupyter config/data/runtime dirs and lab settings of its own, VQ_TEST=1 for
 *    the kernels (notebooks that train take their shorter budget).
 * 3. For every notebook, in a fresh browser context: opens it, checks that its committed plotly
 *    outputs show (interactive graph or static PNG) and each carries a static PNG for viewers
 *    without JavaScript (scripts/static-figures.mjs), clears all outputs, runs all cells
 *    (`notebook:run-all-cells`), waits until the kernel is idle, then checks:
 *      - the kernel is the project's tslab: the session's kernel is `tslab`, whose kernelspec's
 *        argv runs this checkout's scripts/tslab-kernel.cjs, language typescript;
 *      - every code cell has an execution count (in order), and no cell has an error output;
 *      - stderr: none allowed, except Node's own process warnings (listed, not failing);
 *      - every plotly output is a drawn graph (a .js-plotly-plot with trace elements, as many
 *        traces as the figure has);
 *      - every image in an output has loaded (complete, naturalWidth > 0);
 *      - no uncaught exception in the page, no dialog (e.g. "kernel died") left open.
 *    Saves a screenshot of the whole notebook to test-results/browser/<notebook>.png.
 * 4. Always, also on failure or Ctrl-C: deletes the sessions (kernels shut down), stops
 *    JupyterLab (process group), and verifies that no process it started is left (every process
 *    of the run carries a marker in its environment; stragglers are killed and reported).
 *
 *   node scripts/browser-test.mjs                      every notebook in notebooks/
 *   node scripts/browser-test.mjs 01 03                those whose file name contains 01 or 03
 *   node scripts/browser-test.mjs path/to/x.ipynb      any notebook file (e.g. a test fixture)
 *
 * Environment: CHROMIUM_PATH (default /usr/bin/chromium), BROWSER_TEST_TIMEOUT_S (run-all time
 * per notebook, default 1800), BROWSER_TEST_RENDER_TIMEOUT_S (how long to wait for figures and
 * images to render once the cells ran, default 60), BROWSER_TEST_OUT (default
 * test-results/browser).
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { launchChromium, requireChromium } from './chromium.mjs';
import { ROOT, listNotebooks } from './files.mjs';
import { KERNEL_NAME, ensureEnv, jupyterProcessEnv } from './pyenv.mjs';
import { plotlyOutputs, readNotebook } from './static-figures.mjs';

const PLOTLY_MIME = 'application/vnd.plotly.v1+json';
const KERNEL_LAUNCHER = path.join(ROOT, 'scripts', 'tslab-kernel.cjs');
const OUT_DIR = path.resolve(ROOT, process.env.BROWSER_TEST_OUT || path.join('test-results', 'browser'));
const NOTEBOOK_TIMEOUT_MS = Number(process.env.BROWSER_TEST_TIMEOUT_S || 1800) * 1000;
const SERVER_START_TIMEOUT_MS = 180_000;
const RENDER_TIMEOUT_MS = Number(process.env.BROWSER_TEST_RENDER_TIMEOUT_S || 60) * 1000;
const VIEWPORT = { width: 1280, height: 900 };
const MAX_SHOT_HEIGHT = 15_000;

/** stderr lines that are reported but do not fail a notebook (Node's own process warnings). */
const STDERR_ALLOWED = [
  /^\(node:\d+\) (\[[\w-]+\] )?\w*Warning: /,
  /^\(Use `node --trace-(warnings|deprecation) /,
];

const t0 = Date.now();
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
const log = (msg) => console.log(`[browser] ${msg}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Which notebooks

function selectNotebooks(argv) {
  const files = argv.filter((a) => a.endsWith('.ipynb'));
  const filters = argv.filter((a) => !a.endsWith('.ipynb'));
  const picked = [];
  for (const f of files) {
    const abs = path.resolve(f);
    if (!fs.existsSync(abs)) throw new Error(`no such notebook: ${f}`);
    picked.push(abs);
  }
  if (filters.length > 0 || files.length === 0) {
    const all = listNotebooks();
    const hit = all.filter((nb) => filters.length === 0 || filters.some((f) => path.basename(nb).includes(f)));
    if (filters.length > 0 && hit.length === 0) throw new Error(`no notebook in notebooks/ matches ${filters.join(', ')}`);
    picked.push(...hit);
  }
  if (picked.length === 0) throw new Error('no notebooks to test');
  const names = picked.map((p) => path.basename(p));
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new Error(`two notebooks named ${dup}`);
  return picked;
}

// ---------------------------------------------------------------------------------------------
// Scratch project root and JupyterLab

/** .tmp/browser-<pid>/: notebooks copied, everything else of the checkout symlinked. */
function makeScratchRoot(notebooks) {
  const root = path.join(ROOT, '.tmp', `browser-${process.pid}`);
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(path.join(root, 'notebooks'), { recursive: true });
  const skip = new Set(['.git', '.tmp', 'notebooks', 'test-results', '.ipynb_checkpoints']);
  for (const entry of fs.readdirSync(ROOT)) {
    if (skip.has(entry)) continue;
    fs.symlinkSync(path.join(ROOT, entry), path.join(root, entry));
  }
  // Non-notebook files next to the notebooks (data files, helpers) come along as symlinks.
  const nbDir = path.join(ROOT, 'notebooks');
  for (const entry of fs.readdirSync(nbDir)) {
    if (entry.endsWith('.ipynb') || entry === '.ipynb_checkpoints') continue;
    fs.symlinkSync(path.join(nbDir, entry), path.join(root, 'notebooks', entry));
  }
  for (const nb of notebooks) fs.copyFileSync(nb, path.join(root, 'notebooks', path.basename(nb)));
  return root;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function writeJson(file, value) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + '\n');
}

/** Lab settings for a test run: no autosave, every cell attached, no network calls for news. */
function writeLabSettings(dir) {
  writeJson(path.join(dir, '@jupyterlab', 'docmanager-extension', 'plugin.jupyterlab-settings'), { autosave: false });
  writeJson(path.join(dir, '@jupyterlab', 'notebook-extension', 'tracker.jupyterlab-settings'), { windowingMode: 'none' });
  writeJson(path.join(dir, '@jupyterlab', 'apputils-extension', 'notification.jupyterlab-settings'), {
    fetchNews: 'false',
    checkForUpdates: false,
  });
  writeJson(path.join(dir, '@jupyterlab', 'extensionmanager-extension', 'plugin.jupyterlab-settings'), { enabled: false });
}

class Server {
  constructor({ env, root, runId }) {
    this.env = env;
    this.root = root;
    this.runId = runId;
    this.token = randomBytes(24).toString('hex');
    this.home = fs.mkdtempSync(path.join(os.tmpdir(), `vq-browser-jupyter-${process.pid}-`));
    this.logFile = path.join(OUT_DIR, 'jupyterlab.log');
    this.child = null;
    this.exited = null;
  }

  get base() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start() {
    const settings = path.join(this.home, 'lab-settings');
    writeLabSettings(settings);
    for (let attempt = 1; ; attempt++) {
      this.port = await freePort();
      const args = [
        '-m', 'jupyterlab', '--no-browser',
        '--ServerApp.ip=127.0.0.1', `--ServerApp.port=${this.port}`, '--ServerApp.port_retries=0',
        `--IdentityProvider.token=${this.token}`,
        `--ServerApp.root_dir=${this.root}`,
        '--LabApp.expose_app_in_browser=True',
        `--LabApp.user_settings_dir=${settings}`,
        `--LabApp.workspaces_dir=${path.join(this.home, 'workspaces')}`,
        '--LabApp.extension_manager=readonly', // no PyPI queries
        '--ServerApp.terminals_enabled=False',
        ...(process.getuid?.() === 0 ? ['--allow-root'] : []), // CI containers run as root
      ];
      fs.mkdirSync(OUT_DIR, { recursive: true });
      const logFd = fs.openSync(this.logFile, attempt === 1 ? 'w' : 'a');
      this.child = spawn(this.env.python, args, {
        cwd: this.root,
        detached: true, // its own process group, stopped as a whole at the end
        stdio: ['ignore', logFd, logFd],
        env: jupyterProcessEnv(this.env, {
          VQ_TEST: '1',
          VQ_BROWSER_TEST_RUN: this.runId,
          JUPYTER_CONFIG_DIR: path.join(this.home, 'config'),
          JUPYTER_DATA_DIR: path.join(this.home, 'data'),
          JUPYTER_RUNTIME_DIR: path.join(this.home, 'runtime'),
        }),
      });
      fs.closeSync(logFd);
      this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
      this.exitInfo = null;
      this.exited.then((info) => (this.exitInfo = info));
      log(`JupyterLab starting on 127.0.0.1:${this.port} (pid ${this.child.pid}, log ${path.relative(ROOT, this.logFile)})`);
      const ok = await this.waitReady();
      if (ok) return;
      if (attempt >= 3) throw new Error(`JupyterLab did not start (see ${this.logFile})`);
      log(`JupyterLab exited early (${JSON.stringify(this.exitInfo)}), retrying on another port`);
    }
  }

  async waitReady() {
    const deadline = Date.now() + SERVER_START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (this.exitInfo) {
        const tail = fs.readFileSync(this.logFile, 'utf8').split('\n').slice(-15).join('\n');
        if (/address already in use/i.test(tail)) return false;
        throw new Error(`JupyterLab exited during start-up (${JSON.stringify(this.exitInfo)}):\n${tail}`);
      }
      try {
        const r = await fetch(`${this.base}/api/status`, { headers: { Authorization: `token ${this.token}` } });
        if (r.ok) return true;
      } catch {
        /* not listening yet */
      }
      await sleep(500);
    }
    throw new Error(`JupyterLab did not answer within ${SERVER_START_TIMEOUT_MS / 1000} s (see ${this.logFile})`);
  }

  async api(method, p, { auth = true } = {}) {
    const headers = auth ? { Authorization: `token ${this.token}` } : {};
    const r = await fetch(`${this.base}${p}`, { method, headers });
    const text = await r.text();
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = text;
    }
    return { status: r.status, body };
  }

  /** Delete every session (which shuts its kernel down), then any kernel left. */
  async shutdownKernels() {
    if (!this.child || this.exitInfo) return;
    try {
      const sessions = await this.api('GET', '/api/sessions');
      for (const s of Array.isArray(sessions.body) ? sessions.body : []) await this.api('DELETE', `/api/sessions/${s.id}`);
      const kernels = await this.api('GET', '/api/kernels');
      for (const k of Array.isArray(kernels.body) ? kernels.body : []) await this.api('DELETE', `/api/kernels/${k.id}`);
    } catch (e) {
      log(`warning: could not shut kernels down through the REST API: ${e.message}`);
    }
  }

  /** Stop JupyterLab: its REST shutdown, then SIGTERM and SIGKILL to its process group. */
  async stop() {
    if (!this.child) return;
    const pgid = this.child.pid;
    if (!this.exitInfo) {
      try {
        await this.api('POST', '/api/shutdown');
      } catch {
        /* already gone */
      }
      await Promise.race([this.exited, sleep(10_000)]);
    }
    for (const sig of ['SIGTERM', 'SIGKILL']) {
      try {
        process.kill(-pgid, sig);
      } catch {
        break; // no such process group: all gone
      }
      await Promise.race([this.exited, sleep(5_000)]);
    }
  }

  cleanup() {
    fs.rmSync(this.home, { recursive: true, force: true });
  }
}

/** Processes started by browser tests: {pid, run (the marker's value), cmd}. */
function markedProcesses() {
  const key = Buffer.from('VQ_BROWSER_TEST_RUN=');
  const found = [];
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      const environ = fs.readFileSync(`/proc/${pid}/environ`);
      const at = environ.indexOf(key);
      if (at < 0 || (at > 0 && environ[at - 1] !== 0)) continue;
      const end = environ.indexOf(0, at);
      const run = environ.subarray(at + key.length, end < 0 ? undefined : end).toString();
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
      found.push({ pid: Number(pid), run, cmd });
    } catch {
      /* gone, or not ours to read */
    }
  }
  return found;
}

/** Processes of this run: their environment carries VQ_BROWSER_TEST_RUN=<runId>. */
function processesOfRun(runId) {
  return markedProcesses().filter((p) => p.run === runId);
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/**
 * A browser test killed outright (SIGKILL, a lost terminal) cannot clean up: remove what such
 * runs left (their runId starts with the dead test's pid): processes and scratch folders.
 */
function sweepStaleRuns() {
  for (const p of markedProcesses()) {
    const owner = Number(p.run.split('-')[0]);
    if (!Number.isInteger(owner) || alive(owner)) continue;
    log(`killing ${p.pid} left by an earlier browser test (pid ${owner}, gone): ${p.cmd.slice(0, 100)}`);
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  const tmp = path.join(ROOT, '.tmp');
  for (const entry of fs.existsSync(tmp) ? fs.readdirSync(tmp) : []) {
    const m = /^browser-(\d+)$/.exec(entry);
    if (m && !alive(Number(m[1]))) fs.rmSync(path.join(tmp, entry), { recursive: true, force: true });
  }
  for (const entry of fs.readdirSync(os.tmpdir())) {
    const m = /^vq-browser-jupyter-(\d+)-/.exec(entry);
    if (m && !alive(Number(m[1]))) fs.rmSync(path.join(os.tmpdir(), entry), { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// In the page (these functions run in Chromium; keep them self-contained)

function pageFindPanel(nbPath) {
  const app = window.jupyterapp;
  if (!app || !app.shell) return null;
  for (const w of app.shell.widgets('main')) if (w.context && w.context.path === nbPath && w.content && w.sessionContext) return w;
  return null;
}

async function pageOpen(page, nbPath) {
  await page.waitForFunction(() => window.jupyterapp && window.jupyterapp.shell && window.jupyterapp.commands, null, {
    timeout: 120_000,
  });
  await page.evaluate(
    async ({ nbPath, findSrc }) => {
      const find = new Function(`return (${findSrc})`)();
      const app = window.jupyterapp;
      await app.restored;
      if (!find(nbPath)) await app.commands.execute('docmanager:open', { path: nbPath, factory: 'Notebook' });
      app.shell.collapseLeft();
      app.shell.collapseRight();
    },
    { nbPath, findSrc: pageFindPanel.toString() },
  );
  await page.waitForFunction(
    ({ nbPath, findSrc }) => {
      const p = new Function(`return (${findSrc})`)()(nbPath);
      return !!(p && p.context.isReady && p.sessionContext.session && p.sessionContext.session.kernel);
    },
    { nbPath, findSrc: pageFindPanel.toString() },
    { timeout: 120_000, polling: 250 },
  );
  // Wait until the kernel answered kernel_info (status idle after start-up).
  await page.waitForFunction(
    ({ nbPath, findSrc }) => {
      const p = new Function(`return (${findSrc})`)()(nbPath);
      const k = p && p.sessionContext.session && p.sessionContext.session.kernel;
      return !!(k && k.status === 'idle' && k.connectionStatus === 'connected');
    },
    { nbPath, findSrc: pageFindPanel.toString() },
    { timeout: 180_000, polling: 250 },
  );
}

/** Evaluate `fn(panel, arg)` in the page, `panel` being the open notebook's NotebookPanel. */
function inPanel(page, nbPath, fn, arg = null) {
  return page.evaluate(
    async ({ nbPath, findSrc, fnSrc, arg }) => {
      const panel = new Function(`return (${findSrc})`)()(nbPath);
      if (!panel) throw new Error(`notebook ${nbPath} is not open`);
      return new Function(`return (${fnSrc})`)()(panel, arg);
    },
    { nbPath, findSrc: pageFindPanel.toString(), fnSrc: fn.toString(), arg },
  );
}

/** Progress while running: counts and the kernel's status. */
function pageProgress(panel) {
  const cells = panel.content.widgets.filter((c) => c.model.type === 'code');
  const state = (c) => c.model.executionState ?? c.model.sharedModel?.executionState ?? 'idle';
  const kernel = panel.sessionContext.session?.kernel;
  return {
    total: cells.length,
    done: cells.filter((c) => c.model.executionCount !== null).length,
    running: cells.findIndex((c) => state(c) === 'running'),
    queued: cells.filter((c) => state(c) === 'running').length,
    errors: cells.filter((c) => c.model.outputs.toJSON().some((o) => o.output_type === 'error')).length,
    kernelStatus: kernel ? kernel.status : 'none',
    runAll: window.__vqRunAll ?? null,
  };
}

/** Everything the checks need, per code cell, from the model and the DOM. */
function pageCollect(panel) {
  const kernel = panel.sessionContext.session?.kernel;
  const cells = [];
  panel.content.widgets.forEach((cell, index) => {
    if (cell.model.type !== 'code') return;
    const outputs = cell.model.outputs.toJSON();
    const area = cell.node.querySelector('.jp-OutputArea');
    const plots = [...(area ? area.querySelectorAll('.jp-RenderedPlotly') : [])].map((node) => {
      const gd = node.classList.contains('js-plotly-plot') ? node : node.querySelector('.js-plotly-plot');
      const traces = gd
        ? gd.querySelectorAll(
            '.cartesianlayer .trace, .heatmaplayer .hm, .contourlayer .contour, .imagelayer image, .pielayer .trace, .polarlayer .trace, .ternarylayer .trace, .funnelarealayer .trace, .gl-container canvas, .geolayer .trace, .scene canvas',
          ).length
        : 0;
      const img = node.querySelector('img.plot-img');
      const imgShown = !!(img && img.style.display !== 'none' && img.getAttribute('src'));
      return {
        graph: !!(gd && gd.querySelector('.plot-container')),
        graphShown: !!(gd && gd.querySelector('.plot-container') && gd.querySelector('.plot-container').style.display !== 'none'),
        fullData: gd && Array.isArray(gd._fullData) ? gd._fullData.length : 0,
        traces,
        titleDrawn: !!(gd && gd.querySelector('.gtitle') && gd.querySelector('.gtitle').textContent.trim()),
        width: node.getBoundingClientRect().width,
        height: node.getBoundingClientRect().height,
        imgShown,
        imgLoaded: !!(img && img.complete && img.naturalWidth > 0),
      };
    });
    const images = [...(area ? area.querySelectorAll('img') : [])]
      .filter((img) => !img.classList.contains('plot-img'))
      .map((img) => ({ complete: img.complete, naturalWidth: img.naturalWidth, src: (img.getAttribute('src') || '').slice(0, 40) }));
    cells.push({
      index,
      executionCount: cell.model.executionCount,
      source: cell.model.sharedModel.getSource().split('\n').find((l) => l.trim()) ?? '',
      outputs: outputs.map((o) => ({
        type: o.output_type,
        name: o.name,
        text: o.output_type === 'stream' ? String(Array.isArray(o.text) ? o.text.join('') : o.text) : undefined,
        ename: o.ename,
        evalue: o.evalue,
        traceback: o.traceback,
        mimes: o.data ? Object.keys(o.data) : [],
        figureTraces: o.data && o.data['application/vnd.plotly.v1+json'] ? (o.data['application/vnd.plotly.v1+json'].data || []).length : undefined,
        figureTitle: o.data && o.data['application/vnd.plotly.v1+json'] ? o.data['application/vnd.plotly.v1+json'].layout?.title ?? null : undefined,
      })),
      plots,
      images,
      stderrNodes: area ? area.querySelectorAll('[data-mime-type="application/vnd.jupyter.stderr"]').length : 0,
    });
  });
  const dialogs = [...document.querySelectorAll('.jp-Dialog')].map((d) => d.textContent.trim().slice(0, 300));
  const toolbarKernel = panel.node.querySelector('.jp-KernelName, .jp-Toolbar-kernelName');
  return {
    kernel: kernel ? { id: kernel.id, name: kernel.name, status: kernel.status } : null,
    kernelDisplayName: panel.sessionContext.kernelDisplayName,
    toolbarKernelName: toolbarKernel ? toolbarKernel.textContent.trim() : null,
    dirty: panel.context.model.dirty,
    cells,
    dialogs,
  };
}

// ---------------------------------------------------------------------------------------------
// One notebook

async function testNotebook({ browser, server, nbFile, kernelspec }) {
  const name = path.basename(nbFile);
  const nbPath = `notebooks/${name}`;
  // JupyterLab only sees the scratch copy; it must not save even that one (autosave is off and
  // nothing asks for a save), so the copy's bytes are compared before and after.
  const copy = path.join(server.root, nbPath);
  const copyHash = sha256(copy);
  const started = Date.now();
  const failures = [];
  const warnings = [];
  const fail = (msg) => failures.push(msg);
  const context = await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const pageErrors = [];
  const consoleErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e.message || e).split('\n')[0]));
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text().split('\n')[0].slice(0, 200));
  });
  page.on('dialog', (d) => d.dismiss().catch(() => {}));
  let screenshot = null;
  try {
    // Token login through the URL; every request after it carries the session cookie.
    const url = `${server.base}/lab/tree/${nbPath.split('/').map(encodeURIComponent).join('/')}?reset&token=${server.token}`;
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 120_000 });
    await pageOpen(page, nbPath);
    log(`${name}: open, kernel ready (${((Date.now() - started) / 1000).toFixed(1)} s)`);

    // The committed outputs as a reader opening the file sees them: each plotly figure is shown,
    // as its static PNG (turned interactive on hover) or as a graph.
    const committed = await waitCommittedPlots(page, nbPath);
    const committedPlotly = committed.cells.flatMap((c) => c.outputs.filter((o) => o.mimes.includes(PLOTLY_MIME)));
    const committedShown = committed.cells.flatMap((c) => c.plots).filter((p) => (p.imgShown && p.imgLoaded) || (p.graphShown && p.traces > 0));
    if (committedShown.length !== committedPlotly.length) {
      fail(`committed outputs: ${committedPlotly.length} plotly figure(s) but ${committedShown.length} shown in JupyterLab`);
    }
    // ... and a viewer without JavaScript (GitHub, nbviewer) needs the static image next to each.
    // Read from the file: jupyterlab-plotly adds a PNG to the in-memory output once it drew one.
    const onDisk = plotlyOutputs(readNotebook(copy));
    const withPng = onDisk.filter((f) => f.output.data['image/png']).length;
    if (withPng < onDisk.length) {
      fail(
        `committed outputs: ${onDisk.length - withPng} of ${onDisk.length} plotly figure(s) have no static PNG ` +
          `(GitHub shows nothing for them): run \`node scripts/static-figures.mjs notebooks/${name}\` (npm start does it too)`,
      );
    }

    // Clear, then run everything in this browser.
    await inPanel(page, nbPath, async (panel) => {
      const app = window.jupyterapp;
      app.shell.activateById(panel.id);
      await app.commands.execute('notebook:clear-all-cell-outputs');
    });
    const cleared = await inPanel(page, nbPath, pageProgress);
    if (cleared.done !== 0) fail(`clearing outputs left ${cleared.done} execution count(s)`);
    await inPanel(page, nbPath, (panel) => {
      const app = window.jupyterapp;
      app.shell.activateById(panel.id);
      window.__vqRunAll = 'running';
      app.commands.execute('notebook:run-all-cells').then(
        (ok) => (window.__vqRunAll = ok === false ? 'failed' : 'done'),
        (e) => (window.__vqRunAll = `error: ${e && e.message}`),
      );
    });
    const runStart = Date.now();
    let lastReport = 0;
    let progress;
    let idleSince = null;
    for (;;) {
      progress = await inPanel(page, nbPath, pageProgress);
      const finished = progress.runAll !== 'running' && progress.kernelStatus === 'idle' && progress.queued === 0;
      idleSince = finished ? idleSince ?? Date.now() : null;
      if (idleSince !== null && Date.now() - idleSince >= 1500) break;
      if (progress.kernelStatus === 'dead' || progress.kernelStatus === 'unknown') {
        fail(`the kernel is ${progress.kernelStatus}`);
        break;
      }
      if (Date.now() - runStart > NOTEBOOK_TIMEOUT_MS) {
        fail(`timed out after ${NOTEBOOK_TIMEOUT_MS / 1000} s (BROWSER_TEST_TIMEOUT_S): ${progress.done}/${progress.total} cells done`);
        await inPanel(page, nbPath, (panel) => panel.sessionContext.session?.kernel?.interrupt()).catch(() => {});
        break;
      }
      if (Date.now() - lastReport > 30_000) {
        lastReport = Date.now();
        const at = progress.running >= 0 ? `, running cell ${progress.running + 1}` : '';
        log(`${name}: ${progress.done}/${progress.total} cells executed${at} (${((Date.now() - runStart) / 1000).toFixed(0)} s)`);
      }
      await sleep(500);
    }
    const runSecs = (Date.now() - runStart) / 1000;
    log(`${name}: run all finished in ${runSecs.toFixed(1)} s (${progress.done}/${progress.total} cells, run-all ${progress.runAll})`);

    // Let renderers finish: plotly graphs drawn, images decoded.
    const data = await waitRendered(page, nbPath);
    data.language = await inPanel(page, nbPath, async (panel) => {
      const info = await panel.sessionContext.session?.kernel?.info;
      return info?.language_info?.name ?? null;
    });
    checkKernel({ data, server, nbPath, kernelspec, fail });
    await checkSession({ server, nbPath, fail });
    checkCells({ data, fail, warnings });
    for (const d of data.dialogs) fail(`a dialog is open: ${d}`);
    for (const e of pageErrors) fail(`uncaught exception in the page: ${e}`);
    for (const e of consoleErrors) warnings.push(`browser console error: ${e}`);

    const plots = data.cells.flatMap((c) => c.plots);
    const images = data.cells.flatMap((c) => c.images);
    await checkResize(page, nbPath, data, warnings);
    const shot = await takeScreenshot(page, nbPath, name);
    screenshot = shot.shots;
    if (shot.collapsed > 0) warnings.push(`${shot.collapsed} figure(s) show collapsed in the screenshot`);
    return {
      name,
      ok: failures.length === 0,
      failures,
      warnings,
      secs: (Date.now() - started) / 1000,
      runSecs,
      cells: data.cells.length,
      plots: plots.length,
      images: images.length,
      committedPlotly: committedPlotly.length,
      committedWithPng: withPng,
      screenshot,
    };
  } catch (e) {
    fail(`${e.message.split('\n')[0]}`);
    try {
      screenshot = (await takeScreenshot(page, nbPath, name)).shots;
    } catch {
      /* nothing to show */
    }
    return { name, ok: false, failures, warnings, secs: (Date.now() - started) / 1000, screenshot };
  } finally {
    await server.api('GET', '/api/sessions').then(async (r) => {
      for (const s of Array.isArray(r.body) ? r.body : []) if (s.path === nbPath) await server.api('DELETE', `/api/sessions/${s.id}`);
    }).catch(() => {});
    await context.close().catch(() => {});
    if (sha256(copy) !== copyHash) failures.push('JupyterLab saved the notebook (its scratch copy changed)');
  }
}

async function waitCommittedPlots(page, nbPath) {
  const deadline = Date.now() + RENDER_TIMEOUT_MS;
  for (;;) {
    const data = await inPanel(page, nbPath, pageCollect);
    const want = data.cells.flatMap((c) => c.outputs.filter((o) => o.mimes.includes(PLOTLY_MIME))).length;
    const shown = data.cells.flatMap((c) => c.plots).filter((p) => (p.imgShown && p.imgLoaded) || (p.graphShown && p.traces > 0)).length;
    if (shown >= want || Date.now() > deadline) return data;
    await sleep(500);
  }
}

async function waitRendered(page, nbPath) {
  const deadline = Date.now() + RENDER_TIMEOUT_MS;
  for (;;) {
    const data = await inPanel(page, nbPath, pageCollect);
    const plotly = data.cells.flatMap((c) => c.outputs.filter((o) => o.mimes.includes(PLOTLY_MIME))).length;
    const plots = data.cells.flatMap((c) => c.plots);
    const drawn = plots.filter((p) => p.graph && p.traces > 0).length;
    const imgs = data.cells.flatMap((c) => c.images);
    const loaded = imgs.filter((i) => i.complete).length;
    if ((drawn >= plotly && loaded === imgs.length) || Date.now() > deadline) return data;
    await sleep(500);
  }
}

function checkKernel({ data, nbPath, kernelspec, fail }) {
  if (!data.kernel) return fail('no kernel attached to the notebook');
  if (data.kernel.name !== KERNEL_NAME) fail(`kernel is "${data.kernel.name}", expected "${KERNEL_NAME}"`);
  if (data.kernelDisplayName !== kernelspec.spec.display_name) {
    fail(`kernel shown as "${data.kernelDisplayName}", expected "${kernelspec.spec.display_name}"`);
  }
  if (data.language !== 'typescript') fail(`kernel language is "${data.language}", expected "typescript"`);
  if (data.toolbarKernelName !== null && data.toolbarKernelName !== kernelspec.spec.display_name) {
    fail(`toolbar shows kernel "${data.toolbarKernelName}" for ${nbPath}`);
  }
}

async function checkSession({ server, nbPath, fail }) {
  const r = await server.api('GET', '/api/sessions');
  const session = (Array.isArray(r.body) ? r.body : []).find((s) => s.path === nbPath);
  if (!session) return fail(`no Jupyter session for ${nbPath}`);
  if (session.kernel?.name !== KERNEL_NAME) fail(`session kernel is "${session.kernel?.name}", expected "${KERNEL_NAME}"`);
  if (session.kernel?.execution_state === 'dead') fail('the session kernel is dead');
}

function checkCells({ data, fail, warnings }) {
  let last = 0;
  for (const [k, cell] of data.cells.entries()) {
    const where = `code cell ${k + 1}/${data.cells.length} [${cell.executionCount ?? ' '}] (${cell.source.slice(0, 50)})`;
    if (cell.executionCount === null) {
      fail(`${where} was not executed`);
    } else {
      if (cell.executionCount <= last) fail(`${where}: execution count ${cell.executionCount} after ${last}`);
      last = cell.executionCount;
    }
    for (const o of cell.outputs) {
      if (o.type === 'error') {
        fail(`${where}: ${o.ename}: ${o.evalue}`);
      } else if (o.type === 'stream' && o.name === 'stderr') {
        const lines = o.text.split('\n').map((l) => l.trimEnd()).filter(Boolean);
        const bad = lines.filter((l) => !STDERR_ALLOWED.some((re) => re.test(l)));
        if (bad.length > 0) fail(`${where}: stderr: ${bad.slice(0, 3).join(' | ')}`);
        else for (const l of lines) warnings.push(`${where}: stderr (allowed): ${l}`);
      }
    }
    const figs = cell.outputs.filter((o) => o.mimes.includes(PLOTLY_MIME));
    if (figs.length !== cell.plots.length) {
      fail(`${where}: ${figs.length} plotly output(s) but ${cell.plots.length} plotly renderer(s) in the page (is the jupyterlab-plotly extension installed?)`);
    }
    cell.plots.forEach((p, i) => {
      const fig = figs[i];
      const label = `${where} figure ${i + 1}`;
      if (!p.graph) return fail(`${label}: no plotly graph drawn`);
      if (p.traces === 0) fail(`${label}: the graph has no drawn traces`);
      if (fig && p.fullData !== fig.figureTraces) fail(`${label}: ${p.fullData} trace(s) drawn, the figure has ${fig.figureTraces}`);
      if (p.width < 50 || p.height < 50) fail(`${label}: rendered at ${p.width}x${p.height} px`);
      if (fig && fig.figureTitle && !p.titleDrawn) {
        const hint = typeof fig.figureTitle === 'string' ? ' (layout.title is a string; plotly.js 3 draws only {text: ...})' : '';
        warnings.push(`${label}: title "${typeof fig.figureTitle === 'string' ? fig.figureTitle : fig.figureTitle.text}" not drawn${hint}`);
      }
    });
    const imageOutputs = cell.outputs.filter((o) => !o.mimes.includes(PLOTLY_MIME) && o.mimes.some((m) => m.startsWith('image/'))).length;
    const loaded = cell.images.filter((i) => i.complete && i.naturalWidth > 0).length;
    for (const img of cell.images) if (!(img.complete && img.naturalWidth > 0)) fail(`${where}: an image did not load (${img.src}...)`);
    if (loaded < imageOutputs) fail(`${where}: ${imageOutputs} image output(s) but ${loaded} loaded image(s)`);
  }
}

/** After a resize: wait until the plots' sizes stop changing (max 10 s); returns [[w, h], ...]. */
async function waitPlotsSettled(page, nbPath) {
  let last = '';
  let sizes = [];
  const deadline = Date.now() + 10_000;
  await sleep(500);
  while (Date.now() < deadline) {
    sizes = await inPanel(page, nbPath, (panel) =>
      [...panel.node.querySelectorAll('.jp-RenderedPlotly')].map((n) => {
        const r = n.getBoundingClientRect();
        return [Math.round(r.width), Math.round(r.height)];
      }),
    );
    const key = JSON.stringify(sizes);
    if (key === last) break;
    last = key;
    await sleep(500);
  }
  return sizes;
}

/** Resize the viewport; if a plot collapses to zero height (see checkResize), resize once more. */
async function resizeViewport(page, nbPath, size) {
  await page.setViewportSize(size);
  let sizes = await waitPlotsSettled(page, nbPath);
  if (sizes.some(([, h]) => h === 0)) {
    await page.setViewportSize({ width: size.width - 1, height: size.height });
    await waitPlotsSettled(page, nbPath);
    await page.setViewportSize(size);
    sizes = await waitPlotsSettled(page, nbPath);
  }
  return sizes;
}

/**
 * A reader resizes the window: every figure must still show. Seen with plotly.js 3.8 in
 * jupyterlab-plotly: a figure whose layout sets a height but no width is re-measured by
 * Plotly.Plots.resize (which deletes layout.height) and can collapse to 0 px until the next
 * resize, when the notebook is scrolled. Reported as a warning with the figure's cell.
 */
async function checkResize(page, nbPath, data, warnings) {
  await page.setViewportSize({ width: VIEWPORT.width, height: VIEWPORT.height + 200 });
  const sizes = await waitPlotsSettled(page, nbPath);
  const labels = data.cells.flatMap((c, k) => c.plots.map((_, i) => `code cell ${k + 1} [${c.executionCount}] figure ${i + 1}`));
  sizes.forEach(([, h], i) => {
    if (h === 0) {
      warnings.push(
        `${labels[i] ?? `figure ${i + 1}`}: collapsed to 0 px height after the window was resized (900 -> 1100 px); ` +
          'figures whose layout sets both width and height are not affected',
      );
    }
  });
  await resizeViewport(page, nbPath, VIEWPORT);
}

async function takeScreenshot(page, nbPath, name) {
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const file = path.join(OUT_DIR, name.replace(/\.ipynb$/, '.png'));
  // Grow the viewport to the notebook's full height, so one image shows every cell.
  const need = await inPanel(page, nbPath, (panel) => {
    const outer = panel.node.querySelector('.jp-WindowedPanel-outer') || panel.content.node;
    const box = outer.getBoundingClientRect();
    const cells = panel.content.widgets;
    // Down to the last cell's bottom (the notebook pads its end so the last cell can scroll up).
    const last = cells.length > 0 ? cells[cells.length - 1].node.getBoundingClientRect().bottom - box.top + outer.scrollTop : outer.scrollHeight;
    return Math.ceil(box.top + last + 40);
  });
  const shots = [];
  if (need <= MAX_SHOT_HEIGHT) {
    // Scroll to the top first: scrolling while plotly re-lays out its graphs after the resize
    // can leave a graph collapsed to zero height.
    await inPanel(page, nbPath, (panel) => {
      const outer = panel.node.querySelector('.jp-WindowedPanel-outer') || panel.content.node;
      outer.scrollTop = 0;
    });
    await resizeViewport(page, nbPath, { width: VIEWPORT.width, height: Math.max(VIEWPORT.height, need) });
    await page.locator('.jp-NotebookPanel:visible').first().screenshot({ path: file });
    shots.push(file);
  } else {
    // Very long notebooks: several images, scrolling the notebook between them.
    await resizeViewport(page, nbPath, { width: VIEWPORT.width, height: MAX_SHOT_HEIGHT });
    for (let part = 1, top = 0; ; part++) {
      const more = await inPanel(page, nbPath, (panel, top) => {
        const outer = panel.node.querySelector('.jp-WindowedPanel-outer') || panel.content.node;
        outer.scrollTop = top;
        return outer.scrollTop + outer.clientHeight < outer.scrollHeight;
      }, top);
      await waitPlotsSettled(page, nbPath);
      const f = file.replace(/\.png$/, `-part${part}.png`);
      await page.locator('.jp-NotebookPanel:visible').first().screenshot({ path: f });
      shots.push(f);
      if (!more) break;
      top += MAX_SHOT_HEIGHT - 400;
    }
  }
  const collapsed = (await waitPlotsSettled(page, nbPath)).filter(([, h]) => h === 0).length;
  await page.setViewportSize(VIEWPORT);
  return { shots, collapsed };
}

// ---------------------------------------------------------------------------------------------
// Main

function sha256(file) {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

async function main() {
  const notebooks = selectNotebooks(process.argv.slice(2));
  requireChromium();
  if (!fs.existsSync(path.join(ROOT, 'dist', 'lib', 'index.js'))) throw new Error('dist/lib/index.js is missing: run `npm run build` first');
  const env = ensureEnv({ log });
  sweepStaleRuns();
  const runId = `${process.pid}-${randomBytes(6).toString('hex')}`;
  const root = makeScratchRoot(notebooks);
  const server = new Server({ env, root, runId });
  let browser = null;
  const results = [];
  const problems = [];
  let interrupted = false;

  let cleaning = null;
  const cleanup = () => (cleaning ??= doCleanup());
  const doCleanup = async () => {
    if (browser) await browser.close().catch(() => {});
    browser = null;
    await server.shutdownKernels();
    await server.stop();
    // Nothing of this run may survive: JupyterLab, kernels (own sessions), their children.
    let left = processesOfRun(runId);
    for (let i = 0; i < 10 && left.length > 0; i++) {
      await sleep(500);
      left = processesOfRun(runId);
    }
    if (left.length > 0) {
      problems.push(`left running after shutdown (now killed): ${left.map((p) => `${p.pid} ${p.cmd.slice(0, 120)}`).join('; ')}`);
      for (const p of left) {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    const kernelsLeft = processesOfRun(runId).filter((p) => p.cmd.includes(KERNEL_LAUNCHER));
    if (kernelsLeft.length > 0) problems.push(`tslab kernel processes still alive: ${kernelsLeft.map((p) => p.pid).join(', ')}`);
    server.cleanup();
    fs.rmSync(root, { recursive: true, force: true });
    log(`JupyterLab stopped; no process of this run is left (checked /proc for its marker)`);
  };
  const onSignal = (sig) => {
    if (interrupted) return;
    interrupted = true;
    log(`${sig}: shutting down`);
    cleanup().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    await server.start();
    log(`JupyterLab up in ${elapsed()}`);
    // Token authentication is on: the API refuses requests without the token.
    const anon = await server.api('GET', '/api/sessions', { auth: false });
    if (anon.status !== 403 && anon.status !== 401) problems.push(`the Jupyter API answered ${anon.status} without a token (token auth off?)`);
    // The kernelspec JupyterLab offers as "tslab" is this checkout's launcher.
    const specs = await server.api('GET', '/api/kernelspecs');
    const kernelspec = specs.body?.kernelspecs?.[KERNEL_NAME];
    if (!kernelspec) throw new Error(`JupyterLab has no "${KERNEL_NAME}" kernelspec (has: ${Object.keys(specs.body?.kernelspecs ?? {}).join(', ')})`);
    const argv = kernelspec.spec.argv;
    if (argv[1] !== KERNEL_LAUNCHER || !fs.existsSync(argv[0]) || kernelspec.spec.language !== 'typescript') {
      throw new Error(`the "${KERNEL_NAME}" kernelspec is not this checkout's: argv ${JSON.stringify(argv)}, language ${kernelspec.spec.language}`);
    }
    log(`kernelspec "${KERNEL_NAME}" (${kernelspec.spec.display_name}) runs ${path.relative(ROOT, argv[1])}`);

    browser = await launchChromium({ handleSignals: false }); // our clean-up handles Ctrl-C
    log(`Chromium ${browser.version()} up in ${elapsed()}`);
    for (const [i, nbFile] of notebooks.entries()) {
      if (interrupted) break;
      log(`[${i + 1}/${notebooks.length}] ${path.basename(nbFile)}`);
      const r = await testNotebook({ browser, server, nbFile, kernelspec });
      r.ok = r.failures.length === 0; // (failures found while closing the notebook count too)
      results.push(r);
      for (const w of r.warnings) log(`  warning: ${w}`);
      for (const f of r.failures) log(`  FAIL: ${f}`);
      const extra = r.cells !== undefined ? `, ${r.cells} code cells, ${r.plots} plot(s), ${r.images} image(s)` : '';
      log(`[${i + 1}/${notebooks.length}] ${r.name} ${r.ok ? 'ok' : 'FAILED'} in ${r.secs.toFixed(1)} s${extra}`);
      for (const s of r.screenshot ?? []) log(`  screenshot: ${path.relative(ROOT, s)}`);
    }
  } catch (e) {
    problems.push(e.message);
  } finally {
    await cleanup();
  }

  writeJson(path.join(OUT_DIR, 'report.json'), { when: new Date().toISOString(), results, problems });
  console.log('');
  for (const r of results) {
    console.log(`  ${r.ok ? 'ok    ' : 'FAILED'} ${r.secs.toFixed(1).padStart(6)} s  ${r.name}${r.ok ? '' : `: ${r.failures.length} failure(s)`}`);
    for (const s of r.screenshot ?? []) console.log(`                   ${path.relative(ROOT, s)}`);
  }
  for (const p of problems) console.log(`  FAIL: ${p}`);
  const failed = results.filter((r) => !r.ok).length + problems.length;
  console.log(`\n[browser] ${failed === 0 ? 'passed' : 'FAILED'}: ${results.length} notebook(s) in ${elapsed()}; report ${path.relative(ROOT, path.join(OUT_DIR, 'report.json'))}`);
  return failed === 0 && results.length === notebooks.length ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`[browser] FAILED: ${e.message}`);
    process.exit(1);
  },
);
