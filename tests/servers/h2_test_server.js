// HTTP/2 over TLS for std/http/client's tests (scripts/test-servers):
//   node h2_test_server.js PORT CERT KEY
// Every answer says which protocol and which connection carried it.
'use strict';
const fs = require('fs');
const http2 = require('http2');

const [port, cert, key] = process.argv.slice(2);
let sessions = 0;
const server = http2.createSecureServer({
  cert: fs.readFileSync(cert),
  key: fs.readFileSync(key),
  allowHTTP1: true,
});
server.on('session', (session) => { session.questId = ++sessions; });
server.on('request', (req, res) => {
  const delay = Number(new URL(req.url, 'https://x').searchParams.get('ms') || 0);
  setTimeout(() => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({
      version: req.httpVersion,
      session: req.stream && req.stream.session ? req.stream.session.questId : 0,
    }));
  }, delay);
});
server.listen(Number(port), '127.0.0.1');
