#!/usr/bin/env node
// A raw Hybrid Connections sender on Node's ws 8 (relay-protocol.md §2-§4),
// independent of azrelay: the test says which bytes go out, message by
// message, and reads back every message and the close, byte for byte.
//
//   node ws-sender.js --url ws://127.0.0.1:PORT/$hc/hc1 --host 127.0.0.1
//                     --key-name NAME --key KEY [--send HEX]... [--fragment]
//
// When open, each --send goes out as one binary message (HEX: hex digits,
// spaces ignored); with --fragment the --send pieces are the fragments of a
// single binary message instead. Then stdin lines: "SEND HEX" sends one more
// binary message, "CLOSE" closes with 1000. Prints "OPEN", "MSG <hex>" per
// message received ("MSG -" when empty), "CLOSED <code> <reason>",
// "REFUSED <status>", "ERROR <text>". Stops on SIGTERM or when stdin closes.
'use strict';
const crypto = require('crypto');
const readline = require('readline');
const WebSocket = require('ws');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf('--' + name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const sends = [];
args.forEach((a, i) => {
  if (a === '--send' && i + 1 < args.length) sends.push(args[i + 1]);
});
const base = opt('url', 'ws://127.0.0.1:9090/$hc/hc1');
const hc = base.replace(/^.*\/\$hc\//, '');
const bytes = (hex) => Buffer.from(hex.replace(/[^0-9a-fA-F]/g, ''), 'hex');

// SAS per the protocol notes §4: HMAC-SHA256 over "<encoded sr>\n<se>", key used as text.
function token() {
  const sr = encodeURIComponent('sb://' + opt('host', '127.0.0.1') + '/' + hc);
  const se = Math.floor(Date.now() / 1000) + 3600;
  const sig = crypto.createHmac('sha256', opt('key', '')).update(sr + '\n' + se).digest('base64');
  return `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${se}&skn=${opt('key-name', 'RootManageSharedAccessKey')}`;
}

const ws = new WebSocket(base + '?sb-hc-action=connect', {
  headers: { ServiceBusAuthorization: token() },
  perMessageDeflate: false,
});
ws.on('open', () => {
  console.log('OPEN');
  const frag = args.includes('--fragment');
  sends.forEach((h, i) => ws.send(bytes(h), { binary: true, fin: !frag || i === sends.length - 1 }));
});
ws.on('message', (d) => console.log('MSG ' + (d.length ? d.toString('hex') : '-')));
ws.on('unexpected-response', (req, res) => {
  console.log('REFUSED ' + res.statusCode);
  process.exit(0);
});
ws.on('error', (e) => console.log('ERROR ' + e.message));
ws.on('close', (code, reason) => console.log('CLOSED ' + code + ' ' + reason));

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.startsWith('SEND ')) ws.send(bytes(line.slice(5)), { binary: true });
  else if (line === 'CLOSE') ws.close(1000);
});
process.on('SIGTERM', () => process.exit(0));
process.stdin.on('end', () => process.exit(0));
