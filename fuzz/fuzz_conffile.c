/*
 * Target: azr_conffile_feed, azr_conffile_end (src/conffile.c).
 * Invariants: every line is NUL-terminated, holds no NUL and at most
 * AZR_CONF_LINE_MAX bytes; line numbers rise by one; *consumed never exceeds
 * the input; an error sticks; the input fed whole and fed in slices (sizes
 * taken from the first two bytes) gives the same lines and the same end.
 */
#include "conffile.h"
#include <stdlib.h>

typedef struct digest {
    uint64_t hash; /* FNV-1a over every line and its number */
    unsigned long lines;
    azr_err end;
    unsigned long err_line;
} digest;

static void take(digest *d, const azr_conffile_line *ev)
{
    if (ev->text[ev->len] != '\0' || memchr(ev->text, '\0', ev->len) ||
        ev->len > AZR_CONF_LINE_MAX || ev->lineno != d->lines + 1)
        abort();
    d->lines++;
    for (size_t i = 0; i < ev->len; i++)
        d->hash = (d->hash ^ (uint8_t)ev->text[i]) * 1099511628211u;
    d->hash = (d->hash ^ ev->lineno) * 1099511628211u;
}

static void feed(const uint8_t *in, size_t len, size_t a, size_t b, digest *d)
{
    static azr_conffile f;
    azr_conffile_line ev;
    memset(d, 0, sizeof *d);
    d->hash = 14695981039346656037u;
    azr_conffile_init(&f);
    size_t off = 0, turn = 0;
    azr_err e = AZR_AGAIN;
    while (off < len && (e == AZR_AGAIN || e == AZR_OK)) {
        size_t want = (turn++ & 1) ? b : a;
        size_t n = want < len - off ? want : len - off;
        size_t c;
        e = azr_conffile_feed(&f, in + off, n, &c, &ev);
        if (c > n)
            abort();
        off += c;
        if (e == AZR_OK)
            take(d, &ev);
        else if (e != AZR_AGAIN && (azr_conffile_feed(&f, in + off, len - off, &c, &ev) != e || c))
            abort();
    }
    if (e == AZR_AGAIN || e == AZR_OK) {
        e = azr_conffile_end(&f, &ev);
        if (e == AZR_OK) {
            take(d, &ev);
            e = azr_conffile_end(&f, &ev);
        }
    }
    d->end = e;
    d->err_line = f.err_line;
    azr_conffile_wipe(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t a = (size_t)data[0] + 1, b = (size_t)data[1] * 37u + 1;
    digest whole, sliced;
    feed(data + 2, size - 2, size, size, &whole);
    feed(data + 2, size - 2, a, b, &sliced);
    if (memcmp(&whole, &sliced, sizeof whole) != 0)
        abort();
    return 0;
}
