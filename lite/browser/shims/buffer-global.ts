/** Node's global `Buffer` for the browser bundle (esbuild inject: free `Buffer` names use this). */
export { Buffer } from 'buffer';
