/**
 * Real image codecs on the same digits as a learned model, for rate–distortion comparisons:
 * PNG (lossless, and with its palette reduced to fewer grey levels) and JPEG at several
 * qualities, through sharp (libvips with libpng/libspng and mozjpeg).
 *
 * File headers are a fixed cost that would swamp a 28×28 image (a JPEG's tables alone are
 * ~200 bytes), so the digits are coded as one sheet: each digit padded to a 32×32 cell (JPEG's
 * 8×8 blocks then never straddle two digits; the padding is black and costs next to nothing),
 * the cells tiled in a grid, the sheet coded once, and its size divided by the number of digits.
 * The distortion is the MSE over the digits' own pixels, on the [0, 1] scale of the data.
 *
 * The sheet, the option checks and the measurement are `codecRatesWith`, shared by every
 * encoder; `codecRates` runs it with sharp. The browser bundle (lite/browser/codecs.ts) runs it
 * with the browser's own canvas encoders instead, and labels its points so (`encoder`): sizes
 * from different encoders are not comparable setting by setting.
 */
import sharp from 'sharp';
import { checkInt, describe, is, resolveOptions, type OptionsOf } from '../validate';

export interface CodecPoint {
  codec: 'PNG' | 'JPEG';
  /** 'lossless', '16 grey levels', 'quality 50', … */
  setting: string;
  /** Coded size per digit, in bits (the sheet's bytes · 8 / n). */
  bitsPerDigit: number;
  /** Mean squared error over the digits' pixels, values in [0, 1]. */
  mse: number;
  /** Who encoded it: 'sharp (libvips)' (Node) or 'browser canvas' (the JupyterLite bundle). */
  encoder?: string;
  /** What the encoder was asked for and wrote (palette, colour type, chroma sampling, …). */
  detail?: string;
}

export const CODEC_OPTIONS = {
  /** JPEG qualities (1 … 100). Default [10, 20, 30, 50, 75, 90]. */
  jpegQualities: { check: is.intArray(1, 100), default: [10, 20, 30, 50, 75, 90] as number[] },
  /** PNG palettes: grey levels (2 … 256); 256 is lossless 8-bit. Default [2, 4, 16, 256]. */
  pngLevels: { check: is.intArray(2, 256), default: [2, 4, 16, 256] as number[] },
};

const CELL = 32;

/** An 8-bit, one-channel image, row-major. */
export interface GreySheet {
  data: Uint8Array;
  width: number;
  height: number;
}

/** One coded sheet: its size, its decoded grey pixels (width·height bytes) and what was written. */
export interface CodedSheet {
  bytes: number;
  decoded: Uint8Array;
  detail: string;
}

/** An encoder for codecRatesWith: PNG at `levels` grey levels (256: lossless) and JPEG at a quality. */
export interface SheetCodec {
  /** Put in every point's `encoder`. */
  encoder: string;
  png(sheet: GreySheet, levels: number): Promise<CodedSheet>;
  jpeg(sheet: GreySheet, quality: number): Promise<CodedSheet>;
}

/** The digits [n·h·w] in [0, 1] as one 8-bit sheet of 32×32 cells, `cols` per row. */
function sheet(images: ArrayLike<number>, n: number, h: number, w: number, cols: number): GreySheet {
  const rows = Math.ceil(n / cols);
  const width = cols * CELL, height = rows * CELL;
  const data = new Uint8Array(width * height);
  for (let i = 0; i < n; i++) {
    const ox = (i % cols) * CELL, oy = Math.floor(i / cols) * CELL;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const v = Number(images[i * h * w + y * w + x]);
        data[(oy + y) * width + ox + x] = Math.round(255 * Math.min(1, Math.max(0, v)));
      }
    }
  }
  return { data, width, height };
}

/** MSE between the digits and a decoded sheet (1 channel, 8-bit), over the digits' pixels. */
function sheetMse(images: ArrayLike<number>, n: number, h: number, w: number, cols: number, decoded: Uint8Array, width: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) {
    const ox = (i % cols) * CELL, oy = Math.floor(i / cols) * CELL;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const d = decoded[(oy + y) * width + ox + x] / 255 - Number(images[i * h * w + y * w + x]);
        s += d * d;
      }
    }
  }
  return s / (n * h * w);
}

/** codecRates with a given encoder: the same sheet, settings, labels and MSE for every encoder. */
export async function codecRatesWith(codec: SheetCodec, images: ArrayLike<number>, n: number, h: number, w: number, opts: OptionsOf<typeof CODEC_OPTIONS> = {}): Promise<CodecPoint[]> {
  const { jpegQualities, pngLevels } = resolveOptions('codecRates(images, n, h, w, options)', CODEC_OPTIONS, opts);
  checkInt('codecRates(n)', n, 1);
  checkInt('codecRates(h)', h, 1, CELL);
  checkInt('codecRates(w)', w, 1, CELL);
  if (images === null || typeof images !== 'object' || (images as ArrayLike<number>).length !== n * h * w) {
    throw new Error(`codecRates(images) must be n·h·w = ${n * h * w} values, got ${describe(images)}`);
  }
  const cols = Math.ceil(Math.sqrt(n));
  const grey = sheet(images, n, h, w, cols);
  const points: CodecPoint[] = [];
  const point = (kind: 'PNG' | 'JPEG', setting: string, coded: CodedSheet): CodecPoint => ({
    codec: kind, setting, bitsPerDigit: (8 * coded.bytes) / n, mse: sheetMse(images, n, h, w, cols, coded.decoded, grey.width),
    encoder: codec.encoder, detail: coded.detail,
  });
  for (const levels of pngLevels) {
    points.push(point('PNG', levels === 256 ? 'lossless (256 levels)' : `${levels} grey levels`, await codec.png(grey, levels)));
  }
  for (const q of jpegQualities) points.push(point('JPEG', `quality ${q}`, await codec.jpeg(grey, q)));
  return points;
}

/** sharp (libvips): 8-bit grey PNG (lossless) or a palette PNG (libimagequant), grey JPEG at 4:4:4. */
const SHARP: SheetCodec = {
  encoder: 'sharp (libvips)',
  async png(grey, levels) {
    const data = asBuffer(grey.data), raw = { raw: { width: grey.width, height: grey.height, channels: 1 as const } };
    const png = levels === 256
      ? await sharp(data, raw).png({ compressionLevel: 9, adaptiveFiltering: true }).toBuffer()
      : await sharp(data, raw).png({ compressionLevel: 9, palette: true, colours: levels, dither: 0 }).toBuffer();
    const detail = levels === 256 ? 'grey 8-bit PNG, compression 9, adaptive filtering' : `palette PNG of at most ${levels} colours (libimagequant), no dither, compression 9`;
    return { bytes: png.length, decoded: await decode(png), detail };
  },
  async jpeg(grey, quality) {
    const jpg = await sharp(asBuffer(grey.data), { raw: { width: grey.width, height: grey.height, channels: 1 } }).toColourspace('b-w').jpeg({ quality, chromaSubsampling: '4:4:4' }).toBuffer();
    return { bytes: jpg.length, decoded: await decode(jpg), detail: `grey JPEG (1 component), quality ${quality}` };
  },
};

const asBuffer = (a: Uint8Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

async function decode(buf: Buffer): Promise<Uint8Array> {
  return sharp(buf).toColourspace('b-w').extractChannel(0).raw().toBuffer();
}

/**
 * Code n grayscale images (values in [0, 1], [n·h·w] row-major, h, w ≤ 32) with PNG and JPEG.
 * Returns one point per codec setting: bits per image and MSE.
 */
export async function codecRates(images: ArrayLike<number>, n: number, h: number, w: number, opts: OptionsOf<typeof CODEC_OPTIONS> = {}): Promise<CodecPoint[]> {
  return codecRatesWith(SHARP, images, n, h, w, opts);
}
