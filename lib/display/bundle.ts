/**
 * Rich display from notebook cells: sends a Jupyter `display_data` message with a full MIME
 * bundle (several representations of one output) through the running notebook kernel; outside a
 * notebook prints the bundle's text/plain representation instead. Browser-safe: the kernel's
 * writer comes from a host set with {@link setDisplayWriter} (lib/node/tslab.ts sets tslab's when
 * the package's main entry loads).
 */

/** A Jupyter MIME bundle: MIME type → payload (string, or a JSON object for JSON types). */
export type MimeBundle = Record<string, unknown>;

/** A kernel's display writer (tslab's signature): one display_data, or an update of one. */
export interface DisplayWriter {
  (msg: { data: MimeBundle; metadata: Record<string, unknown>; transient: { display_id?: string } }, update: boolean): void;
}

let findWriter: () => DisplayWriter | null = () => null;

/** Set how displays find the running kernel's writer (null from `find`: not in a notebook). */
export function setDisplayWriter(find: () => DisplayWriter | null): void {
  findWriter = find;
}

/** The current display writer, or null when not running inside a notebook kernel. */
function tslabWriter(): DisplayWriter | null {
  return findWriter();
}

/** True when running inside a tslab (Jupyter) kernel. */
export function inNotebook(): boolean {
  return tslabWriter() !== null;
}

let nextId = 0;

/** Display a MIME bundle. Returns the display id (use it with {@link updateBundle}). */
export function displayBundle(data: MimeBundle, metadata: Record<string, unknown> = {}, displayId?: string): string {
  const id = displayId ?? `vq-${typeof process !== 'undefined' ? process.pid : 0}-${Date.now().toString(36)}-${nextId++}`;
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
