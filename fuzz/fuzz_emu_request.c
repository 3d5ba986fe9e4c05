/*
 * Target: the relay emulator's request side (src/emu/request.c):
 * emu_req_parse, emu_req_header, emu_query_get, emu_json_find_str.
 * Invariants: parsing a head of at most AZR_HTTP_MAX_HEAD bytes stays inside
 * it; every header name and value, the method, path and query point inside
 * the head; a decoded query value never overflows its buffer and has no NUL
 * inside; a found JSON string fits its buffer.
 */
#include "emu/emu.h"
#include <stdlib.h>

static void inside(const char *p, const char *lo, size_t n)
{
    if (p < lo || p > lo + n)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char head[AZR_HTTP_MAX_HEAD + 1];
    size_t n = size < AZR_HTTP_MAX_HEAD ? size : AZR_HTTP_MAX_HEAD;
    memcpy(head, data, n);
    head[n] = '\0';
    emu_req r;
    if (emu_req_parse(head, &r)) {
        inside(r.method, head, n);
        inside(r.path, head, n);
        if (r.query[0])
            inside(r.query, head, n);
        for (size_t i = 0; i < r.nh; i++) {
            inside(r.name[i], head, n);
            inside(r.value[i], head, n);
        }
        (void)emu_req_header(&r, "Sec-WebSocket-Key");
        char v[64];
        const char *names[] = {"sb-hc-action", "sb-hc-token", "sb-hc-id", "sb-hc-rv", "x"};
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            if (emu_query_get(r.query, names[i], v, sizeof v) && strlen(v) >= sizeof v)
                abort();
    }
    char tok[96];
    if (emu_json_find_str((const char *)data, size, "token", tok, sizeof tok) &&
        strlen(tok) >= sizeof tok)
        abort();
    return 0;
}
