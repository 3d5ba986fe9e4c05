/*
 * The metrics endpoint's request-head parser (src/daemon/httpreq.c), sans
 * I/O. Every input is parsed whole and as each of its prefixes (the way a
 * trickling client delivers it: the parser restarts from the start each
 * time), each against a guard page so a read past the input crashes. A
 * valid head is AZR_AGAIN for every proper prefix; a malformed one is an
 * error from the byte that breaks it on, never AZR_OK. Heads come from RFC
 * 9112's grammar and from what curl, Prometheus and python-requests send.
 */
#include "testutil.h"
#include "daemon/httpreq.h"

/* in parsed whole and as every prefix: the whole one's result. */
static azr_err parse_all_ways(const char *in, size_t len, azr_httpreq *out)
{
    azr_err whole = AZR_OK, first_err = AZR_OK;
    size_t err_at = 0;
    for (size_t n = 0; n <= len; n++) {
        tu_guard g;
        const uint8_t *d = tu_guard_new(&g, in, n);
        azr_httpreq r;
        azr_err e = azr_httpreq_parse(d, n, &r);
        if (first_err == AZR_OK && e != AZR_OK && e != AZR_AGAIN) {
            first_err = e;
            err_at = n;
        }
        if (first_err != AZR_OK && e != first_err)
            fail_msg("prefix %zu: %d after error %d at prefix %zu", n, e, first_err, err_at);
        if (n == len)
            whole = e;
        if (n == len && e == AZR_OK) {
            assert_true(r.method >= (const char *)d && r.method < (const char *)d + n);
            assert_true(r.head_len <= n);
        }
        tu_guard_free(&g);
        if (n < len && e == AZR_OK)
            fail_msg("prefix %zu of %zu is a whole head: %.*s", n, len, (int)n, in);
    }
    /* once more on in itself, so that out's pointers stay valid for the caller */
    assert_int_equal(azr_httpreq_parse((const uint8_t *)in, len, out), whole);
    return whole;
}

static azr_err parse(const char *in, azr_httpreq *out)
{
    return parse_all_ways(in, strlen(in), out);
}

static bool eq(const char *p, size_t n, const char *want)
{
    return n == strlen(want) && memcmp(p, want, n) == 0;
}

static void test_httpreq_scrapers(void **st)
{
    (void)st;
    azr_httpreq r;
    /* Prometheus 2.x */
    const char *prom = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9464\r\n"
                       "User-Agent: Prometheus/2.45.0\r\nAccept: application/openmetrics-text;"
                       "version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\n"
                       "Accept-Encoding: gzip\r\nX-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n";
    assert_int_equal(parse(prom, &r), AZR_OK);
    assert_true(eq(r.method, r.method_len, "GET"));
    assert_true(eq(r.path, r.path_len, "/metrics"));
    assert_null(r.query);
    assert_int_equal(r.minor, 1);
    assert_int_equal(r.nheaders, 5);
    assert_false(r.conn_close);
    assert_int_equal(r.head_len, strlen(prom));
    /* curl, with a query */
    assert_int_equal(parse("GET /healthz?verbose=1 HTTP/1.1\r\nHost: localhost:9464\r\n"
                           "User-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n",
                           &r),
                     AZR_OK);
    assert_true(eq(r.path, r.path_len, "/healthz"));
    assert_true(eq(r.query, r.query_len, "verbose=1"));
    /* python-requests: Connection: keep-alive; a request with Connection: close */
    assert_int_equal(
        parse("GET /metrics HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\n\r\n", &r), AZR_OK);
    assert_false(r.conn_close);
    assert_int_equal(parse("GET /metrics HTTP/1.1\r\nHost: h\r\nConnection: TE, Close\r\n\r\n", &r),
                     AZR_OK);
    assert_true(r.conn_close);
    /* HTTP/1.0: no Host needed, closes unless keep-alive */
    assert_int_equal(parse("GET / HTTP/1.0\r\n\r\n", &r), AZR_OK);
    assert_int_equal(r.minor, 0);
    assert_true(r.conn_close);
    assert_int_equal(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &r), AZR_OK);
    assert_false(r.conn_close);
}

static void test_httpreq_syntax_variants(void **st)
{
    (void)st;
    azr_httpreq r;
    /* §2.2: LF alone ends lines; empty lines before the request line are skipped */
    assert_int_equal(parse("\r\n\nGET /metrics HTTP/1.1\nHost: x\n\n", &r), AZR_OK);
    assert_true(eq(r.path, r.path_len, "/metrics"));
    /* §3.2.2 absolute-form: the path; without one, "/" */
    assert_int_equal(parse("GET http://127.0.0.1:9464/metrics?x HTTP/1.1\r\nHost: a\r\n\r\n", &r),
                     AZR_OK);
    assert_true(eq(r.path, r.path_len, "/metrics"));
    assert_true(eq(r.query, r.query_len, "x"));
    assert_int_equal(parse("GET http://127.0.0.1:9464 HTTP/1.1\r\nHost: a\r\n\r\n", &r), AZR_OK);
    assert_true(eq(r.path, r.path_len, "/"));
    /* other methods parse (the server answers them 405), values may hold obs-text and tabs */
    assert_int_equal(parse("POST /metrics HTTP/1.1\r\nHost: a\r\nX-A:\t\xc3\xa9 b \r\n\r\n", &r),
                     AZR_OK);
    assert_true(eq(r.method, r.method_len, "POST"));
    /* HTTP/1.9 is 1.x */
    assert_int_equal(parse("GET / HTTP/1.9\r\nHost: a\r\n\r\n", &r), AZR_OK);
    assert_int_equal(r.minor, 1);
    /* bytes after the head (a body, a pipelined request) are not the head's */
    const char *two = "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\n";
    tu_guard g;
    const uint8_t *d = tu_guard_new(&g, two, strlen(two));
    assert_int_equal(azr_httpreq_parse(d, strlen(two), &r), AZR_OK);
    assert_int_equal(r.head_len, strlen("GET /a HTTP/1.1\r\nHost: a\r\n\r\n"));
    tu_guard_free(&g);
}

static void test_httpreq_malformed(void **st)
{
    (void)st;
    static const struct {
        const char *in;
        size_t len; /* 0: strlen */
        azr_err e;
        int status;
        const char *why;
    } cases[] = {
        {"GET /metrics HTTP/1.1\rHost: a\r\n\r\n", 0, AZR_E_PROTO, 400, "CR not followed by LF"},
        {"GET /metrics HTTP/1.1\r\nHost : a\r\n\r\n", 0, AZR_E_PROTO, 400,
         "not a token followed by ':'"},
        {"GET /metrics HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 0, AZR_E_PROTO, 400, "folding"},
        {"GE(T /metrics HTTP/1.1\r\n\r\n", 0, AZR_E_PROTO, 400, "method"},
        {"GET  /metrics HTTP/1.1\r\n\r\n", 0, AZR_E_PROTO, 400, "target"},
        {"GET /met rics HTTP/1.1\r\n\r\n", 0, AZR_E_PROTO, 400, "HTTP-version"},
        {"GET /metrics\r\n\r\n", 0, AZR_E_PROTO, 400, "target"},
        {"GET /metrics HTTP/1.1 \r\n\r\n", 0, AZR_E_PROTO, 400, "end of a line"},
        {"GET /metrics HTTP/x.1\r\n\r\n", 0, AZR_E_PROTO, 400, "HTTP-version"},
        {"GET /metrics HTTP/2.0\r\n\r\n", 0, AZR_E_PROTO, 505, "not supported"},
        {"GET /metrics HTTP/1.1\r\n\r\n", 0, AZR_E_PROTO, 400, "without Host"},
        {"GET /metrics HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 0, AZR_E_PROTO, 400,
         "more than one Host"},
        {"GET /metrics HTTP/1.1\r\nHost: a\r\nX: \x01\r\n\r\n", 0, AZR_E_PROTO, 400,
         "end of a line"},
        {"GET /metrics HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n", 42, AZR_E_PROTO, 400,
         "end of a line"},
        {"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11, AZR_E_PROTO, 400, "method"}, /* TLS */
        {"\r\r\n", 0, AZR_E_PROTO, 400, "CR not followed by LF"},
        {":x HTTP/1.1\r\n", 0, AZR_E_PROTO, 400, "method"},
        {"GET ?healthz HTTP/1.0\r\n\r\n", 0, AZR_E_PROTO, 400, "neither a path"},
        {"GET metrics HTTP/1.0\r\n\r\n", 0, AZR_E_PROTO, 400, "neither a path"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        azr_httpreq r;
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].in);
        azr_err e = parse_all_ways(cases[i].in, len, &r);
        if (e != cases[i].e || r.status != cases[i].status || !strstr(r.why, cases[i].why))
            fail_msg("case %zu (%.*s): %d %d '%s'", i, (int)len, cases[i].in, e, r.status, r.why);
    }
}

/* The bounds: AZR_HTTPREQ_MAX_HEAD bytes (414 in the request line, 431
 * after) and AZR_HTTPREQ_MAX_HEADERS lines; a head of exactly the bound is
 * whole. */
static void test_httpreq_bounds(void **st)
{
    (void)st;
    static char big[AZR_HTTPREQ_MAX_HEAD + 64];
    azr_httpreq r;
    /* a target that never ends */
    memset(big, 'a', sizeof big);
    memcpy(big, "GET /", 5);
    tu_guard g;
    const uint8_t *d = tu_guard_new(&g, big, AZR_HTTPREQ_MAX_HEAD - 1);
    assert_int_equal(azr_httpreq_parse(d, AZR_HTTPREQ_MAX_HEAD - 1, &r), AZR_AGAIN);
    tu_guard_free(&g);
    d = tu_guard_new(&g, big, AZR_HTTPREQ_MAX_HEAD);
    assert_int_equal(azr_httpreq_parse(d, AZR_HTTPREQ_MAX_HEAD, &r), AZR_E_LIMIT);
    assert_int_equal(r.status, 414);
    tu_guard_free(&g);
    /* a header that never ends */
    size_t n = (size_t)snprintf(big, sizeof big, "GET / HTTP/1.1\r\nHost: a\r\nX: ");
    memset(big + n, 'v', sizeof big - n);
    d = tu_guard_new(&g, big, sizeof big);
    assert_int_equal(azr_httpreq_parse(d, sizeof big, &r), AZR_E_LIMIT);
    assert_int_equal(r.status, 431);
    tu_guard_free(&g);
    /* exactly the bound: whole */
    n = (size_t)snprintf(big, sizeof big, "GET / HTTP/1.1\r\nHost: a\r\nX: ");
    memset(big + n, 'v', AZR_HTTPREQ_MAX_HEAD - n - 4);
    memcpy(big + AZR_HTTPREQ_MAX_HEAD - 4, "\r\n\r\n", 4);
    d = tu_guard_new(&g, big, AZR_HTTPREQ_MAX_HEAD);
    assert_int_equal(azr_httpreq_parse(d, AZR_HTTPREQ_MAX_HEAD, &r), AZR_OK);
    assert_int_equal(r.head_len, AZR_HTTPREQ_MAX_HEAD);
    tu_guard_free(&g);
    /* header lines: the most, then one more */
    for (size_t lines = AZR_HTTPREQ_MAX_HEADERS; lines <= AZR_HTTPREQ_MAX_HEADERS + 1; lines++) {
        n = (size_t)snprintf(big, sizeof big, "GET / HTTP/1.1\r\nHost: a\r\n");
        for (size_t k = 1; k < lines; k++)
            n += (size_t)snprintf(big + n, sizeof big - n, "X:%zu\r\n", k);
        n += (size_t)snprintf(big + n, sizeof big - n, "\r\n");
        azr_err e = parse_all_ways(big, n, &r);
        if (lines == AZR_HTTPREQ_MAX_HEADERS) {
            assert_int_equal(e, AZR_OK);
            assert_int_equal(r.nheaders, lines);
        } else {
            assert_int_equal(e, AZR_E_LIMIT);
            assert_int_equal(r.status, 431);
        }
    }
    /* nothing at all yet, and empty lines only */
    d = tu_guard_new(&g, "", 0);
    assert_int_equal(azr_httpreq_parse(d, 0, &r), AZR_AGAIN);
    tu_guard_free(&g);
    assert_int_equal(parse("\r\n\r\n\n", &r), AZR_AGAIN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_httpreq_scrapers),
        cmocka_unit_test(test_httpreq_syntax_variants),
        cmocka_unit_test(test_httpreq_malformed),
        cmocka_unit_test(test_httpreq_bounds),
    };
    return cmocka_run_group_tests_name("httpreq", tests, NULL, NULL);
}
