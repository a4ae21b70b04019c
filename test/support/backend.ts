/**
 * The backend the unit tests run on. `npm run test:unit` (scripts/unit-tests.mjs) runs the whole
 * suite once per backend with $VQ_TEST_BACKEND = wasm, then node (the native TensorFlow build);
 * run by hand, the default is wasm. Tests of the wasm kernels themselves always use wasm.
 */
import { initBackend, type BackendChoice } from '../../lib/backend';

const CHOICES: readonly BackendChoice[] = ['node-gpu', 'node', 'wasm', 'cpu'];

function parse(value: string | undefined): BackendChoice {
  if (value === undefined || value.trim() === '') return 'wasm';
  const v = value.trim() as BackendChoice;
  if (!CHOICES.includes(v)) throw new Error(`VQ_TEST_BACKEND: expected one of ${CHOICES.join(', ')}, got ${JSON.stringify(value)}`);
  return v;
}

export const TEST_BACKEND: BackendChoice = parse(process.env.VQ_TEST_BACKEND);

/** tf.getBackend() under TEST_BACKEND: 'tensorflow' for the native backends. */
export const TEST_TF_BACKEND = TEST_BACKEND === 'node' || TEST_BACKEND === 'node-gpu' ? 'tensorflow' : TEST_BACKEND;

/** Select TEST_BACKEND; throws (never falls through to another backend) when it does not load. */
export async function useTestBackend(): Promise<void> {
  const info = await initBackend(TEST_BACKEND, { quiet: true });
  if (info.choice !== TEST_BACKEND) {
    throw new Error(`the unit tests were asked to run on ${TEST_BACKEND}, which did not load:\n${info.summary}`);
  }
}

/** The backends a cross-backend test compares: the test backend and the reference cpu backend. */
export const TEST_AND_CPU: readonly BackendChoice[] = TEST_BACKEND === 'cpu' ? ['cpu'] : [TEST_BACKEND, 'cpu'];
