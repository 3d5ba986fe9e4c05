// Connection setup as a direct sender with Microsoft's hyco-ws (the comparison
// for azrelay's time from a new TCP connection to the first echoed byte): N
// senders one after the other, each opened with hyco-ws's relayedConnect and
// a token from its createRelayToken, sending one byte and waiting for its
// echo, then closing. Prints "hyco <mean ms> <resumed>" where resumed counts
// the TLS sessions Node resumed: its global https agent, which hyco-ws uses,
// caches sessions; with "fresh" it keeps none, so every sender makes a full
// handshake.
// Usage: NODE_EXTRA_CA_CERTS=ca.pem node hyco-conns.js wss://localhost:PORT HC KEYNAME KEY N [fresh]
'use strict';
const path = require('path');
const WS = require(path.join(__dirname, '../node/node_modules/hyco-ws'));

const [base, hc, keyName, key, n, fresh] = process.argv.slice(2);
if (fresh === 'fresh') require('https').globalAgent.maxCachedSessions = 0;
const uri = `${base}/$hc/${hc}?sb-hc-action=connect`;
let resumed = 0;

function once() {
  return new Promise((resolve, reject) => {
    const token = WS.createRelayToken(uri, keyName, key);
    const ws = WS.relayedConnect(uri, token, () => ws.send(Buffer.from('x'), { binary: true }));
    ws.on('message', (d) => {
      if (d.length !== 1 || d[0] !== 0x78) return reject(new Error('a different echo'));
      if (ws._socket && ws._socket.isSessionReused && ws._socket.isSessionReused()) resumed++;
      ws.terminate();
      resolve();
    });
    ws.on('error', reject);
  });
}

(async () => {
  const count = Number(n);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < count; i++) await once();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6 / count;
  console.log(`hyco ${ms.toFixed(2)} ${resumed}`);
  process.exit(0);
})().catch((e) => {
  console.error('bench: hyco-conns: ' + e.message);
  process.exit(1);
});
