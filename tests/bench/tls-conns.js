// Connection setup through the proxy's local TLS side (SSLEnabled), with
// Node's tls as the client: N connections one after the other, each a full
// TLS 1.2 handshake (no session kept), one byte sent and its echo awaited,
// then closed. Prints "tls <mean ms>". For ./build.sh bench.
// Usage: node tls-conns.js PORT N CA_FILE
'use strict';
const tls = require('tls');
const fs = require('fs');
const [port, n, caFile] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4]];
const ca = fs.readFileSync(caFile);

function once() {
    return new Promise((resolve, reject) => {
        const s = tls.connect(
            { host: '127.0.0.1', port, servername: 'localhost', ca, maxVersion: 'TLSv1.2', session: undefined },
            () => s.write('x')
        );
        s.once('data', (d) => {
            if (d.length < 1 || d[0] !== 0x78) return reject(new Error('a different echo'));
            s.destroy();
            resolve();
        });
        s.on('error', reject);
    });
}

(async () => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await once();
    console.log(`tls ${(Number(process.hrtime.bigint() - t0) / 1e6 / n).toFixed(2)}`);
    process.exit(0);
})().catch((e) => {
    console.error(`bench: tls-conns: ${e.message}`);
    process.exit(1);
});
