/**
 * JupyterLab for the browser test (scripts/browser-test.mjs): a scratch project root, a free
 * loopback port, a fresh token, lab settings and Jupyter dirs of its own; start, REST calls,
 * kernel shutdown and stop; and the process marker that finds whatever a run (or an earlier,
 * killed run) left behind.
 *
 * Every process of a run carries RUN_MARKER=<runId> in its environment, runId starting with the
 * test's pid, so /proc tells which processes belong to which run and whether that run is gone.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ROOT, writeJson } from './files.mjs';
import { jupyterProcessEnv } from './pyenv.mjs';

/** The environment variable that marks every process of a browser-test run. */
export const RUN_MARKER = 'VQ_BROWSER_TEST_RUN';
const SERVER_START_TIMEOUT_MS = 180_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A run id: the test's pid (so a later run can tell the owner is gone), then random hex. */
export function newRunId() {
  return `${process.pid}-${randomBytes(6).toString('hex')}`;
}

/** .tmp/browser-<pid>/: notebooks copied, everything else of the checkout symlinked. */
export function makeScratchRoot(notebooks) {
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

/** A TCP port free on 127.0.0.1 right now. */
export function freePort() {
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

/**
 * JupyterLab from the project's Python environment `env` (scripts/pyenv.mjs) on `root`, its
 * output in `logFile`, VQ_TEST=1 for the kernels, `RUN_MARKER=runId` for every process.
 */
export class JupyterServer {
  constructor({ env, root, runId, logFile, log = console.log }) {
    this.env = env;
    this.root = root;
    this.runId = runId;
    this.logFile = logFile;
    this.log = log;
    this.token = randomBytes(24).toString('hex');
    this.home = fs.mkdtempSync(path.join(os.tmpdir(), `vq-browser-jupyter-${process.pid}-`));
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
      fs.mkdirSync(path.dirname(this.logFile), { recursive: true });
      const logFd = fs.openSync(this.logFile, attempt === 1 ? 'w' : 'a');
      this.child = spawn(this.env.python, args, {
        cwd: this.root,
        detached: true, // its own process group, stopped as a whole at the end
        stdio: ['ignore', logFd, logFd],
        env: jupyterProcessEnv(this.env, {
          VQ_TEST: '1',
          [RUN_MARKER]: this.runId,
          JUPYTER_CONFIG_DIR: path.join(this.home, 'config'),
          JUPYTER_DATA_DIR: path.join(this.home, 'data'),
          JUPYTER_RUNTIME_DIR: path.join(this.home, 'runtime'),
        }),
      });
      fs.closeSync(logFd);
      this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
      this.exitInfo = null;
      this.exited.then((info) => (this.exitInfo = info));
      this.log(`JupyterLab starting on 127.0.0.1:${this.port} (pid ${this.child.pid}, log ${path.relative(ROOT, this.logFile)})`);
      const ok = await this.waitReady();
      if (ok) return;
      if (attempt >= 3) throw new Error(`JupyterLab did not start (see ${this.logFile})`);
      this.log(`JupyterLab exited early (${JSON.stringify(this.exitInfo)}), retrying on another port`);
    }
  }

  /** true once /api/status answers, false if the port was taken; throws on other failures. */
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

  /** A REST call: {status, body} (body parsed as JSON when it is JSON). */
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

  /** The sessions (GET /api/sessions) as an array. */
  async sessions() {
    const r = await this.api('GET', '/api/sessions');
    return Array.isArray(r.body) ? r.body : [];
  }

  /** Delete the sessions of one notebook path (their kernels shut down). */
  async closeSessions(nbPath) {
    for (const s of await this.sessions()) if (s.path === nbPath) await this.api('DELETE', `/api/sessions/${s.id}`);
  }

  /** Delete every session (which shuts its kernel down), then any kernel left. */
  async shutdownKernels() {
    if (!this.child || this.exitInfo) return;
    try {
      for (const s of await this.sessions()) await this.api('DELETE', `/api/sessions/${s.id}`);
      const kernels = await this.api('GET', '/api/kernels');
      for (const k of Array.isArray(kernels.body) ? kernels.body : []) await this.api('DELETE', `/api/kernels/${k.id}`);
    } catch (e) {
      this.log(`warning: could not shut kernels down through the REST API: ${e.message}`);
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

  /** Remove the server's own dirs (config, data, runtime, settings). */
  cleanup() {
    fs.rmSync(this.home, { recursive: true, force: true });
  }
}

/** Processes started by browser tests: {pid, run (the marker's value), cmd}. */
export function markedProcesses() {
  const key = Buffer.from(`${RUN_MARKER}=`);
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

/** Processes of this run: their environment carries RUN_MARKER=<runId>. */
export function processesOfRun(runId) {
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

function kill(pid) {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}

/**
 * After the server stopped: wait up to 5 s for the run's processes to end, then SIGKILL those
 * left. Returns the ones that had to be killed ({pid, cmd}).
 */
export async function killLeftovers(runId) {
  let left = processesOfRun(runId);
  for (let i = 0; i < 10 && left.length > 0; i++) {
    await sleep(500);
    left = processesOfRun(runId);
  }
  for (const p of left) kill(p.pid);
  return left;
}

/**
 * A browser test killed outright (SIGKILL, a lost terminal) cannot clean up: remove what such
 * runs left (their runId starts with the dead test's pid): processes and scratch folders.
 */
export function sweepStaleRuns({ log = console.log } = {}) {
  for (const p of markedProcesses()) {
    const owner = Number(p.run.split('-')[0]);
    if (!Number.isInteger(owner) || alive(owner)) continue;
    log(`killing ${p.pid} left by an earlier browser test (pid ${owner}, gone): ${p.cmd.slice(0, 100)}`);
    kill(p.pid);
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
