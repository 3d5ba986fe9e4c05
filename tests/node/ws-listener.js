#!/usr/bin/env node
// A Hybrid Connections listener written on Node's ws 8 from the protocol
// notes (relay-protocol.md §8), independent of both the emulator and
// hyco-ws: it covers what hyco-ws cannot (its reject path is broken, §8.4)
// and what tests want to see (the accept messages, token renewal).
//
//   node ws-listener.js --url ws://127.0.0.1:PORT/$hc/hc1 --host 127.0.0.1
//                       --key-name NAME --key KEY
//                       [--mode echo|reject|ignore] [--status 409] [--reason TEXT]
//                       [--token-seconds S] [--renew-ms MS]
//
// Prints "LISTENING" when the control channel is open, "ACCEPT <json>" per
// accept message, "REJECTED <status>" when the relay answered a reject,
// "RENEWED" per renewToken sent, "CONTROL CLOSED <code> <reason>" when the
// control channel ends. Stops on SIGTERM or when stdin closes.
'use strict';
const crypto = require('crypto');
const WebSocket = require('ws');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf('--' + name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const base = opt('url', 'ws://127.0.0.1:9090/$hc/hc1');
const mode = opt('mode', 'echo');
const hc = base.replace(/^.*\/\$hc\//, '');

// SAS per the protocol notes §4: HMAC-SHA256 over "<encoded sr>\n<se>", key used as text.
function token(seconds) {
  const sr = encodeURIComponent('sb://' + opt('host', '127.0.0.1') + '/' + hc);
  const se = Math.floor(Date.now() / 1000) + seconds;
  const sig = crypto.createHmac('sha256', opt('key', '')).update(sr + '\n' + se).digest('base64');
  return `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${se}&skn=${opt('key-name', 'RootManageSharedAccessKey')}`;
}
const lifetime = Number(opt('token-seconds', '3600'));

const control = new WebSocket(base + '?sb-hc-action=listen', {
  headers: { ServiceBusAuthorization: token(lifetime) },
  perMessageDeflate: false,
});
control.on('open', () => {
  console.log('LISTENING');
  const renew = Number(opt('renew-ms', '0'));
  if (renew > 0)
    setInterval(() => {
      control.send(JSON.stringify({ renewToken: { token: token(lifetime) } }));
      console.log('RENEWED');
    }, renew);
});
control.on('unexpected-response', (req, res) => {
  console.log('CONTROL REFUSED ' + res.statusCode + ' ' + res.statusMessage);
});
control.on('error', (e) => console.log('ERROR ' + e.message));
control.on('close', (code, reason) => console.log('CONTROL CLOSED ' + code + ' ' + reason));
control.on('message', (data, isBinary) => {
  if (isBinary) return;
  const msg = JSON.parse(data.toString());
  if (!msg.accept) return;
  console.log('ACCEPT ' + JSON.stringify(msg.accept));
  const address = msg.accept.address;
  if (mode === 'ignore') return;
  if (mode === 'reject') {
    const url =
      address +
      '&sb-hc-statusCode=' + opt('status', '409') +
      '&sb-hc-statusDescription=' + encodeURIComponent(opt('reason', 'Rejected by the test listener'));
    const r = new WebSocket(url, { perMessageDeflate: false });
    r.on('unexpected-response', (req, res) => console.log('REJECTED ' + res.statusCode));
    r.on('error', () => {});
    return;
  }
  const ws = new WebSocket(address, { perMessageDeflate: false });
  ws.on('error', (e) => console.log('ERROR ' + e.message));
  ws.on('message', (d, bin) => ws.send(d, { binary: bin }));
  ws.on('close', (code, reason) => {
    if (ws.readyState !== WebSocket.CLOSED) ws.close(code === 1005 ? 1000 : code, reason);
  });
});

process.on('SIGTERM', () => process.exit(0));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
