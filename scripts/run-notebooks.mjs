#!/usr/bin/env node
/**
 * `npm start`: execute every notebook in notebooks/ in order, headless, with the tslab kernel,
 * saving outputs in place. Stops at the first failing cell (exit 1, the cell's error shown).
 *
 *   node scripts/run-notebooks.mjs [name-filter ...]   e.g. `npm start -- 03 05`
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ROOT, notebooksMatching } from './files.mjs';
import { ensureEnv, jupyterProcessEnv } from './pyenv.mjs';
import { ChromiumMissingError } from './chromium.mjs';
import { addStaticFigures, createFigureRenderer } from './static-figures.mjs';

const filters = process.argv.slice(2);
const env = ensureEnv();
const notebooks = notebooksMatching(filters);
if (notebooks.length === 0) {
  console.error(`no notebook in notebooks/ matches ${filters.join(', ')}`);
  process.exit(1);
}

const backend = spawnSync(process.execPath, ['-e', "require('./dist/lib/index.js').initBackend(undefined,{quiet:true}).then(i=>console.log(i.summary))"], {
  cwd: ROOT,
  encoding: 'utf8',
});
console.log(`${(backend.stdout || backend.stderr).trim()}`);
console.log(`executing ${notebooks.length} notebook(s) with kernel 'tslab' (Python env ${env.prefix})`);

// Static PNGs of the plotly figures (scripts/static-figures.mjs), for viewers without JavaScript.
// Without Chromium the notebooks still run; the figures are then left without PNG, loudly.
let renderer = null;
let staticSkipped = null;
async function staticFigures(nb) {
  if (staticSkipped) return 'static figures skipped: no Chromium';
  try {
    renderer ??= await createFigureRenderer();
    const { figures } = await addStaticFigures(nb, { renderer });
    return `${figures} static figure(s) rendered`;
  } catch (e) {
    if (!(e instanceof ChromiumMissingError)) throw e;
    staticSkipped = e.message;
    console.warn(`WARNING: ${e.message}\nWARNING: plotly figures get no static PNG (GitHub/nbviewer will show none).`);
    return 'static figures skipped: no Chromium';
  }
}

const t0 = Date.now();
const times = [];
for (const [i, nb] of notebooks.entries()) {
  const name = path.relative(ROOT, nb);
  console.log(`[${i + 1}/${notebooks.length}] ${name}`);
  const start = Date.now();
  const r = spawnSync(env.python, [path.join(ROOT, 'scripts', 'execute_notebook.py'), nb], {
    stdio: 'inherit',
    env: jupyterProcessEnv(env),
  });
  const secs = (Date.now() - start) / 1000;
  if (r.status !== 0) {
    console.error(`[${i + 1}/${notebooks.length}] ${name} FAILED after ${secs.toFixed(1)} s`);
    await renderer?.close();
    process.exit(1);
  }
  let figs;
  try {
    figs = await staticFigures(nb);
  } catch (e) {
    await renderer?.close();
    console.error(`[${i + 1}/${notebooks.length}] ${name}: static figures FAILED: ${e.message}`);
    process.exit(1);
  }
  times.push([name, secs]);
  console.log(`[${i + 1}/${notebooks.length}] ${name} ok in ${secs.toFixed(1)} s, ${figs}`);
}
await renderer?.close();
console.log(`\nall ${notebooks.length} notebook(s) executed in ${((Date.now() - t0) / 1000).toFixed(1)} s:`);
for (const [name, secs] of times) console.log(`  ${secs.toFixed(1).padStart(7)} s  ${name}`);
