/**
 * `vq.codecRates` in the browser: the same sheet of digits, settings, labels and MSE as under
 * Node (lib/notebook/codecs.ts, `codecRatesWith`), coded by the browser's own encoders instead
 * of sharp (libvips, native): `OffscreenCanvas.convertToBlob` with `image/png` and with
 * `image/jpeg` at a quality, decoded back with `createImageBitmap`. Works in a Web Worker (the
 * kernel's) and in a page.
 *
 * What differs from sharp, and is written into every point (`encoder: 'browser canvas'`, and
 * `detail`: the browser, and the colour type / components the file holds, read from its header):
 *  - a canvas has no palette or greyscale option: the browser writes the PNG as it likes
 *    (Chromium: 8-bit RGBA), so lossless PNG costs more bits than sharp's grey PNG;
 *  - "N grey levels": the sheet is quantised here before encoding, to N grey values chosen by
 *    1-D k-means (Lloyd) on the sheet's histogram, no dither — libimagequant, which sharp's
 *    palette uses, also minimises the squared error, so the MSE is close; the size is the browser
 *    PNG encoder's on an image with N distinct values (no palette chunk);
 *  - JPEG: the browser codes three colour components (Chromium: YCbCr, chroma 4:2:0) where sharp
 *    writes one grey component; on grey digits the chroma planes are flat but not free.
 * Sizes from different encoders are not comparable setting by setting: compare within one.
 */
import { codecRatesWith, CODEC_OPTIONS, type CodecPoint, type CodedSheet, type GreySheet, type SheetCodec } from '../../lib/notebook/codecs';
import type { OptionsOf } from '../../lib/validate';

const G = globalThis as unknown as { OffscreenCanvas?: typeof OffscreenCanvas; navigator?: { userAgent?: string } };

function browserName(): string {
  const ua = G.navigator?.userAgent ?? '';
  const m = /(Firefox|Edg|Chrome|Chromium|Version)\/(\d+)/.exec(ua);
  if (!m) return 'this browser';
  const name = m[1] === 'Version' ? 'Safari' : m[1] === 'Edg' ? 'Edge' : m[1];
  return `${/HeadlessChrome/.test(ua) ? 'headless ' : ''}${name} ${m[2]}`;
}

function canvas(width: number, height: number): OffscreenCanvas {
  if (typeof G.OffscreenCanvas !== 'function') {
    throw new Error('codecRates in the browser needs OffscreenCanvas (Chrome/Edge 69+, Firefox 105+, Safari 16.4+); run it with the local install (npm run lab) otherwise');
  }
  return new G.OffscreenCanvas(width, height);
}

function context(c: OffscreenCanvas): OffscreenCanvasRenderingContext2D {
  const ctx = c.getContext('2d', { willReadFrequently: true }) as OffscreenCanvasRenderingContext2D | null;
  if (!ctx) throw new Error('codecRates: no 2D context on an OffscreenCanvas here');
  return ctx;
}

/** Encode a grey sheet (R = G = B, opaque) with the browser's encoder. */
async function encode({ data, width, height }: GreySheet, type: string, quality?: number): Promise<Blob> {
  const c = canvas(width, height);
  const img = new ImageData(width, height);
  for (let i = 0; i < data.length; i++) {
    img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = data[i];
    img.data[4 * i + 3] = 255;
  }
  context(c).putImageData(img, 0, 0);
  const blob = await c.convertToBlob(quality === undefined ? { type } : { type, quality });
  if (blob.type !== type) throw new Error(`codecRates: this browser wrote ${blob.type || 'nothing'} when asked for ${type}`);
  return blob;
}

/** Decode back to grey (Rec. 601 luma of the decoded RGB: the channels are equal for PNG and nearly so for JPEG). */
async function decode(blob: Blob, width: number, height: number): Promise<Uint8Array> {
  const bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  try {
    if (bitmap.width !== width || bitmap.height !== height) throw new Error(`codecRates: decoded ${bitmap.width}×${bitmap.height}, coded ${width}×${height}`);
    const c = canvas(width, height);
    const ctx = context(c);
    ctx.drawImage(bitmap, 0, 0);
    const rgba = ctx.getImageData(0, 0, width, height).data;
    const out = new Uint8Array(width * height);
    for (let i = 0; i < out.length; i++) out[i] = Math.round(0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2]);
    return out;
  } finally {
    bitmap.close();
  }
}

const PNG_COLOUR: Record<number, string> = { 0: 'grey', 2: 'RGB', 3: 'palette', 4: 'grey+alpha', 6: 'RGBA' };

/** What a PNG holds, from its IHDR: e.g. '8-bit RGBA'. */
function pngKind(b: Uint8Array): string {
  if (b.length < 29 || b[12] !== 0x49 || b[13] !== 0x48) return 'PNG';
  return `${b[24]}-bit ${PNG_COLOUR[b[25]] ?? `colour type ${b[25]}`}`;
}

/** What a JPEG holds, from its frame header: components and sampling, e.g. '3 components, 4:2:0'. */
function jpegKind(b: Uint8Array): string {
  for (let i = 2; i + 9 < b.length; ) {
    if (b[i] !== 0xff) return 'JPEG';
    const marker = b[i + 1];
    const len = (b[i + 2] << 8) | b[i + 3];
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      const nf = b[i + 9];
      const sampling = Array.from({ length: nf }, (_, k) => b[i + 11 + 3 * k]);
      const [h0, v0] = [sampling[0] >> 4, sampling[0] & 15];
      const sub = nf === 1 ? 'grey' : h0 === 2 && v0 === 2 ? '4:2:0' : h0 === 2 && v0 === 1 ? '4:2:2' : h0 === 1 && v0 === 1 ? '4:4:4' : `sampling ${sampling.map((s) => `${s >> 4}x${s & 15}`).join(' ')}`;
      return `${nf} component${nf === 1 ? '' : 's'}${nf === 1 ? '' : `, ${sub}`}${marker === 0xc2 ? ', progressive' : ''}`;
    }
    i += 2 + len;
  }
  return 'JPEG';
}

/**
 * `levels` grey values for the sheet: 1-D k-means (Lloyd) on its 256-bin histogram, started
 * from evenly spaced levels, rounded to 8 bits. Returns the value each 8-bit input maps to.
 */
export function greyLevels(data: Uint8Array, levels: number): { map: Uint8Array; values: number[] } {
  const hist = new Float64Array(256);
  for (let i = 0; i < data.length; i++) hist[data[i]]++;
  let centres = Array.from({ length: levels }, (_, k) => (255 * k) / (levels - 1));
  const nearest = (v: number, cs: number[]) => {
    let best = 0;
    for (let k = 1; k < cs.length; k++) if (Math.abs(v - cs[k]) < Math.abs(v - cs[best])) best = k;
    return best;
  };
  for (let iter = 0; iter < 100; iter++) {
    const sum = new Float64Array(levels), count = new Float64Array(levels);
    for (let v = 0; v < 256; v++) {
      if (hist[v] === 0) continue;
      const k = nearest(v, centres);
      sum[k] += v * hist[v];
      count[k] += hist[v];
    }
    const next = centres.map((c, k) => (count[k] > 0 ? sum[k] / count[k] : c));
    const moved = next.some((c, k) => Math.abs(c - centres[k]) > 1e-9);
    centres = next;
    if (!moved) break;
  }
  const values = centres.map((c) => Math.round(c));
  const map = new Uint8Array(256);
  for (let v = 0; v < 256; v++) map[v] = values[nearest(v, values)];
  return { map, values: [...new Set(values)].sort((a, b) => a - b) };
}

const coded = async (blob: Blob, sheet: GreySheet, detail: string): Promise<CodedSheet> => ({
  bytes: blob.size,
  decoded: await decode(blob, sheet.width, sheet.height),
  detail,
});

/** The browser's canvas encoders as codecRatesWith's SheetCodec. */
export const BROWSER_CANVAS: SheetCodec = {
  encoder: 'browser canvas',
  async png(sheet, levels) {
    let input = sheet;
    let how = 'lossless';
    if (levels < 256) {
      const { map, values } = greyLevels(sheet.data, levels);
      input = { ...sheet, data: sheet.data.map((v) => map[v]) };
      how = `quantised before encoding to ${values.length} grey values by 1-D k-means (${values.join(', ')}), no dither, no palette chunk`;
    }
    const blob = await encode(input, 'image/png');
    const head = new Uint8Array(await blob.slice(0, 32).arrayBuffer());
    return coded(blob, sheet, `${browserName()} OffscreenCanvas.convertToBlob image/png, ${pngKind(head)}; ${how}`);
  },
  async jpeg(sheet, quality) {
    const blob = await encode(sheet, 'image/jpeg', quality / 100);
    const bytes = new Uint8Array(await blob.arrayBuffer());
    return coded(blob, sheet, `${browserName()} OffscreenCanvas.convertToBlob image/jpeg, quality ${quality / 100}, ${jpegKind(bytes)}`);
  },
};

/**
 * Code n grayscale images (values in [0, 1], [n·h·w] row-major, h, w ≤ 32) with the browser's
 * PNG and JPEG encoders. Returns one point per codec setting: bits per image and MSE, each with
 * `encoder: 'browser canvas'` and a `detail` of what was written.
 */
export async function codecRates(images: ArrayLike<number>, n: number, h: number, w: number, opts: OptionsOf<typeof CODEC_OPTIONS> = {}): Promise<CodecPoint[]> {
  return codecRatesWith(BROWSER_CANVAS, images, n, h, w, opts);
}
