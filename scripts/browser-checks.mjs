/**
 * The browser test's checks (scripts/browser-test.mjs), as pure functions of what it collected:
 * the page's cells and outputs (lab-page.mjs's pageCollect), the notebook file's plotly outputs,
 * the kernelspec and sessions from JupyterLab's REST API. Each returns the failures (and
 * warnings) it finds as sentences; nothing here touches a page, a server or a file, so
 * test/browser/browser-checks.test.mjs tests them directly on plain data.
 */
import { PLOTLY_MIME, figureTitle } from './static-figures.mjs';

/** stderr lines that are reported but do not fail a notebook (Node's own process warnings). */
export const STDERR_ALLOWED = [
  /^\(node:\d+\) (\[[\w-]+\] )?\w*Warning: /,
  /^\(Use `node --trace-(warnings|deprecation) /,
];

const isPlotly = (o) => o.mimes.includes(PLOTLY_MIME);

/** The plotly outputs of the collected cells. */
export function plotlyOutputsOf(data) {
  return data.cells.flatMap((c) => c.outputs.filter(isPlotly));
}

/** Committed outputs as opened: how many plotly figures there are (want) and show (as PNG or drawn graph). */
export function committedShown(data) {
  const want = plotlyOutputsOf(data).length;
  const shown = data.cells.flatMap((c) => c.plots).filter((p) => (p.imgShown && p.imgLoaded) || (p.graphShown && p.traces > 0)).length;
  return { want, shown };
}

/** After a run: every plotly output is a graph with drawn traces and every image has loaded. */
export function renderComplete(data) {
  const drawn = data.cells.flatMap((c) => c.plots).filter((p) => p.graph && p.traces > 0).length;
  const imgs = data.cells.flatMap((c) => c.images);
  return drawn >= plotlyOutputsOf(data).length && imgs.filter((i) => i.complete).length === imgs.length;
}

/**
 * The committed notebook: every plotly figure shows when the file is opened (`data` collected
 * then), and every one in the file (`onDisk`: static-figures.mjs's plotlyOutputs) carries its
 * static PNG for viewers without JavaScript.
 */
export function checkCommitted({ data, onDisk, name }) {
  const failures = [];
  const { want, shown } = committedShown(data);
  if (shown !== want) failures.push(`committed outputs: ${want} plotly figure(s) but ${shown} shown in JupyterLab`);
  const withPng = onDisk.filter((f) => f.output.data['image/png']).length;
  if (withPng < onDisk.length) {
    failures.push(
      `committed outputs: ${onDisk.length - withPng} of ${onDisk.length} plotly figure(s) have no static PNG ` +
        `(GitHub shows nothing for them): run \`node scripts/static-figures.mjs notebooks/${name}\` (npm start does it too)`,
    );
  }
  return failures;
}

/**
 * JupyterLab's kernelspec `name` (from GET /api/kernelspecs) is this checkout's: it runs
 * `launcher` with an existing executable (`exists(file)`) and its language is TypeScript.
 * Returns the kernelspec; throws when there is none or it is another one.
 */
export function checkKernelspec(specs, { name, launcher, exists }) {
  const kernelspec = specs?.kernelspecs?.[name];
  if (!kernelspec) throw new Error(`JupyterLab has no "${name}" kernelspec (has: ${Object.keys(specs?.kernelspecs ?? {}).join(', ')})`);
  const argv = kernelspec.spec.argv;
  if (argv[1] !== launcher || !exists(argv[0]) || kernelspec.spec.language !== 'typescript') {
    throw new Error(`the "${name}" kernelspec is not this checkout's: argv ${JSON.stringify(argv)}, language ${kernelspec.spec.language}`);
  }
  return kernelspec;
}

/** The notebook's kernel, as the page shows it, is `kernelName` with the kernelspec's display name, in TypeScript. */
export function checkKernel({ data, nbPath, kernelName, kernelspec }) {
  if (!data.kernel) return ['no kernel attached to the notebook'];
  const failures = [];
  const display = kernelspec.spec.display_name;
  if (data.kernel.name !== kernelName) failures.push(`kernel is "${data.kernel.name}", expected "${kernelName}"`);
  if (data.kernelDisplayName !== display) failures.push(`kernel shown as "${data.kernelDisplayName}", expected "${display}"`);
  if (data.language !== 'typescript') failures.push(`kernel language is "${data.language}", expected "typescript"`);
  if (data.toolbarKernelName !== null && data.toolbarKernelName !== display) {
    failures.push(`toolbar shows kernel "${data.toolbarKernelName}" for ${nbPath}`);
  }
  return failures;
}

/** The server's session for `nbPath` (`sessions`: GET /api/sessions) runs a live `kernelName` kernel. */
export function checkSession({ sessions, nbPath, kernelName }) {
  const session = sessions.find((s) => s.path === nbPath);
  if (!session) return [`no Jupyter session for ${nbPath}`];
  const failures = [];
  if (session.kernel?.name !== kernelName) failures.push(`session kernel is "${session.kernel?.name}", expected "${kernelName}"`);
  if (session.kernel?.execution_state === 'dead') failures.push('the session kernel is dead');
  return failures;
}

/**
 * Every code cell ran, in order, without an error output or stderr (bar STDERR_ALLOWED, which
 * become warnings); each plotly output is a drawn graph with all its traces, each image loaded.
 * A figure title the graph does not draw is a warning. Returns {failures, warnings}.
 */
export function checkCells(cells) {
  const failures = [];
  const warnings = [];
  const fail = (msg) => failures.push(msg);
  let last = 0;
  for (const [k, cell] of cells.entries()) {
    const where = `code cell ${k + 1}/${cells.length} [${cell.executionCount ?? ' '}] (${cell.source.slice(0, 50)})`;
    if (cell.executionCount === null) {
      fail(`${where} was not executed`);
    } else {
      if (cell.executionCount <= last) fail(`${where}: execution count ${cell.executionCount} after ${last}`);
      last = cell.executionCount;
    }
    for (const o of cell.outputs) {
      if (o.type === 'error') {
        fail(`${where}: ${o.ename}: ${o.evalue}`);
      } else if (o.type === 'stream' && o.name === 'stderr') {
        const lines = o.text.split('\n').map((l) => l.trimEnd()).filter(Boolean);
        const bad = lines.filter((l) => !STDERR_ALLOWED.some((re) => re.test(l)));
        if (bad.length > 0) fail(`${where}: stderr: ${bad.slice(0, 3).join(' | ')}`);
        else for (const l of lines) warnings.push(`${where}: stderr (allowed): ${l}`);
      }
    }
    const figs = cell.outputs.filter(isPlotly);
    if (figs.length !== cell.plots.length) {
      fail(`${where}: ${figs.length} plotly output(s) but ${cell.plots.length} plotly renderer(s) in the page (is the jupyterlab-plotly extension installed?)`);
    }
    cell.plots.forEach((p, i) => {
      const fig = figs[i];
      const label = `${where} figure ${i + 1}`;
      if (!p.graph) return fail(`${label}: no plotly graph drawn`);
      if (p.traces === 0) fail(`${label}: the graph has no drawn traces`);
      if (fig && p.fullData !== fig.figureTraces) fail(`${label}: ${p.fullData} trace(s) drawn, the figure has ${fig.figureTraces}`);
      if (p.width < 50 || p.height < 50) fail(`${label}: rendered at ${p.width}x${p.height} px`);
      if (fig && fig.figureTitle && !p.titleDrawn) {
        const hint = typeof fig.figureTitle === 'string' ? ' (layout.title is a string; plotly.js 3 draws only {text: ...})' : '';
        warnings.push(`${label}: title "${figureTitle({ layout: { title: fig.figureTitle } })}" not drawn${hint}`);
      }
    });
    const imageOutputs = cell.outputs.filter((o) => !isPlotly(o) && o.mimes.some((m) => m.startsWith('image/'))).length;
    const loaded = cell.images.filter((i) => i.complete && i.naturalWidth > 0).length;
    for (const img of cell.images) if (!(img.complete && img.naturalWidth > 0)) fail(`${where}: an image did not load (${img.src}...)`);
    if (loaded < imageOutputs) fail(`${where}: ${imageOutputs} image output(s) but ${loaded} loaded image(s)`);
  }
  return { failures, warnings };
}

/**
 * A reader resizes the window: every figure must still show. Seen with plotly.js 3.8 in
 * jupyterlab-plotly: a figure whose layout sets a height but no width is re-measured by
 * Plotly.Plots.resize (which deletes layout.height) and can collapse to 0 px until the next
 * resize, when the notebook is scrolled. `sizes`: the plots' [w, h] after the resize, in page
 * order. Returns warnings naming each collapsed figure's cell.
 */
export function resizeWarnings(cells, sizes) {
  const labels = cells.flatMap((c, k) => c.plots.map((_, i) => `code cell ${k + 1} [${c.executionCount}] figure ${i + 1}`));
  return sizes.flatMap(([, h], i) =>
    h === 0
      ? [
          `${labels[i] ?? `figure ${i + 1}`}: collapsed to 0 px height after the window was resized (900 -> 1100 px); ` +
            'figures whose layout sets both width and height are not affected',
        ]
      : [],
  );
}
