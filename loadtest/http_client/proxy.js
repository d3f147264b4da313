// The peer of app.q: every request awaits one fetch() of the upstream
// and answers with a field of its JSON.
//   node proxy.js PORT UPSTREAM_URL
'use strict';
const http = require('http');

const upstream = process.argv[3];
http.createServer(async (req, res) => {
  try {
    const r = await fetch(upstream);
    const data = await r.json();
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`upstream said ${data.name} (${r.status})`);
  } catch (e) {
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(String(e));
  }
}).listen(Number(process.argv[2]), '127.0.0.1');
