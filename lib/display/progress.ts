/**
 * Live progress for training loops, and how long things took (formatDuration, elapsed). In a
 * notebook, one output that is updated in place (Jupyter update_display_data, as
 * tslab.newDisplay() does); in a terminal, one line rewritten with '\r' (or one line per update
 * when stdout is not a TTY, throttled).
 */
import { displayBundle, inNotebook, updateBundle } from './bundle';
import { OptionsOf, checkNumber, is, resolveOptions } from '../validate';

/** The terminal's stdout under Node, where one exists (a browser has none: lines go to the console). */
const stdout = (): { isTTY?: boolean; write(s: string): unknown } | undefined => (typeof process !== 'undefined' ? process.stdout : undefined);

/** Named values one progress update shows, e.g. { epoch: 3, loss: 0.12 }. */
export interface ProgressFields {
  [name: string]: string | number;
}

export const PROGRESS_OPTIONS = {
  /** Minimum milliseconds between two updates (≥ 0; the last update is always shown). Default 250. */
  everyMs: { check: is.number(0), default: 250 },
  /** Title shown before the fields. */
  title: { check: is.string, optional: true as const },
};
/** Options of new Progress(options) (see PROGRESS_OPTIONS). */
export type ProgressOptions = OptionsOf<typeof PROGRESS_OPTIONS>;

function render(fields: ProgressFields, fraction: number | null): { text: string; html: string } {
  const parts = Object.entries(fields).map(([k, v]) => `${k} ${typeof v === 'number' ? formatNumber(v) : v}`);
  const bar = fraction === null ? '' : `[${'#'.repeat(Math.round(fraction * 20)).padEnd(20, '.')}] ${(fraction * 100).toFixed(0).padStart(3)}%  `;
  const text = bar + parts.join('  ');
  const pct = fraction === null ? null : Math.max(0, Math.min(100, fraction * 100));
  const html =
    (pct === null
      ? ''
      : `<div style="width:320px;height:10px;background:#e5e7eb;border-radius:5px;overflow:hidden;display:inline-block;vertical-align:middle;margin-right:8px"><div style="width:${pct.toFixed(1)}%;height:100%;background:#2563eb"></div></div>`) +
    `<code>${text.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!)}</code>`;
  return { text, html };
}

function formatNumber(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(3) : v.toPrecision(4);
}

/** Seconds → "1m05s" / "12s". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** Seconds since `t0` (from Date.now()), as "12.3 s": how long a notebook (or a part of it) ran. */
export function elapsed(t0: number): string {
  return `${((Date.now() - t0) / 1000).toFixed(1)} s`;
}

/** Live progress: one notebook output updated in place, or one terminal line rewritten. */
export class Progress {
  private readonly id: string | null = null;
  private readonly everyMs: number;
  private readonly title: string;
  private last = 0;
  private pending: { fields: ProgressFields; fraction: number | null } | null = null;
  private readonly notebook = inNotebook();

  constructor(opts: ProgressOptions = {}) {
    const o = resolveOptions('Progress', PROGRESS_OPTIONS, opts);
    this.everyMs = o.everyMs;
    this.title = o.title ? `${o.title}: ` : '';
    if (this.notebook) this.id = displayBundle({ 'text/plain': `${this.title}starting…`, 'text/html': `<code>${this.title}starting…</code>` });
  }

  /** Report progress; `fraction` in [0, 1] draws a bar. Throttled to one render per `everyMs`. */
  update(fields: ProgressFields, fraction: number | null = null): void {
    if (fraction !== null) checkNumber('Progress.update(fraction)', fraction, 0, 1);
    this.pending = { fields, fraction };
    const now = Date.now();
    if (now - this.last >= this.everyMs) this.flush();
  }

  /** Render the latest update now (and end the terminal line). */
  done(fields?: ProgressFields, fraction: number | null = 1): void {
    if (fields) this.pending = { fields, fraction };
    this.flush();
    if (!this.notebook && stdout()?.isTTY) stdout()!.write('\n');
  }

  private flush(): void {
    if (!this.pending) return;
    const { text, html } = render(this.pending.fields, this.pending.fraction);
    this.pending = null;
    this.last = Date.now();
    const line = this.title + text;
    if (this.id !== null) updateBundle(this.id, { 'text/plain': line, 'text/html': `<b>${this.title}</b>${html}` });
    else if (stdout()?.isTTY) stdout()!.write(`\r${line}\x1b[K`);
    else console.log(line);
  }
}
