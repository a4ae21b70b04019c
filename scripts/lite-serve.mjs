#!/usr/bin/env node
/**
 * `npm run lite:serve`: serves the JupyterLite site in dist/lite/ on localhost with the headers
 * that make the page cross-origin isolated (COOP same-origin + COEP require-corp), so that
 * SharedArrayBuffer exists: tfjs's wasm backend then runs its threaded SIMD build, and the
 * kernel's interrupt reaches a running loop through shared memory. Prints the URL.
 *
 *   npm run lite:serve                       http://127.0.0.1:8765/ (or the next free port)
 *   npm run lite:serve -- --port 9000
 *   npm run lite:serve -- --no-isolation     without COOP/COEP (the fallbacks: one wasm
 *                                            thread, interrupts by message)
 *
 * Also a module: startLiteServer({ root, port, isolation }) → { url, notFound (paths answered 404),
 * close() } (the browser test).
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT } from './files.mjs';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.ipynb': 'application/json; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
  '.bin': 'application/octet-stream',
};

/** The headers that make a page cross-origin isolated (docs/jupyterlite.md lists them per host). */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export function startLiteServer({ root = path.join(ROOT, 'dist', 'lite'), port = 8765, host = '127.0.0.1', isolation = true, tries = 20 } = {}) {
  if (!fs.existsSync(path.join(root, 'index.html'))) throw new Error(`${path.relative(ROOT, root) || root}/index.html is missing: run \`npm run lite\` first`);
  const base = fs.realpathSync(root);
  const notFound = [];
  const server = http.createServer((req, res) => {
    const headers = { 'Cache-Control': 'no-cache', ...(isolation ? ISOLATION_HEADERS : {}) };
    let rel;
    try {
      rel = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    } catch {
      res.writeHead(400, headers).end('bad request');
      return;
    }
    let file = path.join(base, rel);
    if (!file.startsWith(base)) {
      res.writeHead(403, headers).end('forbidden');
      return;
    }
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
    if (!fs.existsSync(file)) {
      notFound.push(rel);
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    const type = TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
    res.writeHead(200, { ...headers, 'Content-Type': type, 'Content-Length': fs.statSync(file).size });
    if (req.method === 'HEAD') res.end();
    else fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    let p = port;
    const attempt = () => {
      server.once('error', (e) => {
        if (e.code === 'EADDRINUSE' && p < port + tries) {
          p++;
          attempt();
        } else reject(e);
      });
      server.listen(p, host, () => {
        const addr = server.address();
        resolve({ url: `http://${host}:${addr.port}/`, port: addr.port, notFound, close: () => new Promise((r) => server.close(() => r())), server });
      });
    };
    attempt();
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const portArg = args.indexOf('--port');
  const port = portArg >= 0 ? Number(args[portArg + 1]) : 8765;
  const isolation = !args.includes('--no-isolation');
  startLiteServer({ port, isolation }).then(
    ({ url }) => {
      console.log(`[lite] serving dist/lite/ ${isolation ? 'cross-origin isolated (COOP/COEP)' : 'WITHOUT cross-origin isolation'}`);
      console.log(`[lite] open ${url}lab/index.html?path=notebooks/01-vq-theory.ipynb`);
      console.log('[lite] Ctrl-C stops the server');
    },
    (e) => {
      console.error(`[lite] ${e.message}`);
      process.exit(1);
    },
  );
}
