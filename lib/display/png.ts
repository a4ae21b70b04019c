/**
 * PNG images without dependencies (zlib from Node): digit grids, codebook pictures.
 * Encoder follows the PNG spec (ISO/IEC 15948): signature, IHDR, IDAT (zlib), IEND, CRC-32.
 */
import zlib from 'node:zlib';
import { displayBundle } from './bundle';

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
  if (!Number.isInteger(width) || width < 1) throw new Error(`encodePng(width): expected a positive integer, got ${width}`);
  if (!Number.isInteger(height) || height < 1) throw new Error(`encodePng(height): expected a positive integer, got ${height}`);
  if (![1, 3, 4].includes(channels)) throw new Error(`encodePng(channels): expected 1, 3 or 4, got ${channels}`);
  if (pixels.length !== width * height * channels) {
    throw new Error(`encodePng(pixels): expected ${width}×${height}×${channels} = ${width * height * channels} bytes, got ${pixels.length}`);
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

export interface GridOptions {
  /** Images per row (default: ceil(sqrt(N))). */
  cols?: number;
  /** Integer upscaling of every pixel (default 2). */
  scale?: number;
  /** Gap between images in (unscaled) pixels (default 1). */
  pad?: number;
  /** Value range mapped to 0..255 (default [0, 1]); values outside are clipped. */
  range?: [number, number];
  /** Gap colour, 0..255 gray (default 128). */
  padValue?: number;
}

/**
 * Tile N grayscale images into one PNG.
 * @param images N·H·W values, row-major per image (e.g. the data of a tensor [N, H, W, 1])
 */
export function imageGridPng(images: ArrayLike<number>, n: number, h: number, w: number, opts: GridOptions = {}): Buffer {
  if (images.length !== n * h * w) throw new Error(`imageGridPng(images): expected n·h·w = ${n * h * w} values, got ${images.length}`);
  const cols = opts.cols ?? Math.ceil(Math.sqrt(n));
  const rows = Math.ceil(n / cols);
  const scale = opts.scale ?? 2;
  const pad = opts.pad ?? 1;
  const [lo, hi] = opts.range ?? [0, 1];
  if (!(hi > lo)) throw new Error(`imageGridPng(range): expected [lo, hi] with hi > lo, got [${lo}, ${hi}]`);
  const W = (cols * (w + pad) + pad) * scale;
  const H = (rows * (h + pad) + pad) * scale;
  const px = new Uint8Array(W * H).fill(opts.padValue ?? 128);
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
