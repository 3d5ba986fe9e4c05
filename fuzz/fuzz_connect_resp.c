/*
 * Target: the proxy CONNECT answer: azr_http1_resp_feed + azr_http1_check_connect,
 * and for a 407 what outbound.c does with it: azr_http1_resp_header_next over
 * every Proxy-Authenticate, azr_http1_resp_persists, azr_http1_resp_drain
 * (src/http1.c).
 * Invariants: the bytes after the head (TLS) are neither consumed nor changed;
 * success only for an HTTP/1.x 2xx status; 407 (and 401) are auth failures;
 * every header found lies inside the parser's buffer and is named as asked;
 * a persisting answer has a known body length, and the drain never takes
 * more than that length nor reports the end before it.
 */
#include "http1.h"
#include "text.h"
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static azr_http1_resp r;
    size_t used;
    azr_http1_resp_init(&r, 0);
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    azr_err e = azr_http1_resp_feed(&r, copy, size, &used);
    if (used > size || memcmp(copy, data, size) != 0)
        abort();
    if (e == AZR_OK) {
        azr_err c = azr_http1_check_connect(&r);
        if (c == AZR_OK && (r.status < 200 || r.status > 299))
            abort();
        if ((r.status == 407 || r.status == 401) && c != AZR_E_AUTH)
            abort();
        if (memcmp(data, "HTTP/1.", 7) != 0)
            abort();
        size_t found = 0;
        for (const azr_http1_hdr *h = NULL;
             (h = azr_http1_resp_header_next(&r, "Proxy-Authenticate", h)) != NULL; found++) {
            if (h->value < r.buf || h->value + h->value_len > r.buf + r.have ||
                !azr_text_ieq(h->name, h->name_len, "Proxy-Authenticate") || found > r.nheaders)
                abort();
        }
        bool keep = azr_http1_resp_persists(&r);
        if (keep && (r.content_length < 0 || r.chunked))
            abort();
        size_t rest = size - used, took;
        azr_err d = azr_http1_resp_drain(&r, copy + used, rest, &took);
        if (d == AZR_E_STATE ? (r.content_length >= 0 || took != 0) : took > rest)
            abort();
        if (d == AZR_OK && r.body_seen != (uint64_t)r.content_length)
            abort();
        if (d == AZR_AGAIN && (took != rest || r.body_seen >= (uint64_t)r.content_length))
            abort();
    }
    free(copy);
    return 0;
}
