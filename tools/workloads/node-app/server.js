'use strict';
// The node image's test app: what small Node.js services do per request, and stats the soak reads.
//   /          JSON hello            /work?n=N  allocate and serialise N objects (garbage)
//   /hash      crypto.pbkdf2 on libuv's thread pool      /gzip  zlib of a text
//   /file      write, read and remove a file in /tmp     /worker  one worker thread, started and ended
//   /health    ok                    /stats     garbage collections and worker threads so far
const http = require('http');
const crypto = require('crypto');
const fs = require('fs/promises');
const os = require('os');
const path = require('path');
const zlib = require('zlib');
const { Worker } = require('worker_threads');
const { PerformanceObserver } = require('perf_hooks');

const stats = { gc: 0, workers: 0, requests: 0 };
new PerformanceObserver((list) => { stats.gc += list.getEntries().length; }).observe({ entryTypes: ['gc'] });
const text = 'lorem ipsum dolor sit amet\n'.repeat(2000);

function send(res, code, body, type = 'application/json') {
  res.writeHead(code, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

const routes = {
  '/': async () => JSON.stringify({ hello: 'seccompose', pid: process.pid }),
  '/health': async () => 'ok',
  '/stats': async () => JSON.stringify({ ...stats, memory: process.memoryUsage().heapUsed }),
  '/work': async (url) => {
    const n = Number(url.searchParams.get('n') || 1000);
    const rows = Array.from({ length: n }, (_, i) => ({ i, pad: 'x'.repeat(64), at: Date.now() }));
    return JSON.stringify({ rows: rows.length, size: JSON.stringify(rows).length });
  },
  '/hash': () => new Promise((resolve, reject) => {
    crypto.pbkdf2('seccompose', crypto.randomBytes(16), 2000, 32, 'sha256',
      (err, key) => (err ? reject(err) : resolve(JSON.stringify({ key: key.toString('hex') }))));
  }),
  '/file': async () => {
    const file = path.join(os.tmpdir(), `sc-${process.pid}-${crypto.randomUUID()}`);
    await fs.writeFile(file, text);
    const back = await fs.readFile(file, 'utf8');
    await fs.unlink(file);
    return JSON.stringify({ bytes: back.length });
  },
  '/worker': () => new Promise((resolve, reject) => {
    const worker = new Worker('let s = 0; for (let i = 0; i < 1e6; i++) s += i; require("worker_threads").parentPort.postMessage(s);',
      { eval: true });
    stats.workers += 1;
    worker.once('message', (s) => resolve(JSON.stringify({ sum: s })));
    worker.once('error', reject);
  }),
};

const server = http.createServer(async (req, res) => {
  stats.requests += 1;
  const url = new URL(req.url, 'http://localhost');
  try {
    if (url.pathname === '/gzip') {
      const body = zlib.gzipSync(text);
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Encoding': 'gzip', 'Content-Length': body.length });
      res.end(body);
      return;
    }
    const route = routes[url.pathname];
    if (!route) { send(res, 404, '{"error":"not found"}'); return; }
    send(res, 200, await route(url), url.pathname === '/health' ? 'text/plain' : 'application/json');
  } catch (err) {
    send(res, 500, JSON.stringify({ error: String(err) }));
  }
});

server.keepAliveTimeout = 5000;
server.listen(Number(process.env.PORT || 3000), () => console.log(`listening on ${server.address().port}`));
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => { console.log(`${signal}: closing`); server.close(() => process.exit(0)); server.closeAllConnections(); });
}
