/**
 * scripts/browser-checks.mjs on plain data shaped as the browser test collects it (lab-page.mjs's
 * pageCollect, JupyterLab's REST answers): no Chromium, no JupyterLab.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  checkCells,
  checkCommitted,
  checkKernel,
  checkKernelspec,
  checkSession,
  committedShown,
  renderComplete,
  resizeWarnings,
} from '../../scripts/browser-checks.mjs';
import { PLOTLY_MIME } from '../../scripts/static-figures.mjs';

/** A drawn plot as pageCollect reports it; `over` changes fields. */
const plot = (over = {}) => ({
  graph: true, graphShown: true, fullData: 1, traces: 1, titleDrawn: true, width: 720, height: 380, imgShown: false, imgLoaded: false, ...over,
});
const figureOutput = (over = {}) => ({ type: 'display_data', mimes: [PLOTLY_MIME, 'text/plain'], figureTraces: 1, figureTitle: { text: 'T' }, ...over });
const pngOutput = () => ({ type: 'display_data', mimes: ['image/png', 'text/plain'] });
const stream = (name, text) => ({ type: 'stream', name, text, mimes: [] });
const cell = (executionCount, outputs = [], over = {}) => ({ index: 0, executionCount, source: `cell ${executionCount}`, outputs, plots: [], images: [], ...over });
const loaded = { complete: true, naturalWidth: 10, src: 'data:image/png;base64,iVBOR' };

describe('checkCells', () => {
  test('a clean run passes', () => {
    const cells = [
      cell(1, [stream('stdout', 'hello\n')]),
      cell(2, [figureOutput()], { plots: [plot()] }),
      cell(3, [pngOutput()], { images: [loaded] }),
    ];
    assert.deepEqual(checkCells(cells), { failures: [], warnings: [] });
  });

  test('cells not run or run out of order', () => {
    const { failures } = checkCells([cell(2), cell(null), cell(1)]);
    assert.equal(failures.length, 2);
    assert.match(failures[0], /^code cell 2\/3 \[ \] \(cell null\) was not executed$/);
    assert.match(failures[1], /^code cell 3\/3 \[1\] .*: execution count 1 after 2$/);
  });

  test('an error output fails with its name and value', () => {
    const { failures } = checkCells([cell(1, [{ type: 'error', ename: 'RangeError', evalue: 'boom', mimes: [] }])]);
    assert.deepEqual(failures, ['code cell 1/1 [1] (cell 1): RangeError: boom']);
  });

  test('stderr fails, except Node process warnings, which are warnings', () => {
    const warning = '(node:123) [DEP0040] DeprecationWarning: The `punycode` module is deprecated.\n(Use `node --trace-deprecation ...` to show where the warning was created)\n';
    const ok = checkCells([cell(1, [stream('stderr', warning)])]);
    assert.deepEqual(ok.failures, []);
    assert.equal(ok.warnings.length, 2);
    assert.match(ok.warnings[0], /stderr \(allowed\): \(node:123\) \[DEP0040\] DeprecationWarning/);
    const bad = checkCells([cell(1, [stream('stderr', warning + 'something went wrong\n')])]);
    assert.deepEqual(bad.failures, ['code cell 1/1 [1] (cell 1): stderr: something went wrong']);
  });

  test('plotly outputs must be drawn graphs with all their traces', () => {
    const { failures } = checkCells([
      cell(1, [figureOutput()], { plots: [] }),
      cell(2, [figureOutput()], { plots: [plot({ graph: false })] }),
      cell(3, [figureOutput({ figureTraces: 2 })], { plots: [plot({ traces: 0 })] }),
      cell(4, [figureOutput()], { plots: [plot({ height: 0 })] }),
    ]);
    assert.match(failures[0], /code cell 1\/4 .*1 plotly output\(s\) but 0 plotly renderer\(s\)/);
    assert.match(failures[1], /code cell 2\/4 .*figure 1: no plotly graph drawn/);
    assert.match(failures[2], /code cell 3\/4 .*figure 1: the graph has no drawn traces/);
    assert.match(failures[3], /code cell 3\/4 .*figure 1: 1 trace\(s\) drawn, the figure has 2/);
    assert.match(failures[4], /code cell 4\/4 .*figure 1: rendered at 720x0 px/);
    assert.equal(failures.length, 5);
  });

  test('a title that is not drawn is a warning, with a hint for string titles', () => {
    const { failures, warnings } = checkCells([
      cell(1, [figureOutput({ figureTitle: { text: 'Loss' } }), figureOutput({ figureTitle: 'Raw' }), figureOutput({ figureTitle: null })], {
        plots: [plot({ titleDrawn: false }), plot({ titleDrawn: false }), plot({ titleDrawn: false })],
      }),
    ]);
    assert.deepEqual(failures, []);
    assert.deepEqual(warnings, [
      'code cell 1/1 [1] (cell 1) figure 1: title "Loss" not drawn',
      'code cell 1/1 [1] (cell 1) figure 2: title "Raw" not drawn (layout.title is a string; plotly.js 3 draws only {text: ...})',
    ]);
  });

  test('images must load, one per image output', () => {
    const broken = { complete: true, naturalWidth: 0, src: 'data:image/png;base64,bm90IGEgcG5n' };
    const { failures } = checkCells([cell(1, [pngOutput()], { images: [broken] }), cell(2, [pngOutput()], { images: [] })]);
    assert.deepEqual(failures, [
      'code cell 1/2 [1] (cell 1): an image did not load (data:image/png;base64,bm90IGEgcG5n...)',
      'code cell 1/2 [1] (cell 1): 1 image output(s) but 0 loaded image(s)',
      'code cell 2/2 [2] (cell 2): 1 image output(s) but 0 loaded image(s)',
    ]);
  });
});

describe('committed outputs', () => {
  const data = (plots) => ({ cells: [cell(1, plots.map(() => figureOutput()), { plots })] });
  const onDisk = (...pngs) => pngs.map((png) => ({ output: { data: { [PLOTLY_MIME]: {}, ...(png ? { 'image/png': 'iVBOR' } : {}) } } }));

  test('every figure shows, as its PNG or as a graph, and carries a PNG in the file', () => {
    const shown = data([plot({ graphShown: false, imgShown: true, imgLoaded: true }), plot()]);
    assert.deepEqual(committedShown(shown), { want: 2, shown: 2 });
    assert.deepEqual(checkCommitted({ data: shown, onDisk: onDisk(true, true), name: 'x.ipynb' }), []);
  });

  test('a figure not shown, and a figure without PNG, fail', () => {
    const half = data([plot({ graphShown: false, imgShown: true, imgLoaded: false }), plot()]);
    assert.deepEqual(checkCommitted({ data: half, onDisk: onDisk(true, false), name: 'x.ipynb' }), [
      'committed outputs: 2 plotly figure(s) but 1 shown in JupyterLab',
      'committed outputs: 1 of 2 plotly figure(s) have no static PNG (GitHub shows nothing for them): ' +
        'run `node scripts/static-figures.mjs notebooks/x.ipynb` (npm start does it too)',
    ]);
  });
});

test('renderComplete: every figure drawn and every image decoded', () => {
  const c = (plots, images) => ({ cells: [cell(1, plots.map(() => figureOutput()), { plots, images })] });
  assert.equal(renderComplete(c([plot()], [loaded])), true);
  assert.equal(renderComplete(c([plot({ traces: 0 })], [loaded])), false);
  assert.equal(renderComplete(c([plot()], [{ ...loaded, complete: false }])), false);
  assert.equal(renderComplete({ cells: [] }), true);
});

describe('kernel', () => {
  const kernelspec = { spec: { display_name: 'TypeScript (tslab)', language: 'typescript', argv: ['/usr/bin/node', '/repo/scripts/tslab-kernel.cjs'] } };
  const opts = { name: 'tslab', launcher: '/repo/scripts/tslab-kernel.cjs', exists: () => true };

  test('checkKernelspec returns the checkout\'s kernelspec and refuses others', () => {
    assert.equal(checkKernelspec({ kernelspecs: { tslab: kernelspec } }, opts), kernelspec);
    assert.throws(() => checkKernelspec({ kernelspecs: { python3: {} } }, opts), /no "tslab" kernelspec \(has: python3\)/);
    const other = { spec: { ...kernelspec.spec, argv: ['/usr/bin/node', '/elsewhere/tslab'] } };
    assert.throws(() => checkKernelspec({ kernelspecs: { tslab: other } }, opts), /not this checkout's: argv/);
    assert.throws(() => checkKernelspec({ kernelspecs: { tslab: kernelspec } }, { ...opts, exists: () => false }), /not this checkout's/);
  });

  test('checkKernel: name, display name, language and toolbar', () => {
    const good = { kernel: { name: 'tslab' }, kernelDisplayName: 'TypeScript (tslab)', language: 'typescript', toolbarKernelName: null };
    assert.deepEqual(checkKernel({ data: good, nbPath: 'notebooks/x.ipynb', kernelName: 'tslab', kernelspec }), []);
    assert.deepEqual(checkKernel({ data: { ...good, kernel: null }, nbPath: 'n', kernelName: 'tslab', kernelspec }), ['no kernel attached to the notebook']);
    const bad = { kernel: { name: 'python3' }, kernelDisplayName: 'Python 3', language: 'python', toolbarKernelName: 'Python 3' };
    assert.deepEqual(checkKernel({ data: bad, nbPath: 'notebooks/x.ipynb', kernelName: 'tslab', kernelspec }), [
      'kernel is "python3", expected "tslab"',
      'kernel shown as "Python 3", expected "TypeScript (tslab)"',
      'kernel language is "python", expected "typescript"',
      'toolbar shows kernel "Python 3" for notebooks/x.ipynb',
    ]);
  });

  test('checkSession: the notebook has a session with a live tslab kernel', () => {
    const nbPath = 'notebooks/x.ipynb';
    assert.deepEqual(checkSession({ sessions: [{ path: nbPath, kernel: { name: 'tslab', execution_state: 'idle' } }], nbPath, kernelName: 'tslab' }), []);
    assert.deepEqual(checkSession({ sessions: [{ path: 'other', kernel: {} }], nbPath, kernelName: 'tslab' }), [`no Jupyter session for ${nbPath}`]);
    assert.deepEqual(checkSession({ sessions: [{ path: nbPath, kernel: { name: 'python3', execution_state: 'dead' } }], nbPath, kernelName: 'tslab' }), [
      'session kernel is "python3", expected "tslab"',
      'the session kernel is dead',
    ]);
  });
});

test('resizeWarnings names the cell of each figure that collapsed', () => {
  const cells = [cell(1), cell(3, [figureOutput(), figureOutput()], { plots: [plot(), plot()] })];
  assert.deepEqual(resizeWarnings(cells, [[720, 380], [720, 380]]), []);
  const [w] = resizeWarnings(cells, [[720, 380], [720, 0]]);
  assert.match(w, /^code cell 2 \[3\] figure 2: collapsed to 0 px height after the window was resized/);
});
