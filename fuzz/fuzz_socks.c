/*
 * Target: azr_socks_init, azr_socks_feed, azr_socks_pending (src/socks.c).
 * The first byte picks the version and whether credentials are used; the rest
 * is the proxy's reply stream.
 * Invariants: consumed never exceeds the input; pending output stays within
 * the context; whole and byte-by-byte feeding agree on verdict and consumed
 * count; success leaves the tunnel bytes unconsumed.
 */
#include "socks.h"
#include <stdlib.h>

static azr_err run(uint8_t sel, const uint8_t *in, size_t len, size_t step, size_t *total)
{
    static const azr_socks_ver vers[] = {AZR_SOCKS4, AZR_SOCKS4A, AZR_SOCKS5, AZR_SOCKS5};
    static const char *hosts[] = {"10.0.0.1", "ns.example", "::1",
                                  "myrelay.servicebus.windows.net"};
    azr_socks s;
    azr_socks_ver v = vers[sel & 3];
    const char *host = hosts[(sel >> 2) & 3];
    if (v == AZR_SOCKS4)
        host = "10.0.0.1";
    bool creds = (sel & 0x10) != 0;
    if (azr_socks_init(&s, v, host, 443, creds ? "user" : NULL, creds ? "pass" : NULL) != AZR_OK)
        abort();
    azr_err e = AZR_AGAIN;
    *total = 0;
    for (size_t off = 0; off < len && e == AZR_AGAIN;) {
        const uint8_t *p;
        size_t n = azr_socks_pending(&s, &p);
        if (n > sizeof s.out || (n && (p < s.out || p + n > s.out + sizeof s.out)))
            abort();
        azr_socks_sent(&s, n);
        size_t piece = len - off < step ? len - off : step, used;
        e = azr_socks_feed(&s, in + off, piece, &used);
        if (used > piece)
            abort();
        off += used;
        *total += used;
        if (e == AZR_AGAIN && used != piece)
            abort();
    }
    azr_socks_wipe(&s);
    return e;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t ta, tb;
    azr_err a = run(data[0], data + 1, size - 1, size, &ta);
    azr_err b = run(data[0], data + 1, size - 1, 1, &tb);
    if (a != b || ta != tb)
        abort();
    return 0;
}
