/**
 * PNG images without dependencies (zlib from Node): digit grids, codebook pictures.
 * Encoder follows the PNG spec (ISO/IEC 15948): signature, IHDR, IDAT (zlib), IEND, CRC-32.
 */
import zlib from 'node:zlib';
import { displayBundle } from './bundle';
import { MAX_TENSOR_VALUES, OptionsOf, checkInt, checkNumber, checkOneOf, describe, is, resolveOptions } from '../validate';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (the PNG/zlib polynomial). */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  Buffer.from(data.buffer, data.byteOffset, data.byteLength).copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/**
 * Encode 8-bit pixels as PNG.
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
  const stride = width * channels;
  const raw = Buffer.alloc((stride + 1) * height); // each row: filter byte 0 (None) + pixels
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = channels === 1 ? 0 : channels === 3 ? 2 : 6; // colour type: gray, RGB, RGBA
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw, { level: 9 })), chunk('IEND', new Uint8Array(0))]);
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
