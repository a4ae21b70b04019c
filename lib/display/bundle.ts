/**
 * Rich display from notebook cells: sends a Jupyter `display_data` message with a full MIME
 * bundle (several representations of one output) through the running tslab kernel; outside a
 * notebook (plain Node) prints the bundle's text/plain representation instead.
 */
import path from 'node:path';

/** A Jupyter MIME bundle: MIME type → payload (string, or a JSON object for JSON types). */
export type MimeBundle = Record<string, unknown>;

interface TslabWriter {
  (msg: { data: MimeBundle; metadata: Record<string, unknown>; transient: { display_id?: string } }, update: boolean): void;
}

/** tslab's current display writer, or null when not running inside a tslab kernel. */
function tslabWriter(): TslabWriter | null {
  try {
    const tslabDir = path.dirname(require.resolve('tslab/package.json'));
    // Only look at the module if the kernel already loaded it (never start tslab ourselves).
    const file = require.resolve(path.join(tslabDir, 'dist', 'jupyter.js'));
    const mod = require.cache[file]?.exports as { lastWriteDisplayData?: TslabWriter | null } | undefined;
    return mod?.lastWriteDisplayData ?? null;
  } catch {
    return null;
  }
}

/** True when running inside a tslab (Jupyter) kernel. */
export function inNotebook(): boolean {
  return tslabWriter() !== null;
}

let nextId = 0;

/** Display a MIME bundle. Returns the display id (use it with {@link updateBundle}). */
export function displayBundle(data: MimeBundle, metadata: Record<string, unknown> = {}, displayId?: string): string {
  const id = displayId ?? `vq-${process.pid}-${Date.now().toString(36)}-${nextId++}`;
  const writer = tslabWriter();
  if (writer) {
    writer({ data, metadata, transient: { display_id: id } }, false);
  } else {
    const text = data['text/plain'];
    console.log(typeof text === 'string' ? text : `[${Object.keys(data).join(', ')}]`);
  }
  return id;
}

/** Replace a display made by {@link displayBundle} in place (no-op text line outside a notebook). */
export function updateBundle(displayId: string, data: MimeBundle, metadata: Record<string, unknown> = {}): void {
  const writer = tslabWriter();
  if (writer) writer({ data, metadata, transient: { display_id: displayId } }, true);
}

/** Display HTML with a plain-text fallback. */
export function showHtml(html: string, text = html.replace(/<[^>]+>/g, '')): void {
  displayBundle({ 'text/html': html, 'text/plain': text });
}

/** Display Markdown with a plain-text fallback. */
export function showMarkdown(md: string): void {
  displayBundle({ 'text/markdown': md, 'text/plain': md });
}
