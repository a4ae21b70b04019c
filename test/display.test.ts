/** Display helpers: the MIME bundles they emit, PNG bytes, rounding, tables, HTML export. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import {
  crc32, encodePng, figure, figureBundle, figureToHtml, fmt, imageGridPng, PLOTLY_MIME, Progress,
  roundDeep, roundSig, saveFigureHtml, tableText, formatDuration, elapsed,
} from '../lib/internal';

test('roundSig keeps significant digits and leaves integers and non-finite values', () => {
  assert.equal(roundSig(0.123456789, 4), 0.1235);
  assert.equal(roundSig(123456.789, 3), 123000);
  assert.equal(roundSig(7), 7);
  assert.ok(Number.isNaN(roundSig(NaN)));
  assert.equal(roundSig(Infinity), Infinity);
  assert.deepEqual(roundDeep({ a: [1.23456789, new Float32Array([0.1])], b: 'x' }, 3), { a: [1.23, [0.1]], b: 'x' });
  assert.equal(fmt(-0.0001, 3), '0.000');
  assert.equal(fmt(2.5, 2), '2.50');
});

test('figure bundle carries plotly JSON with rounded data and a text summary', () => {
  const fig = figure([{ type: 'scatter', x: [0, 1], y: new Float32Array([0.1234567, 2 / 3]), name: 'line' }], { title: 'T' });
  const b = figureBundle(fig);
  const json = b[PLOTLY_MIME] as { data: { y: number[] }[]; layout: { title: unknown } };
  assert.deepEqual(json.data[0]!.y, [0.12346, 0.66667]);
  assert.deepEqual(json.layout.title, { text: 'T' }, 'plotly.js 3 needs {text}: string titles are converted');
  assert.equal(b['text/plain'], '<Figure "T": 1 trace(s): line>');
  // JSON-serialisable (what goes over the wire to Jupyter).
  assert.deepEqual(JSON.parse(JSON.stringify(json)), json);
  assert.throws(() => figure('nope' as never), /figure\(data\) must be an array of traces, got "nope"/);
});

test('string titles of the figure, its axes and 3-D scenes become {text} objects', () => {
  const fig = figure([], { title: 'A', xaxis: { title: 'x' }, yaxis2: { title: { text: 'kept' } }, scene: { zaxis: { title: 'z' } } });
  assert.deepEqual(fig.layout.title, { text: 'A' });
  assert.deepEqual(fig.layout.xaxis, { title: { text: 'x' } });
  assert.deepEqual(fig.layout.yaxis2, { title: { text: 'kept' } });
  assert.deepEqual(fig.layout.scene, { zaxis: { title: { text: 'z' } } });
});

test('figureToHtml inlines plotly.js and opens without network', () => {
  const fig = figure([{ type: 'bar', x: ['a'], y: [1] }], { title: '</script><b>x</b>' });
  const html = figureToHtml(fig);
  assert.ok(html.length > 1_000_000, 'plotly.js is inlined');
  assert.ok(!/<script[^>]+src=/i.test(html), 'no external script');
  assert.equal((html.match(/<\/script>/gi) ?? []).length, 2, 'figure JSON cannot close the script element');
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vq-')), 'fig.html');
  const bytes = saveFigureHtml(fig, file);
  assert.equal(fs.statSync(file).size, bytes);
});

test('encodePng writes a valid PNG (signature, IHDR, CRC, pixels round-trip)', () => {
  assert.equal(crc32(Buffer.from('IEND')), 0xae426082);
  const px = new Uint8Array([0, 64, 128, 255, 10, 20]);
  const png = encodePng(3, 2, px, 1);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.equal(png.toString('ascii', 12, 16), 'IHDR');
  assert.equal(png.readUInt32BE(16), 3);
  assert.equal(png.readUInt32BE(20), 2);
  const ihdrCrc = png.readUInt32BE(29);
  assert.equal(ihdrCrc, crc32(png.subarray(12, 29)));
  const idatLen = png.readUInt32BE(33);
  const raw = zlib.inflateSync(png.subarray(41, 41 + idatLen));
  assert.deepEqual([...raw], [0, 0, 64, 128, 0, 255, 10, 20]);
  assert.throws(() => encodePng(3, 2, new Uint8Array(5)), /encodePng\(pixels\) must be 3×2×1 = 6 bytes \(a Uint8Array\), got a Uint8Array of length 5/);
});

test('imageGridPng tiles images with padding and scaling', () => {
  const imgs = new Float32Array(4 * 2 * 2).fill(1);
  const png = imageGridPng(imgs, 4, 2, 2, { cols: 2, scale: 3, pad: 1 });
  assert.equal(png.readUInt32BE(16), (2 * 3 + 1) * 3);
  assert.equal(png.readUInt32BE(20), (2 * 3 + 1) * 3);
  assert.throws(() => imageGridPng(imgs, 5, 2, 2), /imageGridPng\(images\) must hold n·h·w = 20 values, got a Float32Array of length 16/);
});

test('tableText aligns columns', () => {
  const t = tableText([{ method: 'plain', usage: 0.5 }, { method: 'entropy', usage: 1 }]);
  assert.equal(t, ['method   usage', '-------  -----', 'plain    0.500', 'entropy      1'].join('\n'));
});

test('Progress prints throttled plain lines outside a notebook', () => {
  const logged: string[] = [];
  const orig = console.log;
  console.log = (s: string) => logged.push(s);
  try {
    const p = new Progress({ title: 'train', everyMs: 60_000 });
    p.update({ step: 1, loss: 0.5 }, 0.1);
    p.update({ step: 2, loss: 0.25 }, 0.2); // throttled
    p.done({ step: 10, loss: 0.125 });
    if (!process.stdout.isTTY) {
      assert.equal(logged.length, 2);
      assert.match(logged[1]!, /^train: \[#{20}\] 100%  step 10  loss 0\.1250$/);
    }
  } finally {
    console.log = orig;
  }
  assert.equal(formatDuration(65), '1m05s');
  assert.match(elapsed(Date.now() - 2500), /^2\.\d s$/);
});

test('claim prints what it checked and throws with the detail when false', async () => {
  const { claim, ClaimError } = await import('../lib/notebook/claims');
  const logged: string[] = [];
  const orig = console.log;
  console.log = (s: string) => logged.push(s);
  try {
    claim(true, 'one is one');
  } finally {
    console.log = orig;
  }
  assert.deepEqual(logged, ['✓ one is one']);
  assert.throws(() => claim(false, 'two is one', '2 != 1'), (e: unknown) => e instanceof ClaimError && e.message === 'claim failed: two is one (2 != 1)');
});
