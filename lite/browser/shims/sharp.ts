/**
 * `sharp` (libvips, native) does not exist in the browser: using it says so. The library's one
 * use, vq.codecRates, is replaced in the bundle by lite/browser/codecs.ts (the canvas's encoders).
 */
export default function sharp(): never {
  throw new Error("sharp (libvips: native) is not available in the browser; vq.codecRates uses the browser's canvas encoders instead, or run with the local install (npm run lab)");
}
