#!/usr/bin/env node
/** Set up the Python side (.venv or an active conda env) and the tslab kernelspec. Idempotent. */
import { ensureEnv } from './pyenv.mjs';

try {
  const env = ensureEnv();
  console.log(`[setup] Python env: ${env.prefix} (${env.kind}); kernel 'tslab' -> node_modules/tslab`);
} catch (e) {
  console.error(`[setup] ${e.message}`);
  process.exit(1);
}
