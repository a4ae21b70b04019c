/** Figures of a VQ-VAE's work, as PNGs for notebooks (lib/display draws them). */
import * as tf from '@tensorflow/tfjs';
import { VQVAE } from './model';
import { checkInt, checkKeys } from './layers';
import { imageGridPng } from '../display/png';

/**
 * Images x [n, H, W, 1] and their reconstructions as one grayscale PNG: each row of `cols`
 * originals is followed by the row of their reconstructions (clipped to [0, 1]). n must be a
 * multiple of `cols`.
 */
export function reconstructionPng(model: VQVAE, x: tf.Tensor4D, opts: { cols?: number; scale?: number } = {}): Buffer {
  checkKeys('reconstructionPng', opts, ['cols', 'scale']);
  if (!(x instanceof tf.Tensor) || x.rank !== 4 || x.shape[3] !== 1) {
    throw new Error(`reconstructionPng(x): expected a tensor [n, H, W, 1], got ${x instanceof tf.Tensor ? `[${x.shape}]` : String(x)}`);
  }
  const [n, h, w] = x.shape;
  const cols = checkInt('reconstructionPng opts.cols', opts.cols ?? Math.min(n, 10));
  if (n % cols !== 0) throw new Error(`reconstructionPng(x): ${n} images is not a multiple of opts.cols ${cols}`);
  const xHat = model.reconstruct(x);
  const a = x.dataSync(), b = xHat.dataSync();
  xHat.dispose();
  const row = cols * h * w;
  const tiles = new Float32Array(2 * n * h * w);
  for (let r = 0; r < n / cols; r++) {
    tiles.set(a.subarray(r * row, (r + 1) * row), 2 * r * row);
    tiles.set(b.subarray(r * row, (r + 1) * row), (2 * r + 1) * row);
  }
  return imageGridPng(tiles, 2 * n, h, w, { cols, scale: checkInt('reconstructionPng opts.scale', opts.scale ?? 2) });
}
