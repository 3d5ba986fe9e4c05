// Hold N TLS connections open to the proxy's local TLS port (Node's tls, an
// independent client), each with one byte echoed so that both sides' TLS is
// up; print "held N" and wait until stdin closes. For RSS per connection.
// Usage: node tls-hold.js PORT N CA_FILE
'use strict';
const tls = require('tls');
const fs = require('fs');
const [port, n, caFile] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4]];
const ca = fs.readFileSync(caFile);
const socks = [];
let up = 0;
for (let i = 0; i < n; i++) {
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca }, () => s.write('x'));
    s.once('data', () => {
        if (++up === n) console.log(`held ${n}`);
    });
    s.on('error', (e) => {
        console.error(`bench: TLS connection ${i}: ${e.message}`);
        process.exit(1);
    });
    socks.push(s);
}
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
