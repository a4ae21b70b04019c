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
 * Here: which notebooks, one notebook's test from open to screenshot, the run and its report.
 * The parts: jupyter-server.mjs (scratch root, JupyterLab, process marker and sweep),
 * lab-page.mjs (page probes, run-all, render waits), browser-checks.mjs (the checks, pure
 * functions of the collected data), screenshots.mjs.
 *
 * Environment: CHROMIUM_PATH (default /usr/bin/chromium), BROWSER_TEST_TIMEOUT_S (run-all time
 * per notebook, default 1800), BROWSER_TEST_RENDER_TIMEOUT_S (how long to wait for figures and
 * images to render once the cells ran, default 60), BROWSER_TEST_OUT (default
 * test-results/browser).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { launchChromium, requireChromium } from './chromium.mjs';
import { ROOT, selectNotebooks, writeJson } from './files.mjs';
import { KERNEL_NAME, ensureEnv } from './pyenv.mjs';
import { plotlyOutputs, readNotebook } from './static-figures.mjs';
import { JupyterServer, killLeftovers, makeScratchRoot, newRunId, processesOfRun, sweepStaleRuns } from './jupyter-server.mjs';
import * as lab from './lab-page.mjs';
import { checkCells, checkCommitted, checkKernel, checkKernelspec, checkSession, plotlyOutputsOf, resizeWarnings } from './browser-checks.mjs';
import { takeScreenshot } from './screenshots.mjs';

const KERNEL_LAUNCHER = path.join(ROOT, 'scripts', 'tslab-kernel.cjs');
const OUT_DIR = path.resolve(ROOT, process.env.BROWSER_TEST_OUT || path.join('test-results', 'browser'));
const NOTEBOOK_TIMEOUT_MS = Number(process.env.BROWSER_TEST_TIMEOUT_S || 1800) * 1000;
const RENDER_TIMEOUT_MS = Number(process.env.BROWSER_TEST_RENDER_TIMEOUT_S || 60) * 1000;

const t0 = Date.now();
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
const log = (msg) => console.log(`[browser] ${msg}`);
const sha256 = (file) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** One notebook in a fresh browser context: open, check committed outputs, clear, run all, check. */
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
  const context = await browser.newContext({ viewport: lab.VIEWPORT, deviceScaleFactor: 1 });
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
    await lab.openNotebook(page, nbPath);
    log(`${name}: open, kernel ready (${((Date.now() - started) / 1000).toFixed(1)} s)`);

    // The committed outputs as a reader opening the file sees them (each plotly figure shown as
    // its static PNG or as a graph) and as a viewer without JavaScript does (the PNG in the file:
    // jupyterlab-plotly adds one to the in-memory output once it drew the graph).
    const committed = await lab.waitCommittedPlots(page, nbPath, RENDER_TIMEOUT_MS);
    const onDisk = plotlyOutputs(readNotebook(copy));
    failures.push(...checkCommitted({ data: committed, onDisk, name }));

    // Clear, then run everything in this browser.
    await lab.clearOutputs(page, nbPath);
    const cleared = await lab.progress(page, nbPath);
    if (cleared.done !== 0) failures.push(`clearing outputs left ${cleared.done} execution count(s)`);
    const runStart = Date.now();
    const { progress, failure } = await lab.runAll(page, nbPath, {
      timeoutMs: NOTEBOOK_TIMEOUT_MS,
      onProgress: (p, ms) => {
        const at = p.running >= 0 ? `, running cell ${p.running + 1}` : '';
        log(`${name}: ${p.done}/${p.total} cells executed${at} (${(ms / 1000).toFixed(0)} s)`);
      },
    });
    if (failure) failures.push(failure);
    const runSecs = (Date.now() - runStart) / 1000;
    log(`${name}: run all finished in ${runSecs.toFixed(1)} s (${progress.done}/${progress.total} cells, run-all ${progress.runAll})`);

    // Let renderers finish (plotly graphs drawn, images decoded), then check what shows.
    const data = await lab.waitRendered(page, nbPath, RENDER_TIMEOUT_MS);
    data.language = await lab.kernelLanguage(page, nbPath);
    failures.push(...checkKernel({ data, nbPath, kernelName: KERNEL_NAME, kernelspec }));
    failures.push(...checkSession({ sessions: await server.sessions(), nbPath, kernelName: KERNEL_NAME }));
    const cells = checkCells(data.cells);
    failures.push(...cells.failures);
    warnings.push(...cells.warnings);
    for (const d of data.dialogs) failures.push(`a dialog is open: ${d}`);
    for (const e of pageErrors) failures.push(`uncaught exception in the page: ${e}`);
    for (const e of consoleErrors) warnings.push(`browser console error: ${e}`);

    warnings.push(...resizeWarnings(data.cells, await lab.plotSizesAfterResize(page, nbPath)));
    const shot = await takeScreenshot(page, nbPath, name, OUT_DIR);
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
      plots: data.cells.flatMap((c) => c.plots).length,
      images: data.cells.flatMap((c) => c.images).length,
      committedPlotly: plotlyOutputsOf(committed).length,
      committedWithPng: onDisk.filter((f) => f.output.data['image/png']).length,
      screenshot,
    };
  } catch (e) {
    failures.push(`${e.message.split('\n')[0]}`);
    try {
      screenshot = (await takeScreenshot(page, nbPath, name, OUT_DIR)).shots;
    } catch {
      /* nothing to show */
    }
    return { name, ok: false, failures, warnings, secs: (Date.now() - started) / 1000, screenshot };
  } finally {
    await server.closeSessions(nbPath).catch(() => {});
    await context.close().catch(() => {});
    if (sha256(copy) !== copyHash) failures.push('JupyterLab saved the notebook (its scratch copy changed)');
  }
}

async function main() {
  const notebooks = selectNotebooks(process.argv.slice(2));
  requireChromium();
  if (!fs.existsSync(path.join(ROOT, 'dist', 'lib', 'index.js'))) throw new Error('dist/lib/index.js is missing: run `npm run build` first');
  const env = ensureEnv({ log });
  sweepStaleRuns({ log });
  const runId = newRunId();
  const root = makeScratchRoot(notebooks);
  const server = new JupyterServer({ env, root, runId, logFile: path.join(OUT_DIR, 'jupyterlab.log'), log });
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
    const left = await killLeftovers(runId);
    if (left.length > 0) problems.push(`left running after shutdown (now killed): ${left.map((p) => `${p.pid} ${p.cmd.slice(0, 120)}`).join('; ')}`);
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
    const kernelspec = checkKernelspec(specs.body, { name: KERNEL_NAME, launcher: KERNEL_LAUNCHER, exists: fs.existsSync });
    log(`kernelspec "${KERNEL_NAME}" (${kernelspec.spec.display_name}) runs ${path.relative(ROOT, kernelspec.spec.argv[1])}`);

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
