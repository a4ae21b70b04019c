/**
 * JupyterLab in a playwright page (scripts/browser-test.mjs): open a notebook and wait for its
 * kernel, run code against its NotebookPanel, clear and run all cells, probe what the model and
 * the DOM hold (pageCollect), and wait for figures and images to render or settle after a resize.
 *
 * The page* functions run inside Chromium (serialised with toString()): keep them
 * self-contained, everything they need comes in as their argument.
 */
import { PLOTLY_MIME } from './static-figures.mjs';
import { committedShown, renderComplete } from './browser-checks.mjs';

/** The viewport every notebook is opened in (and returned to after a screenshot). */
export const VIEWPORT = { width: 1280, height: 900 };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// In the page

function pageFindPanel(nbPath) {
  const app = window.jupyterapp;
  if (!app || !app.shell) return null;
  for (const w of app.shell.widgets('main')) if (w.context && w.context.path === nbPath && w.content && w.sessionContext) return w;
  return null;
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

/** Everything the checks need, per code cell, from the model and the DOM (`plotlyMime` passed in). */
function pageCollect(panel, plotlyMime) {
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
        figureTraces: o.data && o.data[plotlyMime] ? (o.data[plotlyMime].data || []).length : undefined,
        figureTitle: o.data && o.data[plotlyMime] ? o.data[plotlyMime].layout?.title ?? null : undefined,
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

/** The plotly outputs' rendered sizes, [[w, h], ...] in page order. */
function pagePlotSizes(panel) {
  return [...panel.node.querySelectorAll('.jp-RenderedPlotly')].map((n) => {
    const r = n.getBoundingClientRect();
    return [Math.round(r.width), Math.round(r.height)];
  });
}

// ---------------------------------------------------------------------------------------------
// From Node

/** Open `nbPath` in the JupyterLab page and wait until its kernel is connected and idle. */
export async function openNotebook(page, nbPath) {
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
export function inPanel(page, nbPath, fn, arg = null) {
  return page.evaluate(
    async ({ nbPath, findSrc, fnSrc, arg }) => {
      const panel = new Function(`return (${findSrc})`)()(nbPath);
      if (!panel) throw new Error(`notebook ${nbPath} is not open`);
      return new Function(`return (${fnSrc})`)()(panel, arg);
    },
    { nbPath, findSrc: pageFindPanel.toString(), fnSrc: fn.toString(), arg },
  );
}

/** Cells, outputs, plots, images, kernel and dialogs as the page shows them now. */
export function collect(page, nbPath) {
  return inPanel(page, nbPath, pageCollect, PLOTLY_MIME);
}

/** Run counts and kernel status now (see pageProgress). */
export function progress(page, nbPath) {
  return inPanel(page, nbPath, pageProgress);
}

/** `notebook:clear-all-cell-outputs`. */
export function clearOutputs(page, nbPath) {
  return inPanel(page, nbPath, async (panel) => {
    const app = window.jupyterapp;
    app.shell.activateById(panel.id);
    await app.commands.execute('notebook:clear-all-cell-outputs');
  });
}

/**
 * `notebook:run-all-cells`, then wait until the run-all command returned, no cell is queued and
 * the kernel has been idle for 1.5 s. Gives up when the kernel dies or after `timeoutMs` (then
 * interrupts it). Returns {progress, failure} (failure: null or why it stopped waiting).
 */
export async function runAll(page, nbPath, { timeoutMs, onProgress = () => {} }) {
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
  let idleSince = null;
  for (;;) {
    const now = await progress(page, nbPath);
    const finished = now.runAll !== 'running' && now.kernelStatus === 'idle' && now.queued === 0;
    idleSince = finished ? idleSince ?? Date.now() : null;
    if (idleSince !== null && Date.now() - idleSince >= 1500) return { progress: now, failure: null };
    if (now.kernelStatus === 'dead' || now.kernelStatus === 'unknown') return { progress: now, failure: `the kernel is ${now.kernelStatus}` };
    if (Date.now() - runStart > timeoutMs) {
      await inPanel(page, nbPath, (panel) => panel.sessionContext.session?.kernel?.interrupt()).catch(() => {});
      return {
        progress: now,
        failure: `timed out after ${timeoutMs / 1000} s (BROWSER_TEST_TIMEOUT_S): ${now.done}/${now.total} cells done`,
      };
    }
    if (Date.now() - lastReport > 30_000) {
      lastReport = Date.now();
      onProgress(now, Date.now() - runStart);
    }
    await sleep(500);
  }
}

/** The kernel's language_info.name (from its kernel_info reply). */
export function kernelLanguage(page, nbPath) {
  return inPanel(page, nbPath, async (panel) => {
    const info = await panel.sessionContext.session?.kernel?.info;
    return info?.language_info?.name ?? null;
  });
}

/** Collect until `done(data)` holds or `timeoutMs` passed; returns the last collection. */
async function collectUntil(page, nbPath, done, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const data = await collect(page, nbPath);
    if (done(data) || Date.now() > deadline) return data;
    await sleep(500);
  }
}

/** The committed outputs, once every plotly figure shows (as PNG or graph) or after `timeoutMs`. */
export function waitCommittedPlots(page, nbPath, timeoutMs) {
  return collectUntil(page, nbPath, (data) => committedShown(data).shown >= committedShown(data).want, timeoutMs);
}

/** The outputs after a run, once every figure is drawn and every image decoded, or after `timeoutMs`. */
export function waitRendered(page, nbPath, timeoutMs) {
  return collectUntil(page, nbPath, renderComplete, timeoutMs);
}

/** After a resize: wait until the plots' sizes stop changing (max 10 s); returns [[w, h], ...]. */
export async function waitPlotsSettled(page, nbPath) {
  let last = '';
  let sizes = [];
  const deadline = Date.now() + 10_000;
  await sleep(500);
  while (Date.now() < deadline) {
    sizes = await inPanel(page, nbPath, pagePlotSizes);
    const key = JSON.stringify(sizes);
    if (key === last) break;
    last = key;
    await sleep(500);
  }
  return sizes;
}

/** Resize the viewport; if a plot collapses to zero height (see plotSizesAfterResize), resize once more. */
export async function resizeViewport(page, nbPath, size) {
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
 * A reader resizes the window (900 -> 1100 px high): the plots' sizes once they settled, then
 * the viewport goes back to VIEWPORT. See browser-checks.mjs's resizeWarnings for why.
 */
export async function plotSizesAfterResize(page, nbPath) {
  await page.setViewportSize({ width: VIEWPORT.width, height: VIEWPORT.height + 200 });
  const sizes = await waitPlotsSettled(page, nbPath);
  await resizeViewport(page, nbPath, VIEWPORT);
  return sizes;
}
