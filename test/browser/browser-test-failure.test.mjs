/**
 * The browser test must fail when a notebook is broken, say why, and still shut JupyterLab and
 * every kernel down. Runs scripts/browser-test.mjs on notebooks that break each check:
 *   - runtime-error.ipynb (test/fixtures): a cell throws;
 *   - a generated notebook: a cell writes to stderr, an image that does not decode, a plotly
 *     figure without traces, a committed plotly output without its static PNG; and a Node
 *     process warning on stderr, which is allowed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function brokenNotebook() {
  const code = (source, outputs = []) => ({ cell_type: 'code', execution_count: null, metadata: {}, outputs, source });
  // A committed plotly output without its static PNG: GitHub would show nothing for it.
  const committed = {
    output_type: 'display_data',
    metadata: {},
    data: { 'application/vnd.plotly.v1+json': { data: [{ type: 'scatter', y: [1, 3, 2] }], layout: { width: 400, height: 300 } }, 'text/plain': 'figure' },
  };
  return {
    cells: [
      code("import * as vq from '../dist/lib/index.js';"),
      code("process.emitWarning('an allowed process warning');"),
      code("console.error('something went wrong');"),
      code("vq.displayBundle({ 'image/png': 'bm90IGEgcG5n', 'text/plain': 'not a png' });"),
      code("vq.displayBundle({ 'application/vnd.plotly.v1+json': { data: 'not traces', layout: {} }, 'text/plain': 'broken figure' });"),
      code("vq.plot([{ type: 'scatter', y: [1, 3, 2] }], { width: 400, height: 300 });", [committed]),
    ],
    metadata: { kernelspec: { display_name: 'TypeScript (tslab)', language: 'typescript', name: 'tslab' } },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

function markedProcesses(prefix) {
  const found = [];
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const env = fs.readFileSync(`/proc/${pid}/environ`, 'latin1');
      if (env.includes(`VQ_BROWSER_TEST_RUN=${prefix}`)) found.push(Number(pid));
    } catch {
      /* gone */
    }
  }
  return found;
}

test('broken notebooks fail the browser test, with reasons, and nothing is left running', { timeout: 600_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vq-browser-fail-'));
  try {
    const broken = path.join(dir, 'broken-outputs.ipynb');
    fs.writeFileSync(broken, JSON.stringify(brokenNotebook(), null, 1));
    const out = path.join(dir, 'out');
    const child = spawn(
      process.execPath,
      [path.join(ROOT, 'scripts', 'browser-test.mjs'), path.join(ROOT, 'test', 'fixtures', 'notebooks', 'runtime-error.ipynb'), broken],
      { cwd: ROOT, env: { ...process.env, BROWSER_TEST_OUT: out, BROWSER_TEST_RENDER_TIMEOUT_S: '10' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const code = await new Promise((resolve) => child.on('exit', (c) => resolve(c)));

    assert.equal(code, 1, output);
    assert.match(output, /JupyterLab stopped; no process of this run is left/);
    assert.deepEqual(markedProcesses(`${child.pid}-`), [], 'no JupyterLab or kernel process of that run');
    assert.equal(fs.existsSync(path.join(ROOT, '.tmp', `browser-${child.pid}`)), false, 'scratch notebooks removed');

    const report = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8'));
    assert.deepEqual(report.problems, []);
    const [runtime, outputs] = report.results;
    assert.equal(runtime.ok, false);
    assert.ok(runtime.failures.some((f) => /RangeError: boom from a cell/.test(f)), runtime.failures.join('\n'));

    assert.equal(outputs.ok, false);
    const fails = outputs.failures.join('\n');
    assert.match(fails, /stderr: something went wrong/);
    assert.match(fails, /an image did not load/);
    assert.match(fails, /figure 1: the graph has no drawn traces/);
    assert.match(fails, /committed outputs: 1 of 1 plotly figure\(s\) have no static PNG/);
    assert.doesNotMatch(fails, /allowed process warning/);
    assert.ok(outputs.warnings.some((w) => /stderr \(allowed\).*an allowed process warning/.test(w)), outputs.warnings.join('\n'));
    assert.equal(outputs.failures.filter((f) => /code cell 6\//.test(f)).length, 0, 'the good figure passes');
    for (const r of report.results) for (const s of r.screenshot) assert.ok(fs.statSync(s).size > 1000, s);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
