/*
 * Target: the proxy CONNECT answer: azr_http1_resp_feed + azr_http1_check_connect
 * (src/http1.c).
 * Invariants: the bytes after the head (TLS) are neither consumed nor changed;
 * success only for an HTTP/1.x 2xx status; 407 (and 401) are auth failures.
 */
#include "http1.h"
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
    }
    free(copy);
    return 0;
}
