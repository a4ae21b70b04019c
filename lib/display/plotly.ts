/**
 * Plotly figures from TypeScript cells.
 *
 * In JupyterLab a figure is shown through the `application/vnd.plotly.v1+json` MIME type,
 * rendered by the labextension that ships in the Python `plotly` package. Numbers are rounded
 * (see round.ts) so that committed outputs are stable. `npm start` additionally renders each
 * figure to a static PNG in the same output for viewers without JavaScript (GitHub, nbviewer).
 * Browser-safe; lib/node/figure-html.ts writes a figure as a self-contained HTML page.
 */
import { displayBundle, type MimeBundle } from './bundle';
import { roundDeep } from './round';
import { OptionsOf, describe, is, resolveOptions } from '../validate';

export const PLOTLY_MIME = 'application/vnd.plotly.v1+json';

/** One plotly trace ({type: 'scatter', x, y, mode, name, ...}); see plotly.js's reference. */
export type Trace = Record<string, unknown>;
/** A plotly layout ({title, xaxis, yaxis, width, height, ...}). */
export type Layout = Record<string, unknown>;

/** A plotly figure: traces, layout and config, as plotly.js takes them. */
export interface Figure {
  data: Trace[];
  layout: Layout;
  config?: Record<string, unknown>;
}

export const FIGURE_OPTIONS = {
  /** Significant digits kept in the figure's numbers (1 … 17). Default 5. */
  digits: { check: is.int(1, 17), default: 5 },
};
/** Options of figure() and plot() (see FIGURE_OPTIONS). */
export type FigureOptions = OptionsOf<typeof FIGURE_OPTIONS>;

/** The size every figure gets unless its layout says otherwise (the static PNG uses it too). */
export const FIGURE_SIZE = { width: 720, height: 380 } as const;

const DEFAULT_LAYOUT: Layout = {
  template: { layout: { font: { family: 'Helvetica, Arial, sans-serif' } } },
  margin: { l: 60, r: 20, t: 50, b: 50 },
  // Both set: a figure with a height but no width can collapse to 0 px when JupyterLab's
  // window is resized (plotly.js 3 resize logic); the static PNG uses the same size.
  ...FIGURE_SIZE,
};

/**
 * plotly.js 3 (plotly.js-dist 3.x, and the renderer in the Python plotly package 6+) ignores
 * titles given as plain strings: `title: 'T'` must be `title: { text: 'T' }`. Accept both.
 */
function normalizeTitles(layout: Layout): Layout {
  const fix = (o: Record<string, unknown>): Record<string, unknown> =>
    typeof o.title === 'string' ? { ...o, title: { text: o.title } } : o;
  const out: Layout = fix(layout);
  for (const [k, v] of Object.entries(out)) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) continue;
    if (/^[xyz]axis\d*$/.test(k)) out[k] = fix(v as Record<string, unknown>);
    else if (/^scene\d*$/.test(k)) {
      const scene: Record<string, unknown> = { ...(v as Record<string, unknown>) };
      for (const ax of ['xaxis', 'yaxis', 'zaxis']) {
        if (scene[ax] && typeof scene[ax] === 'object') scene[ax] = fix(scene[ax] as Record<string, unknown>);
      }
      out[k] = scene;
    }
  }
  return out;
}

/** Build a figure with rounded numbers and this project's default layout. */
export function figure(data: Trace[], layout: Layout = {}, opts: FigureOptions = {}): Figure {
  const { digits } = resolveOptions('figure(data, layout, options)', FIGURE_OPTIONS, opts);
  if (!Array.isArray(data)) throw new Error(`figure(data) must be an array of traces, got ${describe(data)}`);
  if (layout === null || typeof layout !== 'object' || Array.isArray(layout)) throw new Error(`figure(layout) must be an object, got ${describe(layout)}`);
  return {
    data: roundDeep(data, digits) as Trace[],
    layout: { ...DEFAULT_LAYOUT, ...normalizeTitles(roundDeep(layout, digits) as Layout) },
    config: { responsive: true, displaylogo: false },
  };
}

/** A figure's title text (layout.title as a string or as {text}), or 'untitled'. */
export function figureTitle(fig: Figure): string {
  const t = fig.layout.title;
  if (typeof t === 'string') return t;
  if (t && typeof t === 'object' && typeof (t as { text?: unknown }).text === 'string') return (t as { text: string }).text;
  return 'untitled';
}

/** The MIME bundle for a figure: plotly JSON plus a text/plain summary. */
export function figureBundle(fig: Figure): MimeBundle {
  const traces = fig.data.map((d) => String(d.name ?? d.type ?? 'trace')).join(', ');
  return {
    [PLOTLY_MIME]: fig,
    'text/plain': `<Figure "${figureTitle(fig)}": ${fig.data.length} trace(s): ${traces}>`,
  };
}

/** Display a figure in the notebook (or print its summary outside one). */
export function showFigure(fig: Figure): void {
  displayBundle(figureBundle(fig));
}

/**
 * Build and display a figure in one call. Returns nothing, so that a notebook cell ending in
 * `plot(...)` prints no figure JSON; use `figure()` + `showFigure()` to keep the figure
 * (e.g. for `saveFigureHtml`).
 */
export function plot(data: Trace[], layout: Layout = {}, opts: FigureOptions = {}): void {
  showFigure(figure(data, layout, opts));
}
