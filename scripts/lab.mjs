#!/usr/bin/env node
/** `npm run lab`: JupyterLab on notebooks/, token authentication left on (the URL with the token is printed). */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './files.mjs';
import { ensureEnv, jupyterProcessEnv } from './pyenv.mjs';

const env = ensureEnv();
const child = spawn(env.python, ['-m', 'jupyterlab', `--notebook-dir=${path.join(ROOT, 'notebooks')}`, ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: jupyterProcessEnv(env),
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code) => process.exit(code ?? 0));
