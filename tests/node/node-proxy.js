#!/usr/bin/env node
// The comparison point for ./build.sh bench: what azrelay-proxy does, written
// on Node's ws (TCP client -> one WebSocket sender connection per client, SAS
// in ServiceBusAuthorization, binary frames both ways, half-close mapped to
// close frames). With --hyco the sender is Microsoft's hyco-ws SDK instead
// (relayedConnect and createRelayToken; it carries its own ws 1.1), as a
// gateway's Node proxy built on the SDK would be.
//
//   node node-proxy.js --port LOCAL --relay ws://127.0.0.1:9090 --hc hc1
//                      --key-name NAME --key KEY [--host 127.0.0.1] [--hyco]
//
// Prints "LISTENING <port>".
'use strict';
const net = require('net');
const crypto = require('crypto');
const WebSocket = require('ws');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf('--' + name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const hc = opt('hc', 'hc1');

function token() {
  const sr = encodeURIComponent('sb://' + opt('host', '127.0.0.1') + '/' + hc);
  const se = Math.floor(Date.now() / 1000) + 3600;
  const sig = crypto.createHmac('sha256', opt('key', '')).update(sr + '\n' + se).digest('base64');
  return `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${se}&skn=${opt('key-name', '')}`;
}

const hyco = args.includes('--hyco')
  ? require(require('path').join(__dirname, 'node_modules/hyco-ws'))
  : null;

function sender() {
  const uri = `${opt('relay', 'ws://127.0.0.1:9090')}/$hc/${hc}?sb-hc-action=connect`;
  if (hyco) {
    const host = opt('host', '127.0.0.1');
    const tok = hyco.createRelayToken(`http://${host}/${hc}`, opt('key-name', ''), opt('key', ''));
    return hyco.relayedConnect(uri, tok);
  }
  return new WebSocket(uri, {
    headers: { ServiceBusAuthorization: token() },
    perMessageDeflate: false,
  });
}

const server = net.createServer((sock) => {
  sock.pause();
  const ws = sender();
  ws.on('open', () => {
    sock.on('data', (d) => {
      ws.send(d, { binary: true });
      if (ws.bufferedAmount > 1 << 20) {
        sock.pause();
        const resume = () => (ws.bufferedAmount > 1 << 18 ? setTimeout(resume, 1) : sock.resume());
        resume();
      }
    });
    sock.on('end', () => ws.close(1000));
    sock.resume();
  });
  ws.on('message', (d) => {
    if (!sock.write(d)) {
      ws._socket.pause();
      sock.once('drain', () => ws._socket.resume());
    }
  });
  ws.on('close', () => sock.end());
  ws.on('error', () => sock.destroy());
  sock.on('error', () => ws.terminate());
});
server.listen(Number(opt('port', '0')), '127.0.0.1', () =>
  console.log('LISTENING ' + server.address().port)
);
process.on('SIGTERM', () => process.exit(0));
