/**
 * node:child_process in the browser: there is nothing to spawn. The library imports it only for the Node-side
 * WebGPU probe (lib/node/webgpu.ts, which asks Dawn for an adapter in a child process); in a page that code never
 * runs, and calling it says why.
 */
export function spawnSync(): never {
  throw new Error('child_process.spawnSync is not available in the browser (the WebGPU route under Node only)');
}
export default { spawnSync };
