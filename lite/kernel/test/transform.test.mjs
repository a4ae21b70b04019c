/**
 * The cell rewriting of src/transform.ts (compiled to lib/ by build.mjs), run under Node in a vm
 * context standing in for the worker's global scope:
 *   node --test lite/kernel/test/
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import vm from 'node:vm';
import { transformCell, CellSyntaxError } from '../lib/transform.js';

function notebook(modules = {}) {
  const ctx = vm.createContext({ __tsImport: async (s) => modules[s] ?? Promise.reject(new Error(`no module ${s}`)), console });
  return async (source) => vm.runInContext(transformCell(source).code, ctx);
}

test('top-level const/let/function/class persist across cells; the last expression is the value', async () => {
  const run = notebook();
  assert.equal(await run('const a: number = 2;\nlet b = a + 1;\nfunction sq(x: number): number { return x * x; }\nclass P { constructor(public v: number) {} }'), undefined);
  assert.equal(await run('sq(b) + new P(a).v'), 11);
  assert.equal(await run('b = 10; b'), 10);
});

test('function declarations are hoisted; destructuring declarations persist', async () => {
  const run = notebook();
  assert.equal(await run('const r = later(3);\nfunction later(x: number) { return x + 1; }\nr'), 4);
  await run('const { p, q: [r1, , r3 = 9] } = { p: 1, q: [2, 3] };\nconst [u, ...rest] = [5, 6, 7];');
  assert.equal(await run('JSON.stringify([p, r1, r3, u, rest])'), '[1,2,9,5,[6,7]]'); // (arrays of the vm's realm)
});

test('top-level await, and imports resolved through __tsImport (namespace, named, default)', async () => {
  const mod = { x: 1, y: 2, default: 'dflt' };
  const run = notebook({ m: mod });
  assert.equal(await run("import * as ns from 'm';\nimport { x, y as why } from 'm';\nimport d from 'm';\nconst v = await Promise.resolve(x + why);\nv"), 3);
  assert.equal(await run('[ns.y, d].join()'), '2,dflt');
});

test('types only are erased; a syntax error is a CellSyntaxError with a position', async () => {
  const run = notebook();
  assert.equal(await run('interface I { a: number }\ntype T = I[];\nconst t: T = [{ a: 1 }];\nt.length'), 1);
  assert.throws(() => transformCell('const = 1'), (e) => e instanceof CellSyntaxError && /\(1,7\)/.test(e.message));
});

test('a throwing cell rejects with the thrown error', async () => {
  const run = notebook();
  await assert.rejects(run("throw new RangeError('boom')"), { name: 'RangeError', message: 'boom' });
});
