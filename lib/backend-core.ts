/**
 * Compute backend selection that runs wherever TensorFlow.js runs (a page, a worker, Node): the
 * loop that tries backends in order, keeps the first that loads and names every one that did not
 * in one line. On its own (lib/core.ts) it tries wasm (with lib/wasm's training kernels), then
 * webgl, then the pure-JS cpu backend. lib/backend.ts, Node's side, installs its own host at load:
 * tfjs-node-gpu, tfjs-node, wasm on several threads, cpu, $VQ_BACKEND, and webgpu (Dawn) by name only.
 *
 * In a browser the wasm backend fetches its .wasm files from the page's folder unless told
 * otherwise: call `setWasmPaths` from @tensorflow/tfjs-backend-wasm before initBackend.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmKernels, wasmThreadsInUse } from './wasm/index';
import { registerReductionGradients } from './nn/gradients';
import { checkOneOf, checkOptionNames } from './validate';

/**
 * A backend initBackend can pick: native TensorFlow (Node, GPU or CPU), wasm, WebGL (browsers),
 * WebGPU (Node, on Dawn; only when named) or pure JS.
 */
export type BackendChoice = 'node-gpu' | 'node' | 'wasm' | 'webgl' | 'webgpu' | 'cpu';

/** One backend initBackend tried. */
export interface BackendAttempt {
  choice: BackendChoice;
  ok: boolean;
  /** Why it failed (one line), or '' when it loaded. */
  reason: string;
}

/** What initBackend chose, and what it tried first. */
export interface BackendInfo {
  /** The choice that loaded. */
  choice: BackendChoice;
  /** tf.getBackend() after selection: 'tensorflow', 'wasm', 'webgl', 'webgpu' or 'cpu'. */
  tfBackend: string;
  attempts: BackendAttempt[];
  /**
   * Human-readable: the chosen backend, then one line per backend that failed to load, e.g.
   * "backend: wasm (tfjs 4.22.0)\n  skipped node-gpu: not installed\n  skipped node: not installed".
   */
  summary: string;
}

/** Where initBackend runs: the backends it tries, in order, and how it loads each. */
export interface BackendHost {
  /** The choices, fastest first. */
  readonly order: readonly BackendChoice[];
  /** Choices tried only when named (initBackend's `prefer`, or the override), never in `order`'s turn. */
  readonly byName?: readonly BackendChoice[];
  /** Make `choice` tf's backend; throws when it cannot (the message's first line is the reason). */
  load(choice: BackendChoice): Promise<void>;
  /** What the summary says after tf.getBackend(), e.g. ", 2 thread(s)" ('' for nothing). */
  detail(choice: BackendChoice): string;
  /** One line saying why `choice` failed to load. */
  reason(choice: BackendChoice, e: unknown): string;
  /** The choice to try first when initBackend was given none (Node: $VQ_BACKEND), or null. */
  override(): BackendChoice | null;
  /** Runs before the first selection (e.g. to adopt a backend tfjs started by itself). */
  prepare(): Promise<void>;
}

/** The first non-empty line of an error's message, at most 200 characters. */
export function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const first = msg.split('\n').find((l) => l.trim() !== '') ?? msg;
  return first.trim().slice(0, 200);
}

/**
 * A tf op that ran before initBackend made tfjs pick its highest-priority registered backend by
 * itself; let that start finish so that selection proceeds as if initBackend had come first (the
 * early tensors stay valid: tfjs moves their data to the backend chosen). Returns whether there
 * was one.
 */
export async function settleLazyBackend(): Promise<boolean> {
  // (both are undefined, not null, on a fresh engine)
  const engine = tf.engine() as unknown as { backendName?: string | null; pendingBackendInit?: Promise<unknown> | null };
  if (!engine.backendName && !engine.pendingBackendInit) return false;
  try {
    await tf.ready();
  } catch {
    // the lazy start failed: selection tries every backend anyway
  }
  return true;
}

async function setBackendOrThrow(name: string): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`${name} backend failed to initialise`);
}

/**
 * Start the pure-JS cpu backend, without its one-time "install our node backend" banner (tfjs
 * prints it on first use unless in prod mode, which we do not set): initBackend's summary
 * already says which backend runs and why.
 */
export async function startCpuBackend(): Promise<void> {
  await setBackendOrThrow('cpu');
  (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
}

/** The host outside Node: wasm (single-threaded unless the page set it up otherwise), webgl, cpu. */
const BROWSER_HOST: BackendHost = {
  order: ['wasm', 'webgl', 'cpu'],
  async load(choice) {
    switch (choice) {
      case 'wasm':
        await setBackendOrThrow('wasm');
        registerWasmKernels();
        return;
      case 'webgl':
        await setBackendOrThrow('webgl');
        return;
      case 'cpu':
        await startCpuBackend();
        return;
      default:
        throw new Error(`${choice} needs Node (use the package's main entry there)`);
    }
  },
  detail: (choice) => (choice === 'wasm' ? `, ${wasmThreadsInUse() ?? 1} thread(s)` : ''),
  reason: (_choice, e) => firstLine(e),
  override: () => null,
  prepare: async () => {
    await settleLazyBackend();
  },
};

let host: BackendHost = BROWSER_HOST;
let selected: BackendInfo | null = null;

/** Replace the host initBackend selects with (lib/backend.ts does, for Node). */
export function setBackendHost(h: BackendHost): void {
  host = h;
}

/** The backends initBackend tries here, fastest first. */
export function backendOrder(): readonly BackendChoice[] {
  return host.order;
}

/** Every choice initBackend accepts here: the order, then those it tries only when named. */
export function backendChoices(): readonly BackendChoice[] {
  return [...host.order, ...(host.byName ?? []).filter((c) => !host.order.includes(c))];
}

/**
 * Select the fastest backend that loads (or `prefer`, or $VQ_BACKEND under Node) and return what
 * happened. Idempotent: a second call with no argument returns the first result.
 *
 * @param prefer force a choice first (falls through to the rest of the order when it fails); under
 *   Node also 'webgpu', which is never tried unless named here or in $VQ_BACKEND
 * @param opts.verbose print each failed backend's one-line reason as it happens (the reasons are
 *   always in the returned summary, which notebooks print in their first cell)
 */
export async function initBackend(
  prefer?: BackendChoice,
  opts: { verbose?: boolean; quiet?: boolean } = {},
): Promise<BackendInfo> {
  if (prefer !== undefined) checkOneOf('initBackend(prefer)', prefer, backendChoices());
  checkOptionNames('initBackend(prefer, options)', opts, ['verbose', 'quiet']);
  if (selected && prefer === undefined) return selected;
  // No tf.enableProdMode(): in tfjs 4.22 it only silences tfjs's console warnings (measured: the same
  // ms per VQ-VAE step with and without it). Ragged nested arrays are refused instead of silently
  // truncated (tf.tensor([[0], [1, 2]]) → [[0], [1]]): a check at tensor creation from JS arrays only.
  tf.env().set('TENSORLIKE_CHECK_SHAPE_CONSISTENCY', true);
  registerReductionGradients(); // every backend: mean's and sum's gradients without a tensor of ones (lib/nn/gradients.ts)
  if (!selected) await host.prepare();
  const override = prefer ?? host.override();
  const order: BackendChoice[] = override
    ? [override, ...host.order.filter((c) => c !== override)]
    : [...host.order];
  const attempts: BackendAttempt[] = [];
  for (const choice of order) {
    try {
      await host.load(choice);
      attempts.push({ choice, ok: true, reason: '' });
      const failed = attempts.filter((a) => !a.ok).map((a) => `\n  skipped ${a.choice}: ${a.reason}`);
      selected = {
        choice,
        tfBackend: tf.getBackend(),
        attempts,
        summary:
          `backend: ${choice} (tfjs ${tf.version.tfjs}, tf.getBackend() = '${tf.getBackend()}'${host.detail(choice)})` +
          failed.join(''),
      };
      return selected;
    } catch (e) {
      const reason = host.reason(choice, e);
      attempts.push({ choice, ok: false, reason });
      if (opts.verbose && !opts.quiet) console.warn(`[backend] ${choice} unavailable: ${reason}`);
    }
  }
  throw new Error(`no TensorFlow.js backend could be loaded: ${attempts.map((a) => `${a.choice}: ${a.reason}`).join('; ')}`);
}

/** The backend chosen by initBackend, or null before it ran. */
export function backendInfo(): BackendInfo | null {
  return selected;
}
