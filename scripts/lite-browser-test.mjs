#!/usr/bin/env node
/**
 * The notebooks in the browser: the JupyterLite site of `npm run lite` (dist/lite/), served on
 * 127.0.0.1 with cross-origin isolation (scripts/lite-serve.mjs), driven by headless Chromium.
 *
 * For each notebook (default 01–07), in a fresh browser context:
 *  - opens it (lab/index.html?path=notebooks/<file>&env.VQ_TEST=1: the test budgets of
 *    docs/testing.md, unless --full), checks the kernel is the TypeScript kernel of lite/kernel
 *    (kernelspec "tslab", implementation jupyterlite-typescript-kernel, language typescript)
 *    and that the committed outputs show (every plotly figure as a graph or its PNG);
 *  - clears the outputs, runs all cells, waits until the kernel is idle, then checks with the
 *    same checks as scripts/browser-test.mjs (browser-checks.mjs): every code cell ran in order,
 *    no error output, no stderr, every plotly output drawn with all its traces, every image
 *    loaded; and the claims: every `✓ …` line of the committed notebook is printed again (a
 *    claim that fails throws, which is an error output);
 *  - saves a screenshot to test-results/lite/<notebook>.png.
 * Then, in notebook 01's page, the kernel itself: a throwing cell shows an `error` output (and
 * the execute_reply says error); vq.codecRates codes 100 digits with the browser's canvas
 * encoders (labelled 'browser canvas'; more levels / quality: more bits, less MSE); an
 * interrupt stops a library loop (trainQuantizer: an InterruptedError, through the
 * shared-memory count) and, after the grace time, a busy `while (true) {}` (the worker is
 * restarted: KernelRestarted), after which the kernel runs cells again.
 * Writes test-results/lite/report.json with per-notebook run times.
 *
 *   node scripts/lite-browser-test.mjs              01–07
 *   node scripts/lite-browser-test.mjs 01 06        those whose file name contains 01 or 06
 *   node scripts/lite-browser-test.mjs --full       the notebooks' full training budgets
 *   node scripts/lite-browser-test.mjs --no-isolation   without COOP/COEP (fallback paths)
 *
 * Environment: CHROMIUM_PATH, LITE_TEST_TIMEOUT_S (run-all time per notebook, default 1800).
 */
import fs from 'node:fs';
import path from 'node:path';
import { launchChromium, requireChromium } from './chromium.mjs';
import { ROOT, writeJson } from './files.mjs';
import { startLiteServer } from './lite-serve.mjs';
import * as lab from './lab-page.mjs';
import { checkCells, checkCommitted, plotlyOutputsOf } from './browser-checks.mjs';
import { plotlyOutputs, readNotebook } from './static-figures.mjs';
import { takeScreenshot } from './screenshots.mjs';

const args = process.argv.slice(2);
const full = args.includes('--full');
const isolation = !args.includes('--no-isolation');
const selectors = args.filter((a) => !a.startsWith('--'));
const OUT_DIR = path.join(ROOT, 'test-results', 'lite');
const SITE = path.join(ROOT, 'dist', 'lite');
const TIMEOUT_MS = Number(process.env.LITE_TEST_TIMEOUT_S || 1800) * 1000;
const RENDER_TIMEOUT_MS = 60_000;
const t0 = Date.now();
const log = (msg) => console.log(`[lite-test] ${msg}`);
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;

function selectNotebooks() {
  const all = fs.readdirSync(path.join(SITE, 'files', 'notebooks')).filter((f) => f.endsWith('.ipynb')).sort();
  if (selectors.length === 0) return all.filter((f) => /^0[1-7]-/.test(f));
  const chosen = all.filter((f) => selectors.some((s) => f.includes(s)));
  if (chosen.length === 0) throw new Error(`no notebook in the site matches ${selectors.join(', ')}`);
  return chosen;
}

/** The `✓ …` lines (claims) of a notebook's outputs. */
function claimLines(nb) {
  const lines = [];
  for (const c of nb.cells) {
    for (const o of c.outputs ?? []) {
      if (o.output_type !== 'stream') continue;
      const text = Array.isArray(o.text) ? o.text.join('') : String(o.text);
      for (const l of text.split('\n')) if (l.startsWith('✓ ')) lines.push(l.trim());
    }
  }
  return lines;
}

/** Insert a code cell at the end of the open notebook, run it, return its outputs (and the DOM's error count). */
function runExtraCell(page, nbPath, code, { waitMs = 60_000 } = {}) {
  return lab.inPanel(
    page,
    nbPath,
    async (panel, { code, waitMs }) => {
      const app = window.jupyterapp;
      app.shell.activateById(panel.id);
      const nb = panel.content;
      nb.activeCellIndex = nb.widgets.length - 1;
      await app.commands.execute('notebook:insert-cell-below');
      const cell = nb.activeCell;
      cell.model.sharedModel.setSource(code);
      const started = Date.now();
      const done = app.commands.execute('notebook:run-cell');
      await Promise.race([done, new Promise((r) => setTimeout(r, waitMs))]);
      const outputs = cell.model.outputs.toJSON();
      return {
        ms: Date.now() - started,
        executionCount: cell.model.executionCount,
        outputs: outputs.map((o) => ({ type: o.output_type, ename: o.ename, evalue: o.evalue, text: o.text, data: o.data ? Object.keys(o.data) : [] })),
        errorNodes: cell.node.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').length,
      };
    },
    { code, waitMs },
  );
}

/** Run `code` in a new cell without waiting, interrupt after `afterMs`, return the cell's outputs once it ends. */
function interruptExtraCell(page, nbPath, code, afterMs) {
  return lab.inPanel(
    page,
    nbPath,
    async (panel, { code, afterMs }) => {
      const app = window.jupyterapp;
      app.shell.activateById(panel.id);
      const nb = panel.content;
      nb.activeCellIndex = nb.widgets.length - 1;
      await app.commands.execute('notebook:insert-cell-below');
      const cell = nb.activeCell;
      cell.model.sharedModel.setSource(code);
      const started = Date.now();
      const done = app.commands.execute('notebook:run-cell');
      await new Promise((r) => setTimeout(r, afterMs));
      const interruptedAt = Date.now();
      await panel.sessionContext.session.kernel.interrupt();
      await Promise.race([done, new Promise((r) => setTimeout(r, 60_000))]);
      return {
        stoppedAfterInterruptMs: Date.now() - interruptedAt,
        ranMs: interruptedAt - started,
        outputs: cell.model.outputs.toJSON().map((o) => ({ type: o.output_type, ename: o.ename, evalue: o.evalue })),
      };
    },
    { code, afterMs },
  );
}

async function kernelChecks(page, nbPath) {
  const failures = [];
  const notes = [];
  // 1. A throwing cell shows an error.
  const thrown = await runExtraCell(page, nbPath, "throw new RangeError('lite test: this cell throws');");
  const err = thrown.outputs.find((o) => o.type === 'error');
  if (!err || err.ename !== 'RangeError' || !/this cell throws/.test(err.evalue)) failures.push(`a throwing cell: expected a RangeError output, got ${JSON.stringify(thrown.outputs)}`);
  else if (thrown.errorNodes === 0) failures.push('a throwing cell: the error output is not shown in the page');
  else notes.push(`a throwing cell shows its error (${err.ename}: ${err.evalue})`);
  // 2. vq.codecRates is the bundle's browser version (lite/browser/codecs.ts: canvas encoders, not sharp).
  const codecs = await runExtraCell(
    page,
    nbPath,
    'const liteDigits = vq.loadMnist();\n' +
      'const liteCodecs = await vq.codecRates(liteDigits.test.images.dataSync().subarray(0, 100 * 784), 100, 28, 28);\n' +
      'liteDigits.dispose();\n' +
      "console.log('codecRates ' + JSON.stringify(liteCodecs));",
    { waitMs: 120_000 },
  );
  const line = codecs.outputs.filter((o) => o.type === 'stream').map((o) => o.text).join('').split('\n').find((l) => l.startsWith('codecRates '));
  const points = line ? JSON.parse(line.slice('codecRates '.length)) : null;
  const kinds = (c) => (points ?? []).filter((p) => p.codec === c);
  const falling = (ps) => ps.every((p, i) => i === 0 || (p.mse < ps[i - 1].mse && p.bitsPerDigit > ps[i - 1].bitsPerDigit));
  if (!points) failures.push(`vq.codecRates in the kernel: no result, outputs ${JSON.stringify(codecs.outputs).slice(0, 400)}`);
  else if (points.length !== 10 || !points.every((p) => p.encoder === 'browser canvas' && p.bitsPerDigit > 0)) failures.push(`vq.codecRates in the kernel: ${line.slice(0, 400)}`);
  else if (!falling(kinds('PNG')) || !falling(kinds('JPEG'))) failures.push(`vq.codecRates in the kernel: more levels / higher quality should cost more bits for less MSE: ${line.slice(0, 600)}`);
  else notes.push(`vq.codecRates in the kernel (browser canvas, 100 digits): ${points.map((p) => `${p.codec} ${p.setting.replace(/ \(256 levels\)| grey levels/, '')} ${p.bitsPerDigit.toFixed(0)} bits ${p.mse.toExponential(2)}`).join('; ')}`);
  // 3. An interrupt stops a library loop (it checks the interrupt count before every step).
  const guarded = await interruptExtraCell(
    page,
    nbPath,
    'const liteQ = new vq.VectorQuantizer({ dim: 8, codebookSize: 16, seed: 0 });\n' +
      "const liteX = vq.tf.randomNormal([512, 8], 0, 1, 'float32', 3);\n" +
      'await vq.trainQuantizer(liteQ, liteX, { steps: 1000000 });',
    3000,
  );
  const gErr = guarded.outputs.find((o) => o.type === 'error');
  if (!gErr || gErr.ename !== 'InterruptedError') failures.push(`interrupting trainQuantizer: expected an InterruptedError, got ${JSON.stringify(guarded.outputs)}`);
  else notes.push(`interrupt: trainQuantizer stopped ${guarded.stoppedAfterInterruptMs} ms after the interrupt (${gErr.evalue.slice(0, 80)}…)`);
  // 4. A busy loop that never yields: the worker is restarted, and the kernel works again.
  const busy = await interruptExtraCell(page, nbPath, 'while (true) {}', 1000);
  const bErr = busy.outputs.find((o) => o.type === 'error');
  if (!bErr || bErr.ename !== 'KernelRestarted') failures.push(`interrupting a busy loop: expected KernelRestarted, got ${JSON.stringify(busy.outputs)}`);
  else notes.push(`interrupt: a busy loop ended ${busy.stoppedAfterInterruptMs} ms after the interrupt by restarting the worker`);
  const after = await runExtraCell(page, nbPath, '6 * 7');
  const result = after.outputs.find((o) => o.type === 'execute_result');
  if (!result) failures.push(`after the restart, a cell gave ${JSON.stringify(after.outputs)}`);
  else notes.push('after the restart the kernel runs cells again');
  return { failures, notes };
}

async function testNotebook(browser, server, name, { withKernelChecks }) {
  const nbPath = `notebooks/${name}`;
  const started = Date.now();
  const failures = [];
  const warnings = [];
  const notes = [];
  const context = await browser.newContext({ viewport: lab.VIEWPORT, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e.message || e).split('\n')[0]));
  page.on('dialog', (d) => d.dismiss().catch(() => {}));
  let runSecs = null;
  let screenshot = null;
  try {
    const query = `path=${encodeURIComponent(nbPath)}${full ? '' : '&env.VQ_TEST=1'}`;
    await page.goto(`${server.url}lab/index.html?${query}`, { waitUntil: 'domcontentloaded', timeout: 120_000 });
    await lab.openNotebook(page, nbPath);
    const info = await lab.inPanel(page, nbPath, async (panel) => {
      const k = panel.sessionContext.session.kernel;
      const i = await k.info;
      return { name: k.name, implementation: i.implementation, language: i.language_info.name, isolated: window.crossOriginIsolated };
    });
    if (info.name !== 'tslab' || info.implementation !== 'jupyterlite-typescript-kernel' || info.language !== 'typescript') {
      failures.push(`the kernel is not the TypeScript kernel of lite/kernel: ${JSON.stringify(info)}`);
    }
    if (info.isolated !== isolation) failures.push(`crossOriginIsolated is ${info.isolated}, expected ${isolation}`);
    log(`${name}: open, kernel ready (${secs(Date.now() - started)})`);

    const file = path.join(SITE, 'files', nbPath);
    const committed = await lab.waitCommittedPlots(page, nbPath, RENDER_TIMEOUT_MS);
    failures.push(...checkCommitted({ data: committed, onDisk: plotlyOutputs(readNotebook(file)), name }));
    const wantClaims = claimLines(readNotebook(file));

    await lab.clearOutputs(page, nbPath);
    const runStart = Date.now();
    const { progress, failure } = await lab.runAll(page, nbPath, {
      timeoutMs: TIMEOUT_MS,
      onProgress: (p, ms) => log(`${name}: ${p.done}/${p.total} cells${p.running >= 0 ? `, running cell ${p.running + 1}` : ''} (${(ms / 1000).toFixed(0)} s)`),
    });
    runSecs = (Date.now() - runStart) / 1000;
    if (failure) failures.push(failure);
    log(`${name}: run all finished in ${runSecs.toFixed(1)} s (${progress.done}/${progress.total} cells)`);

    const data = await lab.waitRendered(page, nbPath, RENDER_TIMEOUT_MS);
    const cells = checkCells(data.cells);
    failures.push(...cells.failures);
    warnings.push(...cells.warnings);
    const gotClaims = new Set(data.cells.flatMap((c) => c.outputs.filter((o) => o.type === 'stream').flatMap((o) => o.text.split('\n').map((l) => l.trim()))));
    const missing = wantClaims.filter((l) => !gotClaims.has(l));
    for (const l of missing) failures.push(`claim not made again: ${l}`);
    notes.push(`${wantClaims.length - missing.length}/${wantClaims.length} committed claims made again`);
    const backendLine = data.cells.flatMap((c) => c.outputs).find((o) => o.type === 'stream' && /^backend: /.test(o.text ?? ''));
    if (backendLine) notes.push(backendLine.text.split('\n')[0]);
    // training speed lines (e.g. notebook 06: "trained 10 epochs (360 steps) in 5m53s, 261 images/s")
    for (const o of data.cells.flatMap((c) => c.outputs)) {
      for (const l of o.type === 'stream' ? o.text.split('\n') : []) if (/images\/s/.test(l)) notes.push(l.trim());
    }
    for (const d of data.dialogs) failures.push(`a dialog is open: ${d}`);

    screenshot = (await takeScreenshot(page, nbPath, name, OUT_DIR)).shots;
    if (withKernelChecks) {
      const k = await kernelChecks(page, nbPath);
      failures.push(...k.failures);
      notes.push(...k.notes);
    }
    for (const e of pageErrors) failures.push(`uncaught exception in the page: ${e}`);
    return {
      name, ok: failures.length === 0, failures, warnings, notes, secs: (Date.now() - started) / 1000, runSecs,
      cells: data.cells.length, plots: plotlyOutputsOf(data).length, images: data.cells.flatMap((c) => c.images).length, screenshot,
    };
  } catch (e) {
    failures.push(e.message.split('\n')[0]);
    try {
      screenshot = (await takeScreenshot(page, nbPath, name, OUT_DIR)).shots;
    } catch {
      /* nothing to show */
    }
    return { name, ok: false, failures, warnings, notes, secs: (Date.now() - started) / 1000, runSecs, screenshot };
  } finally {
    await context.close().catch(() => {});
  }
}

async function main() {
  requireChromium();
  if (!fs.existsSync(path.join(SITE, 'index.html'))) throw new Error('dist/lite/ is missing: run `npm run lite` first');
  const notebooks = selectNotebooks();
  const server = await startLiteServer({ root: SITE, port: 8800, isolation });
  log(`serving dist/lite/ at ${server.url} (${isolation ? 'cross-origin isolated' : 'not isolated'}), ${full ? 'full budgets' : 'VQ_TEST=1 budgets'}`);
  const browser = await launchChromium();
  const results = [];
  try {
    for (const [i, name] of notebooks.entries()) {
      log(`[${i + 1}/${notebooks.length}] ${name}`);
      const r = await testNotebook(browser, server, name, { withKernelChecks: i === 0 });
      results.push(r);
      for (const n of r.notes) log(`  ${n}`);
      for (const w of r.warnings) log(`  warning: ${w}`);
      for (const f of r.failures) log(`  FAIL: ${f}`);
      log(`[${i + 1}/${notebooks.length}] ${name} ${r.ok ? 'ok' : 'FAILED'} in ${secs(r.secs * 1000)}${r.runSecs !== null ? ` (run all ${r.runSecs.toFixed(1)} s)` : ''}`);
    }
  } finally {
    await browser.close().catch(() => {});
    await server.close();
  }
  const build = fs.existsSync(path.join(SITE, 'vq', 'build.json')) ? JSON.parse(fs.readFileSync(path.join(SITE, 'vq', 'build.json'), 'utf8')) : null;
  const notFound = [...new Set(server.notFound)];
  if (notFound.length > 0) log(`requests the site answered 404 (not failures): ${notFound.join(', ')}`);
  writeJson(path.join(OUT_DIR, 'report.json'), { when: new Date().toISOString(), isolation, full, build, results, notFound });
  console.log('');
  for (const r of results) console.log(`  ${r.ok ? 'ok    ' : 'FAILED'} run all ${String(r.runSecs?.toFixed(1) ?? '-').padStart(6)} s  ${r.name}`);
  const failed = results.filter((r) => !r.ok).length;
  console.log(`\n[lite-test] ${failed === 0 ? 'passed' : 'FAILED'}: ${results.length} notebook(s) in ${secs(Date.now() - t0)}; report test-results/lite/report.json`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`[lite-test] FAILED: ${e.message}`);
    process.exit(1);
  },
);
