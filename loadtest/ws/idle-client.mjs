#!/usr/bin/env node
// Holds many idle WebSocket connections open, for measuring a server's
// memory per connection (loadtest/ws/run.sh reads the server's RSS while
// they are held).  No dependencies: RFC 6455 handshake over node:net.
//
//   node idle-client.mjs --url ws://127.0.0.1:8090/ --conns 10000 --hold 5
//
// Prints "opened N" once every connection is upgraded (the moment to read
// the RSS), answers pings while holding, then closes them all and exits
// (status 1 if some could not be opened).
import net from 'node:net';
import crypto from 'node:crypto';

const opts = { url: 'ws://127.0.0.1:8090/', conns: 10000, hold: 5, parallel: 200 };
for (let i = 2; i < process.argv.length; i += 2)
  opts[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const u = new URL(opts.url);
const conns = +opts.conns, hold = +opts.hold, parallel = +opts.parallel;
const path = (u.pathname || '/') + (u.search || '');

function open() {
  return new Promise((resolve, reject) => {
    const key = crypto.randomBytes(16).toString('base64');
    const s = net.connect({ host: u.hostname, port: +u.port });
    let buf = Buffer.alloc(0), upgraded = false;
    s.on('connect', () => s.write(`GET ${path} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\n` +
      `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`));
    s.on('error', (e) => { if (!upgraded) reject(e); });
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const e = buf.indexOf('\r\n\r\n');
        if (e < 0) return;
        if (!buf.subarray(0, 12).toString('latin1').startsWith('HTTP/1.1 101')) {
          s.destroy();
          return reject(new Error('handshake refused'));
        }
        upgraded = true;
        buf = buf.subarray(e + 4);
        resolve(s);
      }
      while (buf.length >= 2) { // answer pings, ignore the rest
        const len = buf[1] & 127;
        if (len > 125 || buf.length < 2 + len) break;
        if ((buf[0] & 15) === 9) {
          const pong = Buffer.alloc(6 + len);
          pong[0] = 0x8a; pong[1] = 0x80 | len;
          buf.copy(pong, 6, 2, 2 + len);
          s.write(pong);
        }
        buf = buf.subarray(2 + len);
      }
    });
  });
}

const socks = [];
let failed = 0;
for (let i = 0; i < conns; i += parallel) {
  const batch = [];
  for (let j = i; j < Math.min(conns, i + parallel); j++) batch.push(open().catch(() => { failed++; }));
  for (const s of await Promise.all(batch)) if (s) socks.push(s);
}
console.log(`opened ${socks.length}` + (failed ? ` (${failed} failed)` : ''));
await new Promise((r) => setTimeout(r, hold * 1000));
for (const s of socks) s.destroy();
process.exit(failed ? 1 : 0);
