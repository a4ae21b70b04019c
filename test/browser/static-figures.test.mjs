/**
 * scripts/static-figures.mjs: a PNG next to every plotly bundle, rendered by plotly.js in
 * headless Chromium, deterministic, nothing else in the notebook touched; and the offline HTML
 * export. Part of `npm run test:browser` (it needs Chromium; without it this fails, it does not
 * skip).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PNG } from 'pngjs';
import { launchChromium } from '../../scripts/chromium.mjs';
import { locateEnv } from '../../scripts/pyenv.mjs';
import {
  PLOTLY_MIME,
  addStaticFigures,
  createFigureRenderer,
  exportFigureHtml,
  notebookText,
  plotlyOutputs,
  readNotebook,
  selectFigure,
  writeNotebook,
} from '../../scripts/static-figures.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SCRIPT = path.join(ROOT, 'scripts', 'static-figures.mjs');
const BLUE = [0x1f, 0x77, 0xb4]; // plotly's first trace colour
const RED = [0xd6, 0x27, 0x28];

/** Decode a PNG (pngjs): RGBA pixels, 4 bytes each. */
function decodePng(buf) {
  const png = PNG.sync.read(buf);
  return { width: png.width, height: png.height, bpp: 4, px: png.data };
}

function countColor({ width, height, bpp, px }, [r, g, b], tol = 8) {
  let n = 0;
  for (let i = 0; i < width * height; i++) {
    const o = i * bpp;
    if (Math.abs(px[o] - r) <= tol && Math.abs(px[o + 1] - g) <= tol && Math.abs(px[o + 2] - b) <= tol) n++;
  }
  return n;
}

/** A small notebook in nbformat's layout: stream, markdown, plain image, two plotly figures. */
function fixtureNotebook() {
  const fig1 = {
    data: [{ type: 'scatter', mode: 'lines+markers', x: [0, 1, 2, 3], y: [3, 1, 2, 0.5], name: 'line' }],
    layout: { title: { text: 'default size' }, height: 380 },
    config: { responsive: true, displaylogo: false },
  };
  const fig2 = {
    data: [
      { type: 'bar', x: ['a', 'b', 'c'], y: [2, 5, 3], name: 'bars', marker: { color: '#d62728' } },
      { type: 'heatmap', z: [[1, 2], [3, 4]], showscale: false, xaxis: 'x2', yaxis: 'y2' },
    ],
    layout: { width: 400, height: 300, xaxis: { domain: [0, 0.45] }, xaxis2: { domain: [0.55, 1] }, yaxis2: { anchor: 'x2' } },
  };
  const onePixel = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
  const code = (n, outputs) => ({ cell_type: 'code', execution_count: n, id: `c${n}`, metadata: {}, outputs, source: [`cell ${n}`] });
  return {
    cells: [
      { cell_type: 'markdown', id: 'm0', metadata: {}, source: ['# Fixture ü ≤ —'] },
      code(1, [{ name: 'stdout', output_type: 'stream', text: ['hello\n'] }]),
      code(2, [{ data: { [PLOTLY_MIME]: fig1, 'text/plain': ['<Figure 1>'] }, metadata: {}, output_type: 'display_data' }]),
      code(3, [
        { data: { 'image/png': onePixel, 'text/plain': ['<pixel>'] }, metadata: {}, output_type: 'display_data' },
        { data: { [PLOTLY_MIME]: fig2, 'text/plain': ['<Figure 2>'] }, metadata: {}, output_type: 'display_data' },
      ]),
    ],
    metadata: { kernelspec: { display_name: 'TypeScript (tslab)', language: 'typescript', name: 'tslab' } },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

describe('static figures', () => {
  let dir;
  let renderer;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vq-static-figures-'));
    renderer = await createFigureRenderer();
  });
  after(async () => {
    await renderer?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('writes notebooks exactly as nbformat would (so the diff is only the added images)', async () => {
    const { python } = locateEnv();
    const files = [path.join(dir, 'layout.ipynb')];
    writeNotebook(files[0], fixtureNotebook());
    await addStaticFigures(files[0], { renderer });
    // Committed notebooks that nbformat wrote (executed ones) must round-trip unchanged too.
    for (const f of fs.readdirSync(path.join(ROOT, 'notebooks')).filter((f) => f.endsWith('.ipynb'))) {
      const copy = path.join(dir, `committed-${f}`);
      fs.copyFileSync(path.join(ROOT, 'notebooks', f), copy);
      writeNotebook(copy, readNotebook(copy));
      files.push(copy);
    }
    for (const file of files) {
      const again = `${file}.nbformat`;
      const r = spawnSync(python, ['-c', 'import nbformat, sys; nbformat.write(nbformat.read(sys.argv[1], as_version=4), sys.argv[2])', file, again], {
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stderr);
      if (file === files[0] || fs.readFileSync(path.join(ROOT, 'notebooks', path.basename(file).replace(/^committed-/, '')), 'utf8') === fs.readFileSync(again, 'utf8')) {
        assert.equal(fs.readFileSync(file, 'utf8'), fs.readFileSync(again, 'utf8'), path.basename(file));
      }
    }
  });

  test('adds a drawn PNG of the figure size to every plotly output and touches nothing else', async () => {
    const file = path.join(dir, 'fixture.ipynb');
    writeNotebook(file, fixtureNotebook());
    const original = fs.readFileSync(file, 'utf8');

    const r = await addStaticFigures(file, { renderer });
    assert.deepEqual(r, { figures: 2, changed: true });
    const nb = readNotebook(file);
    const figs = plotlyOutputs(nb);
    assert.equal(figs.length, 2);

    const png1 = decodePng(Buffer.from(figs[0].output.data['image/png'], 'base64'));
    assert.deepEqual([png1.width, png1.height], [700, 380], 'default width 700, layout height 380');
    assert.ok(countColor(png1, BLUE) > 200, 'the line trace is drawn in plotly blue');
    const png2 = decodePng(Buffer.from(figs[1].output.data['image/png'], 'base64'));
    assert.deepEqual([png2.width, png2.height], [400, 300], 'layout width/height');
    assert.ok(countColor(png2, RED) > 1000, 'the bars are drawn in red');

    // The interactive bundle stays, and so does everything else.
    assert.ok(figs[0].output.data[PLOTLY_MIME] && figs[0].output.data['text/plain']);
    for (const f of figs) delete f.output.data['image/png'];
    assert.equal(notebookText(nb), original, 'only image/png keys were added');
  });

  test('is deterministic: a second run changes nothing', async () => {
    const file = path.join(dir, 'fixture.ipynb');
    const before = fs.readFileSync(file);
    const mtime = fs.statSync(file).mtimeMs;
    const r = await addStaticFigures(file, { renderer });
    assert.deepEqual(r, { figures: 2, changed: false });
    assert.ok(before.equals(fs.readFileSync(file)));
    assert.equal(fs.statSync(file).mtimeMs, mtime, 'not rewritten');
  });

  test('a notebook without figures is left alone', async () => {
    const file = path.join(dir, 'plain.ipynb');
    const nb = fixtureNotebook();
    nb.cells = nb.cells.slice(0, 2);
    writeNotebook(file, nb);
    assert.deepEqual(await addStaticFigures(file, { renderer }), { figures: 0, changed: false });
  });

  test('the CLI adds the PNGs and says how many', () => {
    const file = path.join(dir, 'cli.ipynb');
    writeNotebook(file, fixtureNotebook());
    const r = spawnSync(process.execPath, [SCRIPT, file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /2 static figure\(s\) rendered/);
    assert.equal(plotlyOutputs(readNotebook(file)).filter((f) => f.output.data['image/png']).length, 2);
  });

  test('figure selectors: execution count, and :k among several in one cell', () => {
    const nb = fixtureNotebook();
    assert.equal(selectFigure(nb, '2').title, 'default size');
    assert.equal(selectFigure(nb, '3:1').figure.layout.width, 400);
    assert.throws(() => selectFigure(nb, '7'), /no figure 7 .*figures here: 2, 3/);
    assert.throws(() => selectFigure(nb, 'x'), /expected <cell>\[:<k>\]/);
  });

  test('exports a figure to a self-contained HTML page that draws offline', async () => {
    const file = path.join(dir, 'fixture.ipynb');
    const out = path.join(dir, 'figure.html');
    const r = spawnSync(process.execPath, [SCRIPT, '--html', file, '3', out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /plotly\.js inlined/);
    const html = fs.readFileSync(out, 'utf8');
    assert.doesNotMatch(html, /<script[^>]+src=/, 'no external script');
    // Open it with every non-file request refused: it must still draw both traces.
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const requests = [];
      await page.route('**/*', (route) => {
        const url = route.request().url();
        if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
        requests.push(url);
        return route.abort();
      });
      await page.goto(pathToFileURL(out).href);
      await page.waitForSelector('.js-plotly-plot .barlayer .trace', { timeout: 30_000 });
      const drawn = await page.evaluate(() => ({
        bars: document.querySelectorAll('.barlayer .trace').length,
        heatmaps: document.querySelectorAll('.heatmaplayer .hm').length,
        title: document.title,
      }));
      assert.deepEqual(drawn, { bars: 1, heatmaps: 1, title: 'untitled' });
      assert.deepEqual(requests, [], 'no network request');
    } finally {
      await browser.close();
    }
    assert.equal(exportFigureHtml(file, '2', out).figure.title, 'default size');
  });
});
