/*
 * Target: azr_azbridge_preamble, azr_azbridge_init, azr_azbridge_feed,
 * azr_azbridge_closed, azr_azbridge_timeout (src/azbridge.c).
 * Input: a length byte L, L bytes of port name (cut at a NUL), then the
 * listener's byte stream.
 * Invariants: the preamble and init agree on which names are valid; a valid
 * name's preamble is 01 00 00 <len> <name>; the reply parser never consumes
 * more than the input nor past the 3-byte reply and never changes the input;
 * whole, byte-by-byte and two-piece feeding agree on result, verdict,
 * consumed count and text; a decided reply holds 3 bytes, only 01 00 00 is
 * accepted, and a verdict other than accepted has a NUL-terminated text.
 */
#include "azbridge.h"
#include <stdlib.h>

typedef struct outcome {
    azr_err err;
    azr_azbridge_verdict verdict;
    size_t used;
    char why[AZR_AZBRIDGE_TEXT_MAX];
} outcome;

static void run(const char *name, const uint8_t *in, size_t len, size_t step, size_t first,
                outcome *o)
{
    static azr_azbridge b;
    if (azr_azbridge_init(&b, name) != AZR_OK)
        abort();
    azr_err e = AZR_AGAIN;
    o->used = 0;
    for (size_t off = 0; off < len && e == AZR_AGAIN;) {
        size_t piece = off == 0 && first ? first : step;
        if (piece > len - off)
            piece = len - off;
        size_t used = (size_t)-1;
        e = azr_azbridge_feed(&b, in + off, piece, &used);
        if (used > piece || used > AZR_AZBRIDGE_REPLY_LEN || (e == AZR_AGAIN && used != piece))
            abort();
        off += used;
        o->used += used;
    }
    if (o->used > AZR_AZBRIDGE_REPLY_LEN || b.reply_len != o->used)
        abort();
    if (e == AZR_AGAIN) {
        if (b.reply_len >= AZR_AZBRIDGE_REPLY_LEN || b.why)
            abort();
        /* the stream ended here: either a close or the deadline */
        e = (len & 1) ? azr_azbridge_closed(&b) : azr_azbridge_timeout(&b);
        if (e != AZR_E_CLOSED && e != AZR_E_TIMEOUT)
            abort();
    } else {
        if (b.reply_len != AZR_AZBRIDGE_REPLY_LEN)
            abort();
        bool accept = b.reply[0] == 1 && b.reply[1] == 0 && b.reply[2] == 0;
        if ((e == AZR_OK) != accept || (e == AZR_OK) != (b.verdict == AZR_AZBRIDGE_ACCEPTED))
            abort();
        if (azr_azbridge_closed(&b) != e || azr_azbridge_timeout(&b) != e)
            abort(); /* sticky */
    }
    o->err = e;
    o->verdict = b.verdict;
    o->why[0] = '\0';
    if (e != AZR_OK) {
        if (!b.why || b.why < b.text || b.why >= b.text + sizeof b.text ||
            !memchr(b.why, '\0', sizeof b.text - (size_t)(b.why - b.text)))
            abort();
        memcpy(o->why, b.why, strlen(b.why) + 1);
    } else if (b.why) {
        abort();
    }
}

static bool same(const outcome *a, const outcome *b)
{
    return a->err == b->err && a->verdict == b->verdict && a->used == b->used &&
           strcmp(a->why, b->why) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t nl = data[0];
    if (nl > size - 1)
        nl = size - 1;
    char name[256 + 1];
    memcpy(name, data + 1, nl);
    name[nl] = '\0';
    const uint8_t *in = data + 1 + nl;
    size_t len = size - 1 - nl;

    uint8_t pre[AZR_AZBRIDGE_PREAMBLE_MAX];
    size_t pl = (size_t)-1;
    azr_err pe = azr_azbridge_preamble(name, pre, sizeof pre, &pl);
    static azr_azbridge probe;
    azr_err ie = azr_azbridge_init(&probe, name);
    if (pe != ie)
        abort();
    if (pe != AZR_OK) {
        if (pe != AZR_E_ARG || pl != 0 || !probe.why)
            abort();
        return 0;
    }
    size_t sl = strlen(name);
    if (sl == 0 || sl > AZR_AZBRIDGE_MAX_NAME || pl != 4 + sl || pre[0] != 1 || pre[1] != 0 ||
        pre[2] != 0 || pre[3] != sl || memcmp(pre + 4, name, sl) != 0)
        abort();

    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return 0;
    memcpy(copy, in, len);
    static outcome whole, bytes, split;
    run(name, copy, len, len ? len : 1, 0, &whole);
    run(name, copy, len, 1, 0, &bytes);
    run(name, copy, len, len ? len : 1, len > 1 ? (size_t)(data[0] % len) + 1 : 0, &split);
    if (memcmp(copy, in, len) != 0 || !same(&whole, &bytes) || !same(&whole, &split))
        abort();
    free(copy);
    return 0;
}
