/**
 * JupyterLite plugin: registers the TypeScript kernel (./kernel) with JupyterLite's kernel specs.
 *
 * Settings, in the site's jupyter-lite.json under
 * `litePluginSettings["@vq-notebooks/jupyterlite-typescript-kernel:kernel"]`:
 *   name          kernelspec name (default "tslab", so notebooks saved with tslab open with it)
 *   displayName   (default "TypeScript (browser)")
 *   modules       import specifier → ES module URL relative to the site root, `#name` for one
 *                 export (e.g. {"../dist/lib/index.js": "vq/vq-notebooks.js"})
 *   env           process.env for cells (strings); the page's URL can add to it with
 *                 `env.NAME=value` query parameters (e.g. `?path=…&env.VQ_TEST=1`)
 *   interruptGraceMs  how long an interrupted cell may take to stop before the worker restarts
 *   workerUrl     override the worker script's URL
 *
 * JupyterLite 0.8's kernel client only cancels queued cells on interrupt; this plugin wraps the
 * client's `interrupt` so the running cell is stopped too (TypeScriptKernel.interrupt).
 */
import { IKernelClient, IKernelSpecs } from '@jupyterlite/services';
import { TypeScriptKernel } from './kernel';
import type { ModuleMap } from './protocol';

export { TypeScriptKernel } from './kernel';

const PLUGIN_ID = '@vq-notebooks/jupyterlite-typescript-kernel:kernel';

declare const __webpack_public_path__: string;

interface Settings {
  name?: string;
  displayName?: string;
  modules?: ModuleMap;
  env?: Record<string, string>;
  interruptGraceMs?: number;
  workerUrl?: string;
}

/** JupyterLite's merged page config (jupyter-lite.json files), as PageConfig reads it. */
function pageConfig(): Record<string, unknown> {
  const el = document.getElementById('jupyter-config-data');
  try {
    return el?.textContent ? (JSON.parse(el.textContent) as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

const ICON =
  'data:image/svg+xml;base64,' +
  btoa(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="6" fill="#3178c6"/>' +
      '<text x="34" y="54" font-family="Arial,Helvetica,sans-serif" font-size="30" font-weight="bold" fill="#fff">TS</text></svg>',
  );

const plugin = {
  id: PLUGIN_ID,
  description: 'A TypeScript kernel running cells in a Web Worker',
  autoStart: true,
  requires: [IKernelSpecs],
  optional: [IKernelClient],
  activate: (_app: unknown, kernelspecs: IKernelSpecs, kernelClient: IKernelClient | null) => {
    const config = pageConfig();
    const settings = ((config.litePluginSettings as Record<string, Settings> | undefined) ?? {})[PLUGIN_ID] ?? {};
    const siteBase = new URL(String(config.baseUrl ?? './'), location.href).href;
    const staticDir =
      typeof __webpack_public_path__ === 'string' && __webpack_public_path__ !== '' ? new URL(__webpack_public_path__, location.href).href : null;
    const workerUrl = settings.workerUrl
      ? new URL(settings.workerUrl, siteBase).href
      : new URL('worker.js', staticDir ?? new URL('extensions/@vq-notebooks/jupyterlite-typescript-kernel/static/', siteBase)).href;
    const kernels = new Map<string, TypeScriptKernel>();
    // read once at start-up, before the app rewrites its URL
    const queryEnv: Record<string, string> = {};
    for (const [k, v] of new URLSearchParams(location.search)) if (k.startsWith('env.')) queryEnv[k.slice(4)] = v;

    if (kernelClient) {
      const client = kernelClient as unknown as { interrupt: (id: string) => Promise<void> };
      const original = client.interrupt.bind(client);
      client.interrupt = async (id: string) => {
        kernels.get(id)?.interrupt();
        return original(id);
      };
    }

    kernelspecs.register({
      spec: {
        name: settings.name ?? 'tslab',
        display_name: settings.displayName ?? 'TypeScript (browser)',
        language: 'typescript',
        argv: [],
        resources: { 'logo-32x32': ICON, 'logo-64x64': ICON },
      },
      create: async (options) => {
        const kernel = new TypeScriptKernel({
          ...options,
          workerUrl,
          baseUrl: siteBase,
          modules: settings.modules ?? {},
          env: { ...(settings.env ?? {}), ...queryEnv },
          interruptGraceMs: settings.interruptGraceMs ?? 5000,
        });
        kernels.set(options.id, kernel);
        kernel.disposed.connect(() => kernels.delete(options.id));
        return kernel;
      },
    });
  },
};

export default [plugin];
