#!/usr/bin/env node
/**
 * The Python half of `npm test`: pytest over test/python (kernel protocol tests) and nbval over
 * every notebook in notebooks/, with the project's tslab kernel.
 *
 * Output policy (see README "How the tests work"): --nbval-lax, so every cell must run without
 * error, and only cells tagged `nbval-check-output` have their outputs compared.
 * VQ_TEST=1 is set for the kernels: notebooks that train use their documented shorter budget.
 *
 *   node scripts/nbval.mjs [extra pytest args]   e.g. `node scripts/nbval.mjs notebooks/01-vq-theory.ipynb`
 */
import { spawnSync } from 'node:child_process';
import { ROOT } from './files.mjs';
import { ensureEnv, jupyterProcessEnv } from './pyenv.mjs';

const env = ensureEnv({ log: () => {} });
const extra = process.argv.slice(2);
const targets = extra.some((a) => !a.startsWith('-')) ? [] : ['test/python', 'notebooks'];
const args = [
  '-m', 'pytest', '-p', 'no:cacheprovider', '-v',
  '--nbval-lax', '--nbval-kernel-name', 'tslab', '--nbval-cell-timeout', '900',
  ...targets, ...extra,
];
console.log(`[nbval] ${env.python} ${args.join(' ')}`);
const r = spawnSync(env.python, args, { cwd: ROOT, stdio: 'inherit', env: jupyterProcessEnv(env, { VQ_TEST: '1' }) });
process.exit(r.status ?? 1);
