/*
 * Shared helpers for the cmocka suites: hex decoding, guard-page buffers
 * (an input placed right before a PROT_NONE page, so reading one byte past
 * it crashes, as picohttpparser's test.c does), and split helpers.
 */
#ifndef AZR_TESTUTIL_H
#define AZR_TESTUTIL_H

#define _GNU_SOURCE
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* ./build.sh test runs the suites as background jobs, each with one log
 * file. cmocka prints results to stdout and failures to stderr: a fully
 * buffered stdout would put every failure ahead of the case it belongs to.
 * A shell starts background jobs with SIGINT ignored, and the peers a suite
 * starts would inherit that: Ctrl-C must still stop them all. */
__attribute__((constructor)) static void tu_suite_start(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGINT, SIG_DFL);
}

/* Decode a hex string (spaces ignored) into out; returns the byte count. */
static inline size_t tu_hex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (const char *p = hex; *p; p++) {
        int v;
        if (*p >= '0' && *p <= '9')
            v = *p - '0';
        else if (*p >= 'a' && *p <= 'f')
            v = *p - 'a' + 10;
        else if (*p >= 'A' && *p <= 'F')
            v = *p - 'A' + 10;
        else
            continue;
        if (hi < 0) {
            hi = v;
        } else {
            assert_true(n < cap);
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    assert_int_equal(hi, -1);
    return n;
}

static inline void tu_tohex(const uint8_t *in, size_t len, char *out)
{
    static const char h[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = h[in[i] >> 4];
        out[2 * i + 1] = h[in[i] & 15];
    }
    out[2 * len] = '\0';
}

typedef struct tu_guard {
    uint8_t *map;
    size_t map_len;
    uint8_t *data; /* len bytes, ending exactly at the guard page */
} tu_guard;

/* Copy len bytes so that data[len] is the first byte of an unreadable page. */
static inline uint8_t *tu_guard_new(tu_guard *g, const void *src, size_t len)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t body = (len + page - 1) / page * page;
    if (body == 0)
        body = page;
    g->map_len = body + page;
    g->map = mmap(NULL, g->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(g->map != MAP_FAILED);
    assert_int_equal(mprotect(g->map + body, page, PROT_NONE), 0);
    g->data = g->map + body - len;
    if (len)
        memcpy(g->data, src, len);
    return g->data;
}

static inline void tu_guard_free(tu_guard *g)
{
    munmap(g->map, g->map_len);
}

#endif
