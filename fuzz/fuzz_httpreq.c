/*
 * Target: azr_httpreq_parse (src/daemon/httpreq.c, the request head of
 * azrelay-proxy's metrics endpoint). The input is parsed whole and as a
 * prefix cut at its first byte's value, the way a trickling client delivers
 * it. Invariants: AZR_OK, AZR_AGAIN, AZR_E_PROTO or AZR_E_LIMIT only; OK
 * gives a head of at most AZR_HTTPREQ_MAX_HEAD bytes ending in LF, a token
 * method, a path inside the input (or "/"), HTTP/1.0 or 1.1 and at most
 * AZR_HTTPREQ_MAX_HEADERS lines; an error carries a status (400, 414, 431,
 * 505) and a NUL-terminated reason; a prefix never says OK where the whole
 * input's head is longer, and a prefix's error is the whole input's error.
 */
#include "daemon/httpreq.h"
#include <stdlib.h>

/* The path is inside the head, or "/" for an absolute-form target without one. */
static bool path_ok(const uint8_t *d, const azr_httpreq *r)
{
    const uint8_t *p = (const uint8_t *)r->path;
    if (p >= d && p + r->path_len <= d + r->head_len)
        return true;
    return r->path_len == 1 && r->path[0] == '/';
}

static void check(const uint8_t *d, size_t n, const azr_httpreq *r, azr_err e)
{
    if (e == AZR_OK) {
        if (r->head_len == 0 || r->head_len > n || r->head_len > AZR_HTTPREQ_MAX_HEAD ||
            d[r->head_len - 1] != '\n' || r->method_len == 0 || r->path_len == 0 ||
            (const uint8_t *)r->method < d || !path_ok(d, r) || r->minor < 0 || r->minor > 1 ||
            r->nheaders > AZR_HTTPREQ_MAX_HEADERS)
            abort();
        return;
    }
    if (e == AZR_AGAIN)
        return;
    if ((e != AZR_E_PROTO && e != AZR_E_LIMIT) || !memchr(r->why, '\0', sizeof r->why) ||
        (r->status != 400 && r->status != 414 && r->status != 431 && r->status != 505))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    azr_httpreq whole, part;
    azr_err e = azr_httpreq_parse(data, size, &whole);
    check(data, size, &whole, e);
    size_t cut = size ? data[0] % (size + 1) : 0;
    azr_err p = azr_httpreq_parse(data, cut, &part);
    check(data, cut, &part, p);
    if (p == AZR_OK && (e != AZR_OK || part.head_len != whole.head_len))
        abort();
    if ((p == AZR_E_PROTO || p == AZR_E_LIMIT) && e != p)
        abort();
    return 0;
}
