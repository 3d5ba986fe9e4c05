#!/usr/bin/env node
// A stand-in for the relay's sender endpoint, built on Node's ws (an
// independent WebSocket implementation): it accepts the upgrade on
// /$hc/<name>?sb-hc-action=connect and then behaves as a listener would.
//
//   node ws-relay.js [--mode echo|reject|source|close-first|drop|silent|trickle|bad-frame]
//                    [--status 404] [--reason TEXT] [--bytes N] [--hc NAME]
//                    [--seconds S]   (trickle: 1 KiB every 100 ms for S seconds, then close 1000)
//                    [--cert server.pem --key server.key]   (wss:// instead of ws://)
//                    [--host 127.0.0.1] [--port 0]   (the address to listen on: any local
//                    one, "::1" too; port 0 lets the kernel pick)
//
// Prints "LISTENING <port>" once ready. Every sender request is printed as
// one JSON line "REQUEST {...}" (path, query, headers) so tests can check
// what azrelay sent; every close frame the sender sent is printed as
// "CLOSE <code> <reason>" (1006 when the TCP ended without one). Stops on
// SIGTERM or when stdin closes.
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
  socket.on('error', () => {}); // a sender may reset a refused attempt: not our crash
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
  if (mode === 'trickle') {
    // A listener that goes on sending after the sender's close frame, as
    // .NET's HybridConnectionStream.Shutdown() allows (relay-protocol.md
    // §6.4). Node's ws answers a close at once, so this one speaks RFC 6455
    // by hand: the 101 (accept = base64(SHA-1(key + GUID))), then unmasked
    // binary frames of 1 KiB every 100 ms for --seconds, then close 1000.
    const accept = crypto.createHash('sha1')
      .update(req.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11')
      .digest('base64');
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Accept: ' + accept + '\r\n\r\n');
    let closed = false;
    socket.on('data', (d) => {
      // the sender's frames are masked: byte 0 is FIN|opcode; 0x88 is its close
      if (!closed && d.length >= 8 && d[0] === 0x88) {
        closed = true;
        const m = d.subarray(2, 6);
        const code = ((d[6] ^ m[0]) << 8) | (d[7] ^ m[1]);
        console.log('CLOSE ' + code + ' (trickle goes on)');
      }
    });
    socket.on('error', () => {});
    const until = Date.now() + 1000 * Number(opt('seconds', '3'));
    const payload = crypto.randomBytes(1024);
    const frame = Buffer.concat([Buffer.from([0x82, 126, 4, 0]), payload]);
    let sent = 0;
    const timer = setInterval(() => {
      if (Date.now() >= until) {
        clearInterval(timer);
        console.log('SENT ' + sent);
        socket.end(Buffer.from([0x88, 2, 0x03, 0xe8]));
        return;
      }
      socket.write(frame);
      sent += payload.length;
    }, 100);
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    ws.on('close', (code, reason) => console.log('CLOSE ' + code + ' ' + reason.toString()));
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
    } else if (mode === 'bad-frame') {
      // RSV1 set without an extension: RFC 6455 §5.2 says fail with 1002
      socket.write(Buffer.from([0xc2, 0x01, 0x41]));
    } else if (mode === 'drop') {
      ws.send(Buffer.from('bye'), { binary: true });
      setTimeout(() => socket.destroy(), 50);
    }
  });
});

server.listen(Number(opt('port', '0')), opt('host', '127.0.0.1'), () =>
  console.log('LISTENING ' + server.address().port));
process.on('SIGTERM', () => process.exit(0));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
