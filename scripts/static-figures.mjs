#!/usr/bin/env node
/**
 * Static images of a notebook's plotly figures, for viewers without JavaScript (GitHub,
 * nbviewer), and a figure's export to a self-contained HTML page.
 *
 * Every output that carries `application/vnd.plotly.v1+json` gets an `image/png` rendered
 * from the same figure by plotly.js (the npm package plotly.js-dist) with `Plotly.toImage`
 * in headless Chromium, at the figure's layout width/height (default 700×380), scale 1. The
 * PNG is stored in that same output's data, next to the interactive bundle:
 *   - GitHub and nbviewer show the PNG (they ignore the plotly MIME type);
 *   - JupyterLab picks the plotly renderer (jupyterlab-plotly ranks its MIME type above
 *     image/png); that renderer shows the PNG first and swaps in the interactive graph as
 *     soon as the mouse enters it (and it re-renders the graph when a cell is run again).
 * nbval never compares image/png, and plotly cells are not output-checked anyway; the PNG is
 * still deterministic for a given Chromium and font set (the unit test checks that).
 * The notebook is rewritten atomically, in nbformat's own layout (keys sorted, indent 1), so
 * the only diff is the added images.
 *
 *   node scripts/static-figures.mjs <notebook.ipynb> [...]      add/refresh PNGs in place
 *   node scripts/static-figures.mjs --list <notebook.ipynb>     list the figures
 *   node scripts/static-figures.mjs --html <notebook.ipynb> <cell>[:<k>] <out.html>
 *       export one figure to a self-contained HTML file (plotly.js inlined, opens offline);
 *       <cell> is the execution count shown as [n] left of the cell, k (1-based, default 1)
 *       picks among several figures of one cell. `--list` prints the selectors.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { launchChromium } from './chromium.mjs';
import { ROOT, writeFileAtomic } from './files.mjs';

export const PLOTLY_MIME = 'application/vnd.plotly.v1+json';
export const PNG_MIME = 'image/png';
export const DEFAULT_WIDTH = 700;
export const DEFAULT_HEIGHT = 380;

const require = createRequire(import.meta.url);

// ---------------------------------------------------------------------------------------------
// Notebook files

export function readNotebook(file) {
  const nb = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (!nb || !Array.isArray(nb.cells)) throw new Error(`${file}: not a Jupyter notebook (no "cells" array)`);
  return nb;
}

function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys(value[k])]));
  }
  return value;
}

/** The text nbformat would write for this notebook: keys sorted, indent 1, trailing newline. */
export function notebookText(nb) {
  return JSON.stringify(sortKeys(nb), null, 1) + '\n';
}

/** Write a notebook atomically (temporary file + rename) in nbformat's layout. */
export function writeNotebook(file, nb) {
  writeFileAtomic(file, notebookText(nb));
}

/**
 * Every plotly figure of a notebook, in order:
 * {cellIndex, executionCount, outputIndex, k (1-based within its cell), output, figure, title}.
 */
export function plotlyOutputs(nb) {
  const found = [];
  nb.cells.forEach((cell, cellIndex) => {
    if (cell.cell_type !== 'code') return;
    let k = 0;
    (cell.outputs ?? []).forEach((output, outputIndex) => {
      const figure = output.data?.[PLOTLY_MIME];
      if (!figure) return;
      k += 1;
      found.push({ cellIndex, executionCount: cell.execution_count ?? null, outputIndex, k, output, figure, title: figureTitle(figure) });
    });
  });
  return found;
}

export function figureTitle(fig) {
  const t = fig?.layout?.title;
  if (typeof t === 'string') return t;
  if (t && typeof t.text === 'string') return t.text;
  return 'untitled';
}

/** The size a figure is rendered at: its layout's width/height, else 700×380. */
export function figureSize(fig) {
  const num = (v, d) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.round(v) : d);
  return { width: num(fig?.layout?.width, DEFAULT_WIDTH), height: num(fig?.layout?.height, DEFAULT_HEIGHT) };
}

// ---------------------------------------------------------------------------------------------
// Rendering

/**
 * A renderer: one headless Chromium page with plotly.js loaded. `render(fig)` returns the PNG as
 * base64 (no data: prefix, as nbformat stores it). Close it with `close()`.
 */
export async function createFigureRenderer() {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1000, height: 800 }, deviceScaleFactor: 1 });
    // No network at all: plotly.js comes from node_modules, figures carry their own data.
    await page.route('**/*', (route) => (route.request().url().startsWith('data:') ? route.continue() : route.abort()));
    await page.setContent('<!DOCTYPE html><html><head><meta charset="utf-8"></head><body></body></html>');
    await page.addScriptTag({ path: require.resolve('plotly.js-dist/plotly.js') });
    const version = await page.evaluate(() => window.Plotly?.version);
    if (!version) throw new Error('plotly.js did not load in Chromium');
    return {
      plotlyVersion: version,
      async render(fig) {
        const { width, height } = figureSize(fig);
        const url = await page.evaluate(
          async ({ fig, width, height }) => {
            const figure = { data: fig.data ?? [], layout: fig.layout ?? {}, config: { ...(fig.config ?? {}), responsive: false, staticPlot: true } };
            return window.Plotly.toImage(figure, { format: 'png', width, height, scale: 1 });
          },
          { fig, width, height },
        );
        const prefix = 'data:image/png;base64,';
        if (typeof url !== 'string' || !url.startsWith(prefix)) throw new Error(`Plotly.toImage returned ${String(url).slice(0, 40)}`);
        return url.slice(prefix.length);
      },
      async close() {
        await browser.close();
      },
    };
  } catch (e) {
    await browser.close();
    throw e;
  }
}

/**
 * Add (or refresh) a PNG next to every plotly bundle of a notebook file, in place.
 * Returns {figures, changed}. Writes the file only when something changed.
 */
export async function addStaticFigures(file, { renderer } = {}) {
  const nb = readNotebook(file);
  const figs = plotlyOutputs(nb);
  if (figs.length === 0) return { figures: 0, changed: false };
  const own = renderer ? null : await createFigureRenderer();
  const r = renderer ?? own;
  let changed = false;
  try {
    for (const f of figs) {
      let png;
      try {
        png = await r.render(f.figure);
      } catch (e) {
        const where = f.executionCount !== null ? `cell [${f.executionCount}]` : `cell #${f.cellIndex}`;
        throw new Error(`${path.basename(file)} ${where}, figure "${f.title}": ${e.message}`);
      }
      if (f.output.data[PNG_MIME] !== png) {
        f.output.data[PNG_MIME] = png;
        changed = true;
      }
    }
  } finally {
    if (own) await own.close();
  }
  if (changed) writeNotebook(file, nb);
  return { figures: figs.length, changed };
}

// ---------------------------------------------------------------------------------------------
// HTML export (the page itself comes from the library: lib/node/figure-html.ts's figureToHtml)

function libPlotly() {
  const file = path.join(ROOT, 'dist', 'lib', 'node', 'figure-html.js');
  if (!fs.existsSync(file)) throw new Error(`${path.relative(process.cwd(), file)} is missing: run \`npm run build\` first`);
  return require(file);
}

/** How to name a figure on the command line: "3", or "6:2" when its cell shows several. */
export function selectorOf(f, figs) {
  const several = figs.some((g) => g !== f && g.cellIndex === f.cellIndex);
  return `${f.executionCount}${several ? `:${f.k}` : ''}`;
}

/** Pick one figure by "<execution count>[:<k>]". */
export function selectFigure(nb, selector) {
  const m = /^(\d+)(?::(\d+))?$/.exec(String(selector));
  if (!m) throw new Error(`figure selector "${selector}": expected <cell>[:<k>], e.g. 3 or 6:2`);
  const [count, k] = [Number(m[1]), Number(m[2] ?? 1)];
  const figs = plotlyOutputs(nb);
  const hit = figs.find((f) => f.executionCount === count && f.k === k);
  if (!hit) {
    const have = figs.map((f) => selectorOf(f, figs));
    throw new Error(`no figure ${selector} (cell [${count}], figure ${k}); figures here: ${have.join(', ') || 'none'}`);
  }
  return hit;
}

/** Export one figure of a notebook to a self-contained HTML file. Returns {bytes, figure}. */
export function exportFigureHtml(notebookFile, selector, outFile) {
  const hit = selectFigure(readNotebook(notebookFile), selector);
  const bytes = libPlotly().saveFigureHtml(hit.figure, outFile);
  return { bytes, figure: hit };
}

// ---------------------------------------------------------------------------------------------
// CLI

function usage() {
  return [
    'usage:',
    '  node scripts/static-figures.mjs <notebook.ipynb> [...]                 add a PNG next to every plotly figure',
    '  node scripts/static-figures.mjs --list <notebook.ipynb>                list the figures',
    '  node scripts/static-figures.mjs --html <notebook.ipynb> <cell>[:<k>] <out.html>',
    '                                                                         export one figure to an offline HTML page',
  ].join('\n');
}

async function main(argv) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { list: { type: 'boolean' }, html: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (argv.length === 0 || values.help) {
    console.log(usage());
    return argv.length === 0 ? 2 : 0;
  }
  if (values.list) {
    if (values.html || positionals.length !== 1) throw new Error(usage());
    const figs = plotlyOutputs(readNotebook(positionals[0]));
    for (const f of figs) {
      const { width, height } = figureSize(f.figure);
      const png = f.output.data[PNG_MIME] ? 'png' : 'no png';
      console.log(`${selectorOf(f, figs)}\t${width}x${height}\t${png}\t${f.title}`);
    }
    if (figs.length === 0) console.log('(no plotly figures)');
    return 0;
  }
  if (values.html) {
    if (positionals.length !== 3) throw new Error(usage());
    const [nb, selector, out] = positionals;
    const { bytes, figure } = exportFigureHtml(nb, selector, out);
    console.log(`wrote ${out} (${(bytes / 1e6).toFixed(1)} MB, figure "${figure.title}" of cell [${figure.executionCount}], plotly.js inlined)`);
    return 0;
  }
  if (positionals.length === 0) throw new Error(usage());
  const files = positionals;
  const renderer = await createFigureRenderer();
  try {
    for (const file of files) {
      const t0 = Date.now();
      const { figures, changed } = await addStaticFigures(file, { renderer });
      const secs = ((Date.now() - t0) / 1000).toFixed(1);
      console.log(`${file}: ${figures} static figure(s) rendered${changed ? '' : ', unchanged'} in ${secs} s`);
    }
  } finally {
    await renderer.close();
  }
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      console.error(`static-figures: ${e.message}`);
      process.exit(1);
    },
  );
}
