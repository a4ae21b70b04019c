/** `pngjs` in the browser: PNG.sync.write for 8-bit gray, RGB and RGBA, filter 0 (lib/display/png.ts). */
import { Buffer } from 'buffer';
import { crc32, deflateSync } from './zlib';

interface WriteOptions {
  colorType?: number;
  bitDepth?: number;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

export class PNG {
  width = 0;
  height = 0;
  data: Uint8Array = new Uint8Array(0);

  static sync = {
    write(png: PNG, opts: WriteOptions = {}): Uint8Array {
      const colorType = opts.colorType ?? 6;
      const channels = colorType === 0 ? 1 : colorType === 2 ? 3 : colorType === 6 ? 4 : 0;
      if (!channels || (opts.bitDepth ?? 8) !== 8) throw new Error(`PNG (browser): colorType ${colorType}, bitDepth ${opts.bitDepth} not supported`);
      const { width, height } = png;
      const stride = width * channels;
      const raw = new Uint8Array((stride + 1) * height);
      for (let y = 0; y < height; y++) raw.set(png.data.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
      const ihdr = new Uint8Array(13);
      const v = new DataView(ihdr.buffer);
      v.setUint32(0, width);
      v.setUint32(4, height);
      ihdr[8] = 8;
      ihdr[9] = colorType;
      const parts = [new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))];
      const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
      let o = 0;
      for (const p of parts) {
        out.set(p, o);
        o += p.length;
      }
      return Buffer.from(out.buffer, 0, out.length);
    },
  };
}
export default { PNG };
