/**
 * A figure as a self-contained HTML page that opens offline: plotly.js (read from the npm
 * `plotly.js-dist` package) inlined beside the figure's JSON. scripts/static-figures.mjs uses it.
 */
import fs from 'node:fs';
import { writeFileAtomic } from '../io';
import { Figure, figureTitle } from '../display/plotly';

let plotlyJs: string | null = null;

/** plotly.js itself (minified), from the npm package plotly.js-dist. */
export function plotlyScript(): string {
  if (plotlyJs === null) plotlyJs = fs.readFileSync(require.resolve('plotly.js-dist/plotly.js'), 'utf8');
  return plotlyJs;
}

/** A self-contained HTML page (plotly.js inlined, no network needed) showing the figure. */
export function figureToHtml(fig: Figure, pageTitle = figureTitle(fig)): string {
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
  // Neither the figure JSON nor plotly.js may close the <script> element early.
  const safe = (s: string) => s.replace(/<\/(script)/gi, '<\\/$1');
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${esc(pageTitle)}</title>
<script>${safe(plotlyScript())}</script></head>
<body><div id="figure" style="width:100%;max-width:960px"></div>
<script>
const fig = ${safe(JSON.stringify(fig))};
Plotly.newPlot('figure', fig.data, fig.layout, fig.config || {});
</script></body></html>
`;
}

/** Write {@link figureToHtml} to `file` atomically. Returns the file's size in bytes. */
export function saveFigureHtml(fig: Figure, file: string): number {
  const html = figureToHtml(fig);
  writeFileAtomic(file, html);
  return Buffer.byteLength(html);
}
