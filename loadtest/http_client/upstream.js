// The upstream both proxies call: a small JSON answer, keep-alive.
//   node upstream.js PORT
'use strict';
const http = require('http');

const body = JSON.stringify({ id: 42, name: 'upstream', tags: ['a', 'b', 'c'] });
http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}).listen(Number(process.argv[2]), '127.0.0.1');
