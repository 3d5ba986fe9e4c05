/*
 * Target: azr_ws_dec_feed (src/ws.c), client mode and (first byte & 0x40)
 * server mode.
 * Invariants beyond "no crash": consumed never exceeds the input; a frame
 * never yields more payload than its header announced, and exactly that much
 * when it ends; data chunks point inside the input; an error carries one of
 * the close codes we send (1002, 1007, 1009); feeding the input whole and in
 * pieces (sizes taken from the first byte) gives the same transcript.
 */
#include "ws.h"
#include <stdlib.h>

typedef struct sum {
    uint64_t h; /* FNV-1a over events */
    azr_err end;
    uint16_t code;
} sum;

static void mix(sum *s, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        s->h = (s->h ^ b[i]) * 1099511628211ull;
}

static void run(const uint8_t *in, size_t len, size_t step, bool strict, bool server, sum *s)
{
    azr_ws_dec d;
    uint64_t got = 0;
    azr_ws_dec_init(&d, strict ? 1u << 20 : 0, strict);
    if (server)
        azr_ws_dec_server(&d);
    s->h = 1469598103934665603ull;
    s->end = AZR_AGAIN;
    s->code = 0;
    size_t off = 0;
    while (off < len) {
        size_t piece = len - off < step ? len - off : step;
        size_t used = 0;
        while (used < piece || piece == 0) {
            azr_ws_ev ev;
            size_t u;
            azr_err e = azr_ws_dec_feed(&d, in + off + used, piece - used, &u, &ev);
            if (u > piece - used)
                abort();
            used += u;
            if (e == AZR_AGAIN)
                break;
            if (e != AZR_OK) {
                if (d.close_code != 1002 && d.close_code != 1007 && d.close_code != 1009)
                    abort();
                s->end = e;
                s->code = d.close_code;
                return;
            }
            if (ev.opcode < 8) {
                if (ev.data_len && (ev.data < in + off || ev.data + ev.data_len > in + off + piece))
                    abort();
                if (ev.frame_start)
                    got = 0;
                got += ev.data_len;
                if (got > ev.payload_len || (ev.frame_end && got != ev.payload_len))
                    abort();
            } else if (ev.data_len > 125) {
                abort();
            }
            mix(s, &ev.opcode, 1);
            mix(s, &ev.fin, 1);
            if (ev.data_len)
                mix(s, ev.data, ev.data_len);
            if (ev.frame_end)
                mix(s, "|", 1);
        }
        off += piece;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t step = (size_t)(data[0] & 0x1f) + 1;
    bool strict = (data[0] & 0x20) != 0, server = (data[0] & 0x40) != 0;
    sum a, b;
    run(data + 1, size - 1, size, strict, server, &a);
    run(data + 1, size - 1, step, strict, server, &b);
    /* chunk transcripts differ in how data is cut; compare verdicts */
    if (a.end != b.end || a.code != b.code)
        abort();
    return 0;
}
