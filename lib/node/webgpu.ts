/**
 * The `webgpu` backend under Node: TensorFlow.js's own WebGPU backend
 * (@tensorflow/tfjs-backend-webgpu 4.22.0, the one a browser runs) on Dawn's Node binding (npm
 * `webgpu` 0.6.2, whose dawn.node carries Dawn: Vulkan on Linux, Metal on a Mac, D3D12 on
 * Windows). Neither package is a dependency: `npm run setup:webgpu` installs both (~150 MB, as the
 * `webgpu` package holds dawn.node for every platform). initBackend never tries it on its own, only
 * when named: $VQ_BACKEND=webgpu or initBackend('webgpu').
 *
 * Start-up, each failure one line (the reason initBackend reports):
 *   1. find Dawn: $VQ_DAWN_NODE (a dawn.node file, or a module exporting { create, globals }), else
 *      the `webgpu` package's dawn.node for this platform;
 *   2. ask Dawn for an adapter in a child process, so that Dawn's own warnings (printed by native
 *      code on stderr) become the reason when there is none ("no WebGPU adapter from Dawn: ...");
 *   3. load @tensorflow/tfjs-backend-webgpu (its kernels register with this tfjs-core);
 *   4. in this process: Dawn's globals (GPUBufferUsage, ...) and navigator.gpu, the adapter, a
 *      device with the limits tfjs asks for in a browser, and the backend.
 *
 * $VQ_DAWN_FLAGS: Dawn options for create(), separated by ';' (e.g. "backend=vulkan" or
 * "adapter=NVIDIA H100 80GB HBM3"; see the `webgpu` package's README).
 * $VQ_WEBGPU_FEATURE_LEVEL: 'core' (default, what a browser's tfjs asks for) or 'compatibility'
 * (WebGPU's compatibility mode: what Dawn's OpenGL backend offers, e.g. on Mesa's llvmpipe with
 * VQ_DAWN_FLAGS=backend=opengl, a CPU stand-in that runs the real backend's shaders slowly).
 *
 * Dawn keeps a Node process alive while navigator.gpu holds it: a script that ran on webgpu ends
 * with process.exit() (or stopWebgpu()).
 */
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** The two packages, at the versions this library was written against (tfjs-core is 4.22.0). */
export const WEBGPU_PACKAGES = { dawn: 'webgpu@0.6.2', backend: '@tensorflow/tfjs-backend-webgpu@4.22.0' } as const;

const SETUP_HINT = '`npm run setup:webgpu` installs them';

/** What Dawn's Node binding gives: a navigator.gpu factory and the WebGPU globals. */
interface DawnModule {
  create(flags: string[]): { requestAdapter(opts?: Record<string, unknown>): Promise<DawnAdapter | null> };
  globals: Record<string, unknown>;
}

interface DawnAdapter {
  features: { has(name: string): boolean };
  limits: Record<string, number>;
  info?: { vendor?: string; architecture?: string; device?: string; description?: string };
  requestDevice(desc: Record<string, unknown>): Promise<unknown>;
}

/** What the adapter probe found: the adapter's info, or null and Dawn's stderr. */
export interface DawnProbe {
  adapter: { vendor: string; architecture: string; device: string; description: string } | null;
  /** Dawn's messages (stderr of the probe), for the reason when there is no adapter. */
  stderr: string;
  /** Exit status of the probe (0 when it ran to the end, adapter or not). */
  status: number | null;
}

/** One line of failure, with no stack: initBackend's reason. */
class WebgpuUnavailable extends Error {}

/** The Dawn options of $VQ_DAWN_FLAGS ('' or unset: none). */
export function parseDawnFlags(value: string | undefined): string[] {
  return (value ?? '').split(';').map((s) => s.trim()).filter((s) => s !== '');
}

/** The adapter's feature level, from $VQ_WEBGPU_FEATURE_LEVEL. */
export function featureLevel(value: string | undefined = process.env.VQ_WEBGPU_FEATURE_LEVEL): 'core' | 'compatibility' {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '' || v === 'core') return 'core';
  if (v === 'compatibility') return 'compatibility';
  throw new WebgpuUnavailable(`VQ_WEBGPU_FEATURE_LEVEL: expected core or compatibility, got ${JSON.stringify(value)}`);
}

/** dawn.node's folder name inside the `webgpu` package for this platform. */
function platformDir(): string {
  return `${process.platform}-${process.platform === 'darwin' ? 'universal' : process.arch}`;
}

/** The Dawn binding to load: $VQ_DAWN_NODE, else the `webgpu` package's dawn.node. Throws one line. */
export function locateDawn(): string {
  const env = process.env.VQ_DAWN_NODE;
  if (env !== undefined && env.trim() !== '') {
    const p = path.resolve(env.trim());
    if (!fs.existsSync(p)) throw new WebgpuUnavailable(`VQ_DAWN_NODE: no such file ${p}`);
    return p;
  }
  let pkg: string;
  try {
    pkg = require.resolve('webgpu/package.json');
  } catch {
    throw new WebgpuUnavailable(`not installed (needs ${WEBGPU_PACKAGES.dawn} and ${WEBGPU_PACKAGES.backend}; ${SETUP_HINT})`);
  }
  const p = path.join(path.dirname(pkg), 'dist', platformDir(), 'dawn.node');
  if (!fs.existsSync(p)) throw new WebgpuUnavailable(`the webgpu package has no dawn.node for ${platformDir()} (${p})`);
  return p;
}

/** Runs in the probe's child: load Dawn, ask for an adapter, print its info as JSON (null for none). */
const PROBE_SOURCE = `
const [file, flags, level] = process.argv.slice(1);
const dawn = require(file);
Object.assign(globalThis, dawn.globals);
const gpu = dawn.create(JSON.parse(flags));
gpu.requestAdapter({ powerPreference: 'high-performance', featureLevel: level }).then((a) => {
  const i = (a && a.info) || {};
  const s = (v) => (typeof v === 'string' ? v : '');
  process.stdout.write(JSON.stringify(a ? { vendor: s(i.vendor), architecture: s(i.architecture), device: s(i.device), description: s(i.description) } : null) + '\\n');
  process.exit(0);
}, (e) => { process.stderr.write('requestAdapter rejected: ' + (e && e.message) + '\\n'); process.exit(3); });
`;

/** Ask Dawn for an adapter in a child process (Dawn prints its reasons on stderr, natively). */
export function probeDawn(file: string, flags: string[] = parseDawnFlags(process.env.VQ_DAWN_FLAGS), level = featureLevel()): DawnProbe {
  const r = spawnSync(process.execPath, ['-e', PROBE_SOURCE, file, JSON.stringify(flags), level], {
    encoding: 'utf8', timeout: 120_000, env: { XDG_RUNTIME_DIR: '/tmp', ...process.env },
  });
  const stderr = `${r.stderr ?? ''}${r.error ? `\n${r.error.message}` : ''}`;
  const last = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  let adapter: DawnProbe['adapter'] = null;
  if (r.status === 0) {
    try {
      adapter = JSON.parse(last) as DawnProbe['adapter'];
    } catch {
      adapter = null;
    }
  }
  return { adapter, stderr, status: r.status };
}

/**
 * Dawn's reason in one line, from the probe's stderr: its warnings and errors without the source
 * locations ("at operator() (.../BackendVk.cpp:368)"), joined with '; ', at most 300 characters.
 */
export function dawnReason(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^at\s/.test(l) && !/^\s*\^+\s*$/.test(l) && !/^Node\.js v/.test(l))
    .map((l) => l.replace(/^(Warning|Error):\s*/, '').replace(/^-\s+/, '').replace(/\.$/, ''));
  const unique = [...new Set(lines)];
  const text = unique.join('; ').replace(/\s+/g, ' ');
  return text === '' ? 'Dawn gave no reason' : text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

let gpuHandle: unknown = null;
let adapterLine = '';

/** ", Dawn: <vendor> <architecture> (<description>)" for initBackend's summary, '' before a start. */
export function webgpuDetail(): string {
  return adapterLine === '' ? '' : `, Dawn: ${adapterLine}`;
}

function describeAdapter(a: NonNullable<DawnProbe['adapter']>): string {
  const name = [a.vendor, a.architecture].filter((s) => s !== '').join(' ');
  const desc = a.description !== '' ? a.description : a.device;
  return [name, desc !== '' ? `(${desc})` : ''].filter((s) => s !== '').join(' ') || 'adapter with no info';
}

/** Make 'webgpu' tf's backend, on Dawn. Throws an error whose message is one line saying why not. */
export async function startWebgpu(): Promise<void> {
  const file = locateDawn();
  const flags = parseDawnFlags(process.env.VQ_DAWN_FLAGS);
  const level = featureLevel();
  const probe = probeDawn(file, flags, level);
  if (probe.status !== 0) throw new WebgpuUnavailable(`Dawn failed to start (${file}): ${dawnReason(probe.stderr)}`);
  if (probe.adapter === null) {
    throw new WebgpuUnavailable(`no WebGPU adapter${level === 'core' ? '' : ` (${level})`} from Dawn: ${dawnReason(probe.stderr)}`);
  }

  let backendPkg: { WebGPUBackend: new (device: unknown, adapterInfo?: unknown) => tf.KernelBackend };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    backendPkg = require('@tensorflow/tfjs-backend-webgpu');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && /tfjs-backend-webgpu/.test((e as Error).message)) {
      throw new WebgpuUnavailable(`${WEBGPU_PACKAGES.backend} not installed (${SETUP_HINT})`);
    }
    throw e;
  }
  // Its readSync (dataSync, arraySync) reads through an OffscreenCanvas, which Node lacks: say so.
  const proto = backendPkg.WebGPUBackend.prototype as unknown as { readSync(dataId: unknown): unknown; vqPatched?: boolean };
  if (typeof (globalThis as { OffscreenCanvas?: unknown }).OffscreenCanvas === 'undefined' && !proto.vqPatched) {
    const readSync = proto.readSync;
    proto.readSync = function (this: unknown, dataId: unknown) {
      try {
        return readSync.call(this, dataId);
      } catch (e) {
        if (!/OffscreenCanvas/.test((e as Error).message)) throw e;
        throw new Error('webgpu under Node cannot read a tensor synchronously (dataSync, arraySync): tfjs-backend-webgpu reads through an OffscreenCanvas, which Node lacks; use await data() or array()');
      }
    };
    proto.vqPatched = true;
  }
  if (!tf.getKernel('Conv2DBackpropFilter', 'webgpu')) {
    throw new WebgpuUnavailable('@tensorflow/tfjs-backend-webgpu registered its kernels with another copy of @tensorflow/tfjs-core (versions differ?)');
  }

  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dawn = require(file) as DawnModule;
  const g = globalThis as unknown as Record<string, unknown> & { navigator?: Record<string, unknown> };
  for (const [k, v] of Object.entries(dawn.globals)) if (!(k in g)) g[k] = v;
  const gpu = dawn.create(flags);
  gpuHandle = gpu;
  if (g.navigator === undefined) g.navigator = {};
  Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true });

  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', async () => {
    // As the package registers it in a browser (@tensorflow/tfjs-backend-webgpu/src/base.ts).
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance', featureLevel: level });
    if (!adapter) throw new Error('no WebGPU adapter from Dawn in this process (the probe found one)');
    const lim = adapter.limits;
    const device = await adapter.requestDevice({
      requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
      requiredLimits: {
        maxComputeWorkgroupStorageSize: lim.maxComputeWorkgroupStorageSize,
        maxComputeWorkgroupsPerDimension: lim.maxComputeWorkgroupsPerDimension,
        maxStorageBufferBindingSize: lim.maxStorageBufferBindingSize,
        maxBufferSize: lim.maxBufferSize,
        maxComputeWorkgroupSizeX: lim.maxComputeWorkgroupSizeX,
        maxComputeInvocationsPerWorkgroup: lim.maxComputeInvocationsPerWorkgroup,
      },
    });
    return new backendPkg.WebGPUBackend(device, adapter.info);
  }, 0 /* below every other backend: tfjs never picks it by itself */);
  if (!(await tf.setBackend('webgpu'))) throw new WebgpuUnavailable('webgpu backend failed to initialise (see the error tfjs printed above)');
  adapterLine = describeAdapter(probe.adapter) + (level === 'core' ? '' : `, ${level} mode`);
}

/** Let the process end after a run on webgpu: drop the backend and Dawn's navigator.gpu. */
export function stopWebgpu(): void {
  if (tf.findBackend('webgpu')) tf.removeBackend('webgpu');
  const nav = (globalThis as unknown as { navigator?: Record<string, unknown> }).navigator;
  if (nav && nav.gpu === gpuHandle) delete nav.gpu;
  gpuHandle = null;
}
