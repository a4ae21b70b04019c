/**
 * PNG images: digit grids, codebook pictures. Encoding is the npm package pngjs's
 * (signature, IHDR, IDAT, IEND); CRC-32 is Node's zlib.crc32.
 */
import zlib from 'node:zlib';
import { PNG, type ColorType } from 'pngjs';
import { displayBundle } from '../display/bundle';
import './tslab';
import { MAX_TENSOR_VALUES, OptionsOf, checkInt, checkNumber, checkOneOf, describe, is, resolveOptions } from '../validate';

/** CRC-32 (the PNG/zlib polynomial), unsigned. */
export function crc32(bytes: Uint8Array): number {
  return zlib.crc32(bytes);
}

/**
 * Encode 8-bit pixels as PNG (no row filter, deflate level 9, default strategy).
 * @param pixels row-major, `channels` bytes per pixel (1 = gray, 3 = RGB, 4 = RGBA); length H·W·C
 */
export function encodePng(width: number, height: number, pixels: Uint8Array, channels: 1 | 3 | 4 = 1): Buffer {
  checkInt('encodePng(width)', width, 1);
  checkInt('encodePng(height)', height, 1);
  if (![1, 3, 4].includes(channels)) throw new Error(`encodePng(channels) must be 1, 3 or 4, got ${describe(channels)}`);
  if (width * height * channels > MAX_TENSOR_VALUES) {
    throw new Error(`encodePng(width, height) must give at most ${MAX_TENSOR_VALUES} bytes, got ${width}×${height}×${channels}`);
  }
  if (!(pixels instanceof Uint8Array) || pixels.length !== width * height * channels) {
    throw new Error(`encodePng(pixels) must be ${width}×${height}×${channels} = ${width * height * channels} bytes (a Uint8Array), got ${describe(pixels)}`);
  }
  const colorType: ColorType = channels === 1 ? 0 : channels === 3 ? 2 : 6; // gray, RGB, RGBA
  const png = new PNG(); // no size given: no pixel buffer of its own; ours goes in as is
  png.width = width;
  png.height = height;
  png.data = Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength);
  return PNG.sync.write(png, {
    colorType,
    inputColorType: colorType,
    inputHasAlpha: channels === 4,
    bitDepth: 8,
    filterType: 0,
    deflateLevel: 9,
    deflateStrategy: zlib.constants.Z_DEFAULT_STRATEGY, // as zlib.deflateSync: the same bytes as before pngjs
  });
}

const checkRange = (v: [number, number], name: string): [number, number] => {
  if (!Array.isArray(v) || v.length !== 2) throw new Error(`${name} must be [lo, hi], got ${describe(v)}`);
  const [lo, hi] = [checkNumber(`${name}[0]`, v[0], -Infinity), checkNumber(`${name}[1]`, v[1], -Infinity)];
  if (!(hi > lo)) throw new Error(`${name} must be [lo, hi] with hi > lo, got [${lo}, ${hi}]`);
  return [lo, hi];
};

export const GRID_OPTIONS = {
  /** Images per row (≥ 1). Default ceil(sqrt(N)). */
  cols: { check: is.int(1), optional: true as const },
  /** Integer upscaling of every pixel (1 … 64). Default 2. */
  scale: { check: is.int(1, 64), default: 2 },
  /** Gap between images in (unscaled) pixels (≥ 0). Default 1. */
  pad: { check: is.int(0, 1024), default: 1 },
  /** Value range mapped to 0..255; values outside are clipped. Default [0, 1]. */
  range: { check: checkRange, default: [0, 1] as [number, number] },
  /** Gap colour, 0..255 gray. Default 128. */
  padValue: { check: is.int(0, 255), default: 128 },
};
/** Options of imageGridPng / showPng (see GRID_OPTIONS). */
export type GridOptions = OptionsOf<typeof GRID_OPTIONS>;

/**
 * Tile N grayscale images into one PNG.
 * @param images N·H·W values, row-major per image (e.g. the data of a tensor [N, H, W, 1])
 */
export function imageGridPng(images: ArrayLike<number>, n: number, h: number, w: number, opts: GridOptions = {}): Buffer {
  const o = resolveOptions('imageGridPng(images, n, h, w, options)', GRID_OPTIONS, opts);
  for (const [name, v] of [['n', n], ['h', h], ['w', w]] as const) checkInt(`imageGridPng(${name})`, v, 1);
  if (images === null || typeof images !== 'object' || typeof images.length !== 'number' || images.length !== n * h * w) {
    throw new Error(`imageGridPng(images) must hold n·h·w = ${n * h * w} values, got ${describe(images)}`);
  }
  const cols = o.cols ?? Math.ceil(Math.sqrt(n));
  const rows = Math.ceil(n / cols);
  const { scale, pad, range: [lo, hi] } = o;
  const W = (cols * (w + pad) + pad) * scale;
  const H = (rows * (h + pad) + pad) * scale;
  if (W * H > MAX_TENSOR_VALUES) throw new Error(`imageGridPng: the image would have ${W}×${H} pixels, more than ${MAX_TENSOR_VALUES}`);
  const px = new Uint8Array(W * H).fill(o.padValue);
  for (let i = 0; i < n; i++) {
    const ox = (pad + (i % cols) * (w + pad)) * scale;
    const oy = (pad + Math.floor(i / cols) * (h + pad)) * scale;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const v = (Number(images[i * h * w + y * w + x]) - lo) / (hi - lo);
        const b = Math.round(255 * Math.min(1, Math.max(0, Number.isNaN(v) ? 0 : v)));
        for (let sy = 0; sy < scale; sy++) px.fill(b, (oy + y * scale + sy) * W + ox + x * scale, (oy + y * scale + sy) * W + ox + (x + 1) * scale);
      }
    }
  }
  return encodePng(W, H, px, 1);
}

/** Display a PNG (with a text/plain description) in the notebook. */
export function showPng(png: Uint8Array, description = 'image'): void {
  displayBundle({ 'image/png': Buffer.from(png).toString('base64'), 'text/plain': `<${description}: PNG, ${png.length} bytes>` });
}
