/** Figures of a VQ-VAE's work, as PNGs for notebooks (lib/display draws them). */
import * as tf from '@tensorflow/tfjs';
import { VQVAE } from '../vqvae/model';
import { imageGridPng } from '../node/png';
import { OptionsOf, describe, is, resolveOptions } from '../validate';

export const RECONSTRUCTION_PNG_OPTIONS = {
  /** Images per row (≥ 1). Default min(n, 10). */
  cols: { check: is.int(1), optional: true as const },
  /** Integer upscaling of every pixel (1 … 64). Default 2. */
  scale: { check: is.int(1, 64), default: 2 },
};

/**
 * Images x [n, H, W, 1] and their reconstructions as one grayscale PNG: each row of `cols`
 * originals is followed by the row of their reconstructions (clipped to [0, 1]). n must be a
 * multiple of `cols`.
 */
export function reconstructionPng(model: VQVAE, x: tf.Tensor4D, opts: OptionsOf<typeof RECONSTRUCTION_PNG_OPTIONS> = {}): Buffer {
  const o = resolveOptions('reconstructionPng(model, x, options)', RECONSTRUCTION_PNG_OPTIONS, opts);
  if (!(model instanceof VQVAE)) throw new Error(`reconstructionPng(model) must be a VQVAE, got ${describe(model)}`);
  if (model.inChannels !== 1) throw new Error(`reconstructionPng(model) must take grayscale images (inChannels 1), got inChannels ${model.inChannels}`);
  model.checkImages('reconstructionPng(x)', x);
  const [n, h, w] = x.shape;
  const cols = o.cols ?? Math.min(n, 10);
  if (n % cols !== 0) throw new Error(`reconstructionPng(x): ${n} images is not a multiple of options.cols ${cols}`);
  const xHat = model.reconstruct(x);
  const a = x.dataSync(), b = xHat.dataSync();
  xHat.dispose();
  const row = cols * h * w;
  const tiles = new Float32Array(2 * n * h * w);
  for (let r = 0; r < n / cols; r++) {
    tiles.set(a.subarray(r * row, (r + 1) * row), 2 * r * row);
    tiles.set(b.subarray(r * row, (r + 1) * row), (2 * r + 1) * row);
  }
  return imageGridPng(tiles, 2 * n, h, w, { cols, scale: o.scale });
}
