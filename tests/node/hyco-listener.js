#!/usr/bin/env node
// A Hybrid Connections listener built on Microsoft's hyco-ws 1.0.5 (fetched and
// integrity-checked by fetch-hyco-ws.sh): it opens the control channel on the relay (the
// emulator in tests), takes accept messages and opens the rendezvous legs,
// exactly as an application using the SDK would.
//
//   node hyco-listener.js --url ws://127.0.0.1:PORT/$hc/hc1 --key-name NAME --key KEY
//                         [--mode echo|source|close-first|drop] [--bytes N]
//
// Prints "LISTENING" once the control channel is open, "CONNECTION" per
// rendezvous leg, "SENT <bytes> <sha256>" when a source finished. The token
// comes from hyco-ws's own createRelayToken. For wss://, trust the test CA
// through NODE_EXTRA_CA_CERTS. Stops on SIGTERM or when stdin closes.
'use strict';
const crypto = require('crypto');
const WebSocket = require('hyco-ws');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf('--' + name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const base = opt('url', 'ws://127.0.0.1:9090/$hc/hc1');
const mode = opt('mode', 'echo');
const keyName = opt('key-name', 'RootManageSharedAccessKey');
const key = opt('key', '');

const server = WebSocket.createRelayedServer(
  {
    server: base + '?sb-hc-action=listen',
    token: () => WebSocket.createRelayToken(base, keyName, key),
  },
  (ws) => {
    console.log('CONNECTION');
    ws.on('error', (e) => console.log('ERROR ' + e.message));
    ws.on('open', () => {
      if (mode === 'echo') {
        ws.on('message', (data, flags) => ws.send(data, { binary: !!(flags && flags.binary) }));
      } else if (mode === 'source') {
        const total = Number(opt('bytes', '1048576'));
        const block = crypto.randomBytes(Math.min(total, 65536));
        const hash = crypto.createHash('sha256');
        let sent = 0;
        const pump = () => {
          while (sent < total) {
            if (ws._socket && ws._socket.writableLength > 1 << 20) {
              setTimeout(pump, 5);
              return;
            }
            const n = Math.min(block.length, total - sent);
            const chunk = block.subarray(0, n);
            hash.update(chunk);
            sent += n;
            ws.send(chunk, { binary: true });
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
        setTimeout(() => ws._socket && ws._socket.destroy(), 50);
      }
    });
  }
);
let opened = false;
server.on('listening', () => {
  opened = true;
  console.log('LISTENING');
});
server.on('error', (e) => {
  console.log('ERROR ' + (e && e.message ? e.message : e));
  // hyco-ws reconnects at once, forever: a listener that never got in stops here
  if (!opened) process.exit(1);
});

process.on('SIGTERM', () => process.exit(0));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
