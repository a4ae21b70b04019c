/** `sharp` (libvips, native) does not exist in the browser: using it says so. */
export default function sharp(): never {
  throw new Error('sharp (libvips: the PNG/JPEG codecs of notebook 09) is not available in the browser; run this notebook with the local install (npm run lab)');
}
