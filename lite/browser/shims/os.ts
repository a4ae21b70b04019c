/** `os` in the browser: what the library asks (core count for wasm threads, free memory). */
const cores = () => (typeof navigator !== 'undefined' && navigator.hardwareConcurrency) || 1;
export const availableParallelism = cores;
export const cpus = () => Array.from({ length: cores() }, () => ({ model: 'browser', speed: 0, times: { user: 0, nice: 0, sys: 0, idle: 0, irq: 0 } }));
// wasm's heap stops at 4 GiB (the module aborts): the quantizers' memory guard plans below that
export const freemem = () => 2 * 1024 ** 3;
export const totalmem = () => 4 * 1024 ** 3;
export const tmpdir = () => '/tmp';
export const platform = () => 'browser';
export const EOL = '\n';
export default { availableParallelism, cpus, freemem, totalmem, tmpdir, platform, EOL };
