#!/usr/bin/env node
// A stand-in for the relay's sender endpoint, built on Node's ws (an
// independent WebSocket implementation): it accepts the upgrade on
// /$hc/<name>?sb-hc-action=connect and then behaves as a listener would.
//
//   node ws-relay.js [--mode echo|reject|source|close-first|drop|silent]
//                    [--status 404] [--reason TEXT] [--bytes N] [--hc NAME]
//                    [--cert server.pem --key server.key]   (wss:// instead of ws://)
//
// Prints "LISTENING <port>" once ready. Every sender request is printed as
// one JSON line "REQUEST {...}" (path, query, headers) so tests can check
// what azrelay sent. Stops on SIGTERM or when stdin closes.
'use strict';
const http = require('http');
const https = require('https');
const fs = require('fs');
const crypto = require('crypto');
const { WebSocketServer } = require('ws');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf('--' + name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const mode = opt('mode', 'echo');
const hc = opt('hc', 'hc1');

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
const onRequest = (req, res) => {
  res.writeHead(400);
  res.end();
};
const cert = opt('cert', null);
const server = cert
  ? https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(opt('key', '')) }, onRequest)
  : http.createServer(onRequest);

server.on('upgrade', (req, socket, head) => {
  const url = new URL(req.url, 'http://x');
  console.log('REQUEST ' + JSON.stringify({ path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers }));
  const expected = '/$hc/' + hc;
  if (url.pathname !== expected) {
    socket.end('HTTP/1.1 404 Endpoint does not exist. TrackingId:test_G0\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    return;
  }
  if (mode === 'reject') {
    const status = opt('status', '404');
    const reason = opt('reason', 'There are no listeners connected for the endpoint. TrackingId:test_G13');
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`);
    return;
  }
  if (mode === 'silent')
    return; // never answer: the sender's ConnectionTimeout must cut it
  wss.handleUpgrade(req, socket, head, (ws) => {
    if (mode === 'echo') {
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
      ws.on('close', (code, reason) => ws.close(code === 1005 ? 1000 : code, reason));
    } else if (mode === 'source') {
      const total = Number(opt('bytes', '1048576'));
      const block = crypto.randomBytes(Math.min(total, 65536));
      const hash = crypto.createHash('sha256');
      let sent = 0;
      const pump = () => {
        while (sent < total) {
          const n = Math.min(block.length, total - sent);
          const chunk = block.subarray(0, n);
          hash.update(chunk);
          sent += n;
          if (!ws.send(chunk, { binary: true }) && ws.bufferedAmount > 1 << 20) {
            setTimeout(pump, 5);
            return;
          }
        }
        console.log('SENT ' + sent + ' ' + hash.digest('hex'));
        ws.close(1000, 'source done');
      };
      pump();
    } else if (mode === 'close-first') {
      ws.send(Buffer.from('bye'), { binary: true });
      ws.close(4001, 'listener closed first');
    } else if (mode === 'drop') {
      ws.send(Buffer.from('bye'), { binary: true });
      setTimeout(() => socket.destroy(), 50);
    }
  });
});

server.listen(0, '127.0.0.1', () => console.log('LISTENING ' + server.address().port));
process.on('SIGTERM', () => process.exit(0));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
