/**
 * The Python side of the project (JupyterLab, nbval, pytest, plotly) and the tslab kernelspec.
 *
 * - If a conda environment made from environment.yml is active (CONDA_PREFIX with jupyterlab,
 *   nbval, pytest and plotly importable), it is used as is.
 * - Otherwise a project-local virtualenv `.venv/` is created and `requirements.txt` installed
 *   into it (again only when requirements.txt changed).
 * - The tslab kernelspec is written into that environment (<prefix>/share/jupyter/kernels/tslab),
 *   never user-global, and runs the project's own tslab through scripts/tslab-kernel.cjs.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, writeFileAtomic } from './files.mjs';

export const KERNEL_NAME = 'tslab';
const VENV = path.join(ROOT, '.venv');
const REQUIREMENTS = path.join(ROOT, 'requirements.txt');
const REQUIRED_MODULES = ['jupyterlab', 'nbval', 'pytest', 'plotly', 'nbclient'];

function binDir(prefix) {
  return process.platform === 'win32' ? path.join(prefix, 'Scripts') : path.join(prefix, 'bin');
}

function pythonIn(prefix) {
  return path.join(binDir(prefix), process.platform === 'win32' ? 'python.exe' : 'python');
}

function canImport(python, modules) {
  const r = spawnSync(python, ['-c', `import ${modules.join(', ')}`], { stdio: 'ignore' });
  return r.status === 0;
}

function run(cmd, args, what) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: ROOT });
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : `exit code ${r.status}`;
    throw new Error(`${what} failed (${cmd} ${args.join(' ')}): ${why}`);
  }
}

function findSystemPython() {
  for (const candidate of [process.env.PYTHON, 'python3', 'python'].filter(Boolean)) {
    const r = spawnSync(candidate, ['-c', 'import sys, venv; print(sys.version_info >= (3, 10))'], {
      encoding: 'utf8',
    });
    if (r.status === 0 && r.stdout.trim() === 'True') return candidate;
  }
  throw new Error('setup: a Python >= 3.10 with the venv module is needed (the pinned jupyterlab, pytest, nbclient and jupyter_client need 3.10; tried $PYTHON, python3, python)');
}

/** The Python environment to use, without creating anything. */
export function locateEnv() {
  const conda = process.env.CONDA_PREFIX;
  if (conda && fs.existsSync(pythonIn(conda)) && canImport(pythonIn(conda), REQUIRED_MODULES)) {
    return { kind: 'conda', prefix: conda, python: pythonIn(conda), bin: binDir(conda) };
  }
  return { kind: 'venv', prefix: VENV, python: pythonIn(VENV), bin: binDir(VENV) };
}

/** Create/refresh the environment and the kernelspec. Returns the environment. */
export function ensureEnv({ log = console.log } = {}) {
  const env = locateEnv();
  if (env.kind === 'venv') {
    const want = createHash('sha256').update(fs.readFileSync(REQUIREMENTS)).digest('hex');
    const stamp = path.join(VENV, '.requirements.sha256');
    const have = fs.existsSync(stamp) ? fs.readFileSync(stamp, 'utf8').trim() : '';
    if (!fs.existsSync(env.python)) {
      const py = findSystemPython();
      log(`[setup] creating virtualenv .venv with ${py}`);
      run(py, ['-m', 'venv', VENV], 'creating .venv');
    }
    if (have !== want || !canImport(env.python, REQUIRED_MODULES)) {
      log('[setup] installing requirements.txt into .venv (JupyterLab, nbval, pytest, plotly)');
      run(env.python, ['-m', 'pip', 'install', '--disable-pip-version-check', '-q', '-r', REQUIREMENTS], 'pip install');
      writeFileAtomic(stamp, want + '\n');
    }
  } else {
    log(`[setup] using the active conda environment ${env.prefix}`);
  }
  installKernelspec(env);
  return env;
}

/** Write <prefix>/share/jupyter/kernels/tslab/kernel.json pointing at this checkout's tslab. */
export function installKernelspec(env) {
  const dir = path.join(env.prefix, 'share', 'jupyter', 'kernels', KERNEL_NAME);
  const spec = {
    argv: [process.execPath, path.join(ROOT, 'scripts', 'tslab-kernel.cjs'), 'kernel', '--config-path', '{connection_file}'],
    display_name: 'TypeScript (tslab)',
    language: 'typescript',
    interrupt_mode: 'signal',
    metadata: { project: ROOT, note: 'written by scripts/setup.mjs; runs node_modules/tslab with protocol fixes' },
  };
  const file = path.join(dir, 'kernel.json');
  const text = JSON.stringify(spec, null, 2) + '\n';
  if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== text) writeFileAtomic(file, text);
  return file;
}

/**
 * Environment variables for Jupyter processes: the environment's bin first on PATH, and its
 * share/jupyter first on JUPYTER_PATH, so that our kernelspec wins over any user-global
 * `tslab` kernelspec (user data dirs otherwise take precedence over sys.prefix).
 */
export function jupyterProcessEnv(env, extra = {}) {
  const share = path.join(env.prefix, 'share', 'jupyter');
  return {
    ...process.env,
    PATH: `${env.bin}${path.delimiter}${process.env.PATH ?? ''}`,
    JUPYTER_PATH: [share, process.env.JUPYTER_PATH].filter(Boolean).join(path.delimiter),
    PYDEVD_DISABLE_FILE_VALIDATION: '1',
    ...extra,
  };
}
