#!/usr/bin/env node
/**
 * Build TensorFlow.js's native backend (@tensorflow/tfjs-node, or tfjs-node-gpu with --gpu) from
 * PyPI's TensorFlow wheel, without the binary host its own install script downloads from.
 *
 *   node scripts/native-build.mjs               the CPU backend (run by `npm install`'s postinstall)
 *   node scripts/native-build.mjs --gpu         the CUDA backend (`npm run setup:gpu`)
 *   options: --force (rebuild even when up to date), --postinstall (never fail: print one line
 *   saying what is missing and exit 0, so `npm install` always succeeds and wasm stays the backend)
 *   env: VQ_NATIVE=0 skips the build; VQ_NATIVE_CACHE is where wheels and unpacked libraries are
 *   kept (default $XDG_CACHE_HOME/vq-notebooks or ~/.cache/vq-notebooks); NODEDIR points at Node's
 *   headers (include/node/node_api.h) when they are not beside the running node.
 *
 * How: tfjs-node 4.22.0's N-API binding (two C++ files) only needs the TensorFlow C API. PyPI's
 * `tensorflow-cpu` wheel ships it as tensorflow/libtensorflow_cc.so.2 + libtensorflow_framework.so.2,
 * with the C headers under tensorflow/include/. We download the pinned wheel once into the cache
 * (pip; Python never imports it), unpack the two libraries and the headers the binding includes,
 * hard-link them into the package's deps/ under the names its binding.gyp links, build the binding
 * with node-pre-gyp and npm's node-gyp against the local Node headers, and smoke-test a convolution
 * and its gradient. For the GPU the wheel is `tensorflow` (CUDA 12.3, cuDNN 8.9) and the exact
 * nvidia-*-cu12 wheels of its `and-cuda` extra are unpacked beside it: its libraries carry
 * RUNPATH $ORIGIN/../nvidia/<pkg>/lib, so only the driver's libcuda.so.1 is needed at run time.
 *
 * TensorFlow 2.16.2 is pinned: tfjs-core's own test suite passes on it with 0 failures; from 2.17
 * on `tf.round` on int32 returns zeros.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ROOT } from './files.mjs';

export const TF_VERSION = '2.16.2';
const FLAVORS = {
  cpu: { pkg: '@tensorflow/tfjs-node', wheel: 'tensorflow-cpu', needBytes: 1.2e9 },
  gpu: { pkg: '@tensorflow/tfjs-node-gpu', wheel: 'tensorflow', needBytes: 9e9 },
};

class Missing extends Error {}

export function cacheDir(env = process.env) {
  if (env.VQ_NATIVE_CACHE) return path.resolve(env.VQ_NATIVE_CACHE);
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'vq-notebooks');
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.error) throw new Missing(`${cmd}: ${r.error.code === 'ENOENT' ? 'not found on PATH' : r.error.message}`);
  return r;
}

function lastLines(text, n = 3) {
  return (text || '').trim().split('\n').slice(-n).join(' | ').slice(0, 400);
}

function findPython() {
  for (const py of [process.env.PYTHON, 'python3', 'python'].filter(Boolean)) {
    const r = spawnSync(py, ['-m', 'pip', '--version'], { encoding: 'utf8' });
    if (r.status === 0) return py;
  }
  throw new Missing('no Python with pip (python3 -m pip) was found: install python3 and python3-pip, or set $PYTHON');
}

function findNodeDir() {
  const candidates = [process.env.NODEDIR, process.env.npm_config_nodedir,
    path.dirname(path.dirname(fs.realpathSync(process.execPath))), '/usr', '/usr/local'];
  for (const d of candidates.filter(Boolean)) {
    if (fs.existsSync(path.join(d, 'include', 'node', 'node_api.h')) && fs.existsSync(path.join(d, 'include', 'node', 'common.gypi'))) return d;
  }
  throw new Missing("Node's C headers (include/node/node_api.h) were not found: on Debian/Ubuntu `apt-get install libnode-dev`, or set NODEDIR to a Node prefix that has them");
}

function findNodeGyp() {
  const candidates = [process.env.npm_config_node_gyp];
  const npm = spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['prefix', '-g'], { encoding: 'utf8' });
  if (npm.status === 0) candidates.push(path.join(npm.stdout.trim(), 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push(path.join(path.dirname(path.dirname(fs.realpathSync(process.execPath))), 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  const found = candidates.filter(Boolean).find((f) => fs.existsSync(f));
  if (!found) throw new Missing("node-gyp was not found (npm ships one): reinstall npm, or set npm_config_node_gyp to node-gyp's bin/node-gyp.js");
  return found;
}

function checkTools() {
  for (const [tool, hint] of [['g++', 'g++'], ['make', 'make']]) {
    if (run(tool, ['--version']).status !== 0) throw new Missing(`${tool} does not run: install ${hint} (Debian: apt-get install build-essential)`);
  }
}

function checkDisk(dir, need) {
  fs.mkdirSync(dir, { recursive: true });
  const s = fs.statfsSync(dir);
  const free = s.bavail * s.bsize;
  if (free < need) throw new Missing(`only ${(free / 1e9).toFixed(1)} GB free in ${dir}, ${(need / 1e9).toFixed(1)} GB needed: free some space or set VQ_NATIVE_CACHE to a bigger disk`);
}

/** pip download of one exact wheel (no dependencies) into `dir`; returns its path. */
function wheel(py, dir, project, version) {
  const base = `${project.replace(/-/g, '_')}-${version}-`;
  const have = () => fs.readdirSync(dir).find((f) => f.startsWith(base) && f.endsWith('.whl') && /x86_64/.test(f));
  if (!have()) {
    const r = run(py, ['-m', 'pip', 'download', '--disable-pip-version-check', '--quiet', '--no-deps', '--only-binary=:all:',
      '--python-version', '3.11', '--platform', 'manylinux_2_17_x86_64', '--platform', 'manylinux2014_x86_64',
      '-d', dir, `${project}==${version}`]);
    if (r.status !== 0 || !have()) throw new Missing(`pip could not download ${project}==${version} from the package index: ${lastLines(r.stderr)}`);
  }
  return path.join(dir, have());
}

// Unpack (python's zipfile; pip is there anyway): the two libraries, the #include "…" closure of the
// binding's sources, and for the GPU the lib/ folders of the nvidia wheels. Prints the nvidia pins.
const UNPACK_PY = String.raw`
import sys, zipfile, os, re, shutil, json
whl, out, bindingdir, mode = sys.argv[1:5]
def copy(z, name, dst):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    tmp = dst + '.part'
    with z.open(name) as src, open(tmp, 'wb') as f:
        shutil.copyfileobj(src, f, 1 << 24)
    os.chmod(tmp, 0o755); os.replace(tmp, dst)
with zipfile.ZipFile(whl) as z:
    names = set(z.namelist())
    if mode == 'nvidia':
        for n in names:
            if n.startswith('nvidia/') and '/lib/' in n and not n.endswith('/'):
                copy(z, n, os.path.join(out, n))
        sys.exit(0)
    for lib in ('libtensorflow_cc.so.2', 'libtensorflow_framework.so.2'):
        copy(z, 'tensorflow/' + lib, os.path.join(out, 'lib', lib))
    INC = 'tensorflow/include/'
    todo, seen = [], set()
    for f in os.listdir(bindingdir):
        todo += [x.decode() for x in re.findall(rb'#include\s+"([^"]+)"', open(os.path.join(bindingdir, f), 'rb').read())]
    while todo:
        h = todo.pop()
        if h in seen or INC + h not in names: continue
        seen.add(h)
        data = z.read(INC + h)
        dst = os.path.join(out, 'include', h)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        open(dst, 'wb').write(data)
        todo += [x.decode() for x in re.findall(rb'#include\s+"([^"]+)"', data)]
    meta = next(n for n in names if n.endswith('.dist-info/METADATA'))
    pins = []
    for line in z.read(meta).decode().splitlines():
        m = re.match(r"Requires-Dist: (nvidia-[a-z0-9-]+) ?\(?==([0-9.]+)\)? ?; extra == .and-cuda.", line)
        if m and m.group(1) != 'nvidia-cuda-nvcc-cu12':  # ptxas/libdevice: only XLA's JIT uses them
            pins.append([m.group(1), m.group(2)])
    print(json.dumps({'headers': len(seen), 'nvidia': pins}))
`;

/** Hard-link (or copy, across file systems) every file under `from` into `to`. */
function linkTree(from, to) {
  for (const e of fs.readdirSync(from, { withFileTypes: true })) {
    const a = path.join(from, e.name), b = path.join(to, e.name);
    if (e.isDirectory()) { fs.mkdirSync(b, { recursive: true }); linkTree(a, b); continue; }
    fs.rmSync(b, { force: true });
    try { fs.linkSync(a, b); } catch { fs.copyFileSync(a, b); }
  }
}

function mb(bytes) { return `${Math.round(bytes / 1e6)} MB`; }
function treeBytes(dir) {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    n += e.isDirectory() ? treeBytes(p) : e.isFile() ? fs.statSync(p).size : 0;
  }
  return n;
}

/**
 * Our one change to the binding's C++ (binding/tfjs_backend.cc): op attributes that are lists of
 * strings or of types, which tfjs-node 4.22.0 sets only one at a time. TensorFlow's fused ops
 * take them (`_FusedConv2D`: fused_ops = ['BiasAdd', 'Relu'], TArgs = [float]); lib/native runs
 * conv + bias + relu as one such op. Idempotent; returns what it did. Without the patch (anchors
 * not found in another tfjs-node version) lib/native's probe fails and the separate ops run.
 */
export const BINDING_PATCH = 'list-attrs-1';
const PATCH_MARK = `// vq-notebooks patch ${BINDING_PATCH}`;
export function patchBinding(pkgDir) {
  const file = path.join(pkgDir, 'binding', 'tfjs_backend.cc');
  let src = fs.readFileSync(file, 'utf8');
  if (src.includes(PATCH_MARK)) return 'already patched';
  const listOf = (what, decl, read, set) => `      ${PATCH_MARK}: a list of ${what}.
      if (IsArray(env, nstatus, &js_value)) {
        uint32_t length;
        nstatus = napi_get_array_length(env, js_value, &length);
        ENSURE_NAPI_OK(env, nstatus);
${decl}
        for (uint32_t i = 0; i < length; ++i) {
          napi_value element;
          nstatus = napi_get_element(env, js_value, i, &element);
          ENSURE_NAPI_OK(env, nstatus);
${read}
          ENSURE_NAPI_OK(env, nstatus);
        }
${set}
        break;
      }
`;
  const edits = [
    ['    case TF_ATTR_STRING: {\n', listOf('strings',
      '        std::vector<std::string> strs(length);\n        std::vector<const void *> ptrs(length);\n        std::vector<size_t> lens(length);',
      '          nstatus = GetStringParam(env, element, strs[i]);\n          ptrs[i] = strs[i].data();\n          lens[i] = strs[i].size();',
      '        TFE_OpSetAttrStringList(tfe_op, attr_name, ptrs.data(), lens.data(), static_cast<int>(length));')],
    ['    case TF_ATTR_TYPE: {\n', listOf('types',
      '        std::vector<TF_DataType> types(length);',
      '          nstatus = napi_get_value_int32(env, element, reinterpret_cast<int32_t *>(&types[i]));',
      '        TFE_OpSetAttrTypeList(tfe_op, attr_name, types.data(), static_cast<int>(length));')],
  ];
  for (const [anchor] of edits) if (src.split(anchor).length !== 2) return `not patched (anchor '${anchor.trim()}' not found once in ${path.basename(file)})`;
  for (const [anchor, code] of edits) src = src.replace(anchor, anchor + code);
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, src);
  fs.renameSync(tmp, file);
  return 'patched';
}

export function build({ flavor = 'cpu', force = false, log = console.log } = {}) {
  const { pkg, wheel: project, needBytes } = FLAVORS[flavor];
  const step = (i, text) => log(`[native] ${i}/5 ${text}`);
  const require = createRequire(path.join(ROOT, 'package.json'));
  const resolvePkg = () => { try { return path.dirname(require.resolve(`${pkg}/package.json`)); } catch { return null; } };
  let pkgDir = resolvePkg();
  if (!pkgDir) {
    // npm 10 runs the package's own install script, which downloads from Google's host and, when
    // that fails, removes the (optional) package. Put it back without its script (npm 11 skips
    // the script itself: package.json's allowScripts denies it).
    const spec = `${pkg}@${JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).optionalDependencies[pkg]}`;
    log(`[native] ${pkg} is not in node_modules (npm 10 removes it when its own download fails): installing ${spec} without its install script`);
    const npmCli = process.env.npm_execpath;
    const [cmd, pre] = npmCli && /\.c?js$/.test(npmCli) ? [process.execPath, [npmCli]] : ['npm', []];
    const r = run(cmd, [...pre, 'install', '--no-save', '--ignore-scripts', '--no-audit', '--no-fund', spec], { cwd: ROOT });
    pkgDir = resolvePkg();
    if (r.status !== 0 || !pkgDir) throw new Missing(`${pkg} is not in node_modules and \`npm install --no-save --ignore-scripts ${spec}\` failed: ${lastLines(r.stderr)}`);
  }
  const pkgJson = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
  const pkgVersion = pkgJson.version;
  // node-pre-gyp builds for (and tfjs-node loads) the highest N-API version both sides support.
  const napi = Math.max(...pkgJson.binary.napi_versions.filter((v) => v <= Number(process.versions.napi)));
  const binding = path.join(pkgDir, 'lib', `napi-v${napi}`, 'tfjs_binding.node');
  const stampFile = path.join(pkgDir, 'deps', '.vq-native-stamp');
  const stamp = `${pkg}@${pkgVersion} ${project}==${TF_VERSION} napi ${napi} ${process.platform}-${process.arch} patch ${BINDING_PATCH}`;
  if (!force && fs.existsSync(binding) && fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8').trim() === stamp) {
    log(`[native] up to date: ${stamp}`);
    return { upToDate: true, stamp };
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Missing(`building from PyPI's wheel is set up for linux-x64 only (this is ${process.platform}-${process.arch})`);
  }
  const t0 = Date.now();
  const py = findPython();
  checkTools();
  const nodeDir = findNodeDir();
  const nodeGyp = findNodeGyp();
  const cache = cacheDir();
  const unpacked = path.join(cache, `${project}-${TF_VERSION}`);
  const wheels = path.join(cache, 'wheels');
  checkDisk(cache, fs.existsSync(path.join(unpacked, '.complete')) ? 0.2e9 : needBytes);
  fs.mkdirSync(wheels, { recursive: true });

  // 1. the wheel(s), once
  const whl = wheel(py, wheels, project, TF_VERSION);
  step(1, `wheel: ${path.basename(whl)} (${mb(fs.statSync(whl).size)}, cached in ${wheels})`);

  // 2. unpack the libraries and headers (and the CUDA libraries) into the cache, once
  if (!fs.existsSync(path.join(unpacked, '.complete'))) {
    fs.rmSync(unpacked, { recursive: true, force: true });
    const r = run(py, ['-c', UNPACK_PY, whl, unpacked, path.join(pkgDir, 'binding'), 'tf']);
    if (r.status !== 0) throw new Missing(`unpacking ${path.basename(whl)} failed: ${lastLines(r.stderr)}`);
    const info = JSON.parse(r.stdout.trim().split('\n').pop());
    if (flavor === 'gpu') {
      if (info.nvidia.length === 0) throw new Missing(`${path.basename(whl)} pins no nvidia-* wheels (TensorFlow < 2.14)`);
      for (const [name, version] of info.nvidia) {
        const w = wheel(py, wheels, name, version);
        const u = run(py, ['-c', UNPACK_PY, w, unpacked, '', 'nvidia']);
        if (u.status !== 0) throw new Missing(`unpacking ${path.basename(w)} failed: ${lastLines(u.stderr)}`);
      }
    }
    fs.writeFileSync(path.join(unpacked, '.complete'), `${info.headers} headers; nvidia: ${info.nvidia.map((p) => p.join('==')).join(' ')}\n`);
  }
  step(2, `unpacked: ${unpacked} (${mb(treeBytes(unpacked))})`);

  // 3. stage deps/ where binding.gyp looks (hard links: no second copy on the same disk)
  const deps = path.join(pkgDir, 'deps');
  fs.rmSync(deps, { recursive: true, force: true });
  fs.mkdirSync(deps, { recursive: true });
  linkTree(unpacked, deps);
  fs.rmSync(path.join(deps, '.complete'), { force: true });
  const lib = path.join(deps, 'lib');
  for (const [link, target] of [
    ['libtensorflow.so', 'libtensorflow_cc.so.2'], // -ltensorflow (binding.gyp)
    ['libtensorflow_framework.so', 'libtensorflow_framework.so.2'],
    ['libtensorflow.so.2.9.1', 'libtensorflow_cc.so.2'], // the file tfjs-node's install.js checks for: it then never downloads
    ['libtensorflow_framework.so.2.9.1', 'libtensorflow_framework.so.2'],
  ]) fs.symlinkSync(target, path.join(lib, link));
  // If tfjs-node's own install script ever runs (npm rebuild with scripts allowed), it builds from
  // these files instead of downloading a prebuilt binding.
  fs.writeFileSync(path.join(pkgDir, 'scripts', 'custom-binary.json'), JSON.stringify({ 'tf-lib': `file://${unpacked} (staged by vq-notebooks scripts/native-build.mjs)` }) + '\n');
  step(3, `staged: ${path.relative(ROOT, deps)} (hard links into the cache)`);

  // 4. build the N-API binding from source, with our patch (list attributes: patchBinding)
  const patched = patchBinding(pkgDir);
  const preGyp = createRequire(path.join(pkgDir, 'package.json')).resolve('@mapbox/node-pre-gyp/bin/node-pre-gyp');
  const env = { ...process.env, npm_config_nodedir: nodeDir, npm_config_node_gyp: nodeGyp, JOBS: String(Math.min(2, os.cpus().length)) };
  const tb = Date.now();
  const r = run(process.execPath, [preGyp, 'install', '--build-from-source', `--nodedir=${nodeDir}`], { cwd: pkgDir, env });
  for (const d of fs.readdirSync(pkgDir)) if (d === 'build' || d.startsWith('build-tmp-napi')) fs.rmSync(path.join(pkgDir, d), { recursive: true, force: true });
  if (r.status !== 0 || !fs.existsSync(binding)) throw new Missing(`building the binding failed: ${lastLines(r.stderr + r.stdout, 4)}`);
  step(4, `built: ${path.relative(ROOT, binding)} in ${((Date.now() - tb) / 1000).toFixed(0)} s (node-gyp, Node headers from ${nodeDir}; binding ${patched})`);

  // 5. smoke test in a fresh process: the backend loads, a conv and its gradient are finite
  const smoke = run(process.execPath, ['-e', `
    const tf = require(${JSON.stringify(pkg)});
    const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 1), w = tf.randomNormal([3, 3, 3, 4], 0, 1, 'float32', 2);
    const g = tf.grad((ww) => tf.conv2d(x, ww, 1, 'same').square().sum())(w);
    if (tf.getBackend() !== 'tensorflow' || !Number.isFinite(g.sum().dataSync()[0])) process.exit(1);
    console.log(tf.backend().binding.TF_Version + ' ' + (tf.backend().binding.isUsingGpuDevice ? (tf.backend().binding.isUsingGpuDevice() ? 'gpu' : 'cpu') : ''));
  `], { cwd: ROOT, env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' } });
  if (smoke.status !== 0) throw new Missing(`the built backend failed its smoke test: ${lastLines(smoke.stderr)}`);
  fs.writeFileSync(stampFile, stamp + '\n');
  step(5, `smoke test passed: conv2d and its gradient on TensorFlow ${smoke.stdout.trim()}; ${((Date.now() - t0) / 1000).toFixed(0)} s in all`);
  return { upToDate: false, stamp };
}

const FLAGS = { gpu: { type: 'boolean' }, force: { type: 'boolean' }, postinstall: { type: 'boolean' } };

/**
 * The flags of the command line (see the header): --gpu, --force, --postinstall. Anything else
 * (another option, a value such as --gpu=1, a positional argument) is an error naming the first.
 */
export function parseFlags(argv) {
  const { values, tokens } = parseArgs({ args: argv, options: FLAGS, strict: false, allowPositionals: true, tokens: true });
  const bad = tokens.find((t) => t.kind !== 'option' || !Object.hasOwn(FLAGS, t.name) || t.value !== undefined);
  if (bad) throw new Error(`native-build: unknown argument ${argv[bad.index]} (expected --gpu, --force, --postinstall)`);
  return { gpu: values.gpu === true, force: values.force === true, postinstall: values.postinstall === true };
}

function main() {
  let flags;
  try {
    flags = parseFlags(process.argv.slice(2));
  } catch (e) {
    console.error(e.message);
    process.exit(2);
  }
  const flavor = flags.gpu ? 'gpu' : 'cpu';
  const postinstall = flags.postinstall;
  if (process.env.VQ_NATIVE === '0') {
    console.log('[native] skipped: VQ_NATIVE=0 (the notebooks run on wasm)');
    return;
  }
  try {
    build({ flavor, force: flags.force });
  } catch (e) {
    const what = flavor === 'gpu' ? 'the GPU backend (tfjs-node-gpu)' : 'the native backend (tfjs-node)';
    console.log(`[native] ${what} was not built: ${e instanceof Missing ? e.message : e.stack}`);
    if (postinstall) {
      console.log('[native] the notebooks run on wasm meanwhile; once fixed, `npm run setup:native` builds it (VQ_NATIVE=0 skips this step)');
      return;
    }
    process.exit(1);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
