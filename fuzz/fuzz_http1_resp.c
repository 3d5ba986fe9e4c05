/*
 * Target: azr_http1_resp_feed, azr_http1_check_upgrade, azr_http1_resp_body
 * (src/http1.c).
 * Invariants: consumed never exceeds the input; whole and byte-by-byte
 * feeding agree on verdict, consumed count, status and header count; every
 * header lies inside the parser's buffer; the 101 check never accepts a
 * response whose Sec-WebSocket-Accept differs from the RFC 6455 value.
 */
#include "http1.h"
#include <stdlib.h>

#define KEY "dGhlIHNhbXBsZSBub25jZQ=="

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static azr_http1_resp a, b;
    size_t ua, ub = 0, u;
    azr_http1_resp_init(&a, 0);
    azr_err ea = azr_http1_resp_feed(&a, data, size, &ua);
    if (ua > size)
        abort();
    azr_http1_resp_init(&b, 0);
    azr_err eb = AZR_AGAIN;
    for (size_t i = 0; i < size && eb == AZR_AGAIN; i++) {
        eb = azr_http1_resp_feed(&b, data + i, 1, &u);
        ub += u;
    }
    if (ea != eb || ua != ub)
        abort();
    if (ea != AZR_OK)
        return 0;
    if (a.status != b.status || a.nheaders != b.nheaders || a.nheaders > AZR_HTTP_MAX_HEADERS)
        abort();
    for (size_t i = 0; i < a.nheaders; i++) {
        const azr_http1_hdr *h = &a.headers[i];
        if (h->name < a.buf || h->name + h->name_len > a.buf + a.have || h->value < a.buf ||
            h->value + h->value_len > a.buf + a.have)
            abort();
    }
    const char *why;
    if (azr_http1_check_upgrade(&a, KEY, &why) == AZR_OK) {
        const azr_http1_hdr *h = azr_http1_resp_header(&a, "Sec-WebSocket-Accept");
        if (!h || h->value_len != 28 || memcmp(h->value, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", 28))
            abort();
    }
    if (azr_http1_resp_body(&a, data + ua, size - ua, &u) != AZR_E_STATE && u > size - ua)
        abort();
    if (a.body_len > sizeof a.body)
        abort();
    return 0;
}
