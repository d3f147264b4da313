// Node.js http peer for loadtest/http/run.sh: "/" answers the 13-byte
// text/plain body, "/json" a three-field object serialized per request.
//   node node-http.js PORT [WORKERS]
// With WORKERS > 1 the primary forks that many node:cluster workers sharing
// the port, and stops them on SIGTERM.
'use strict';
const http = require('node:http');
const cluster = require('node:cluster');

const port = +process.argv[2];
const workers = +(process.argv[3] || 1);

function serve() {
  const hello = 'Hello, World!';
  http.createServer((req, res) => {
    if (req.url === '/json') {
      const body = JSON.stringify({ message: 'Hello, World!', id: 42, ok: true });
      res.writeHead(200, { 'Content-Type': 'application/json',
                           'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    } else {
      res.writeHead(200, { 'Content-Type': 'text/plain',
                           'Content-Length': hello.length });
      res.end(hello);
    }
  }).listen(port, '127.0.0.1');
}

if (workers > 1 && cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
  process.on('SIGTERM', () => {
    for (const id in cluster.workers) cluster.workers[id].kill('SIGTERM');
    process.exit(0);
  });
} else {
  serve();
}
