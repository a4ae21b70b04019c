/** Tables of results: HTML in the notebook, aligned plain text as the fallback (and in tests). */
import { displayBundle } from './bundle';

/** One table cell: numbers are right-aligned and rounded. */
export type Cell = string | number | boolean | null;

function cellText(v: Cell, digits: number): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(digits);
  return v === null ? '' : String(v);
}

/** Aligned plain-text table (numbers right-aligned, `digits` decimals for non-integers). */
export function tableText(rows: Record<string, Cell>[], digits = 3): string {
  if (rows.length === 0) return '(empty table)';
  const cols = Object.keys(rows[0]!);
  const cells = rows.map((r) => cols.map((c) => cellText(r[c] ?? null, digits)));
  const widths = cols.map((c, j) => Math.max(c.length, ...cells.map((r) => r[j]!.length)));
  const numeric = cols.map((c) => rows.every((r) => typeof r[c] === 'number'));
  const line = (vals: string[]) => vals.map((v, j) => (numeric[j] ? v.padStart(widths[j]!) : v.padEnd(widths[j]!))).join('  ').trimEnd();
  return [line(cols), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

/** HTML table with the same content as {@link tableText}. */
export function tableHtml(rows: Record<string, Cell>[], digits = 3): string {
  if (rows.length === 0) return '<p>(empty table)</p>';
  const esc = (s: string) => s.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);
  const cols = Object.keys(rows[0]!);
  const head = cols.map((c) => `<th>${esc(c)}</th>`).join('');
  const body = rows
    .map((r) => `<tr>${cols.map((c) => `<td style="text-align:${typeof r[c] === 'number' ? 'right' : 'left'}">${esc(cellText(r[c] ?? null, digits))}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** Display a table (HTML + text). */
export function showTable(rows: Record<string, Cell>[], digits = 3): void {
  displayBundle({ 'text/html': tableHtml(rows, digits), 'text/plain': tableText(rows, digits) });
}
