/*
 * Digest (RFC 7616) computations and answers. Vectors: RFC 7616 §3.9.1 (the
 * Mufasa example, MD5 and SHA-256 responses; the SHA-256 and MD5 challenges
 * as the RFC sends them), RFC 2617 §3.5 (MD5, qop="auth,auth-int", cnonce
 * 0a4f113b). Values the RFCs do not give (RFC 2069's form, -sess, userhash)
 * were computed with Python 3.11's hashlib, the script quoted at each test.
 */
#include "testutil.h"
#include "digest.h"

/* Collect one challenge from a header value (its params are lexed by authchal). */
static void chal(const char *v, azr_digest_chal *d)
{
    azr_authchal l;
    azr_authchal_ev ev;
    azr_err e;
    azr_authchal_init(&l, v, strlen(v));
    azr_digest_chal_init(d);
    assert_int_equal(azr_authchal_next(&l, &ev), AZR_OK);
    assert_int_equal(ev.kind, AZR_AUTHCHAL_SCHEME);
    while ((e = azr_authchal_next(&l, &ev)) == AZR_OK)
        azr_digest_chal_param(d, &ev);
    assert_int_equal(e, AZR_AGAIN);
    azr_digest_chal_done(d);
}

#define RFC7616_NONCE  "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
#define RFC7616_CNONCE "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
#define RFC7616_OPAQUE "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"

static void test_digest_rfc7616_responses(void **s)
{
    (void)s;
    char out[AZR_DIGEST_HEX_MAX];
    azr_digest_in in = {
        AZR_DIGEST_MD5,    "Mufasa",      "http-auth@example.org", "Circle of Life", "GET",
        "/dir/index.html", RFC7616_NONCE, RFC7616_CNONCE,          "00000001",       true};
    azr_digest_response(&in, out);
    assert_string_equal(out, "8ca523f5e9506fed4657c9700eebdbec");
    in.alg = AZR_DIGEST_SHA256;
    azr_digest_response(&in, out);
    assert_string_equal(out, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
}

/* The RFC's two challenges through the collector and the writer; the answer
 * carries the RFC's response and echoes algorithm and opaque. */
static void test_digest_rfc7616_answers(void **s)
{
    (void)s;
    static const struct {
        const char *alg, *resp;
    } v[] = {
        {"SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
        {"MD5", "8ca523f5e9506fed4657c9700eebdbec"},
    };
    for (size_t i = 0; i < 2; i++) {
        char c[512], want[1024], out[1024];
        size_t n;
        azr_digest_chal d;
        snprintf(c, sizeof c,
                 "Digest\trealm=\"http-auth@example.org\",\n qop=\"auth, auth-int\", algorithm=%s,"
                 " nonce=\"" RFC7616_NONCE "\", opaque=\"" RFC7616_OPAQUE "\"",
                 v[i].alg);
        for (char *p = c; *p; p++) /* the RFC folds lines; a header value has spaces */
            if (*p == '\n' || *p == '\t')
                *p = ' ';
        chal(c, &d);
        assert_null(d.bad);
        assert_int_equal(azr_digest_chal_rank(&d), i == 0 ? 2 : 1);
        assert_int_equal(azr_digest_write(&d, "Mufasa", "Circle of Life", "GET", "/dir/index.html",
                                          RFC7616_CNONCE, 1, out, sizeof out, &n),
                         AZR_OK);
        snprintf(
            want, sizeof want,
            "Digest username=\"Mufasa\", realm=\"http-auth@example.org\", nonce=\"" RFC7616_NONCE
            "\", uri=\"/dir/index.html\", algorithm=%s, response=\"%s\", opaque=\"" RFC7616_OPAQUE
            "\", qop=auth, nc=00000001, cnonce=\"" RFC7616_CNONCE "\"",
            v[i].alg, v[i].resp);
        assert_string_equal(out, want);
        assert_int_equal(n, strlen(want));
    }
}

/* RFC 2617 §3.5; no algorithm in the challenge, so none in the answer. */
static void test_digest_rfc2617_example(void **s)
{
    (void)s;
    azr_digest_chal d;
    char out[1024];
    size_t n;
    chal("Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", "
         "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
         "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"",
         &d);
    assert_int_equal(d.alg, AZR_DIGEST_MD5);
    assert_int_equal(azr_digest_write(&d, "Mufasa", "Circle Of Life", "GET", "/dir/index.html",
                                      "0a4f113b", 1, out, sizeof out, &n),
                     AZR_OK);
    assert_string_equal(out,
                        "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", "
                        "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", "
                        "response=\"6629fae49393a05397450978507c4ef1\", "
                        "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\", qop=auth, nc=00000001, "
                        "cnonce=\"0a4f113b\"");
}

/* No qop: RFC 2069's H(HA1:nonce:HA2), no nc or cnonce sent. Python:
 *   H=lambda s: hashlib.md5(s.encode()).hexdigest()
 *   H(H("Mufasa:testrealm@host.com:Circle Of Life") + ":dcd98b7102dd2f0e8b11d0f600bfb0c093:"
 *     + H("GET:/dir/index.html"))  -> 670fd8c2df070c60b045671b8b24ff02 */
static void test_digest_rfc2069_form(void **s)
{
    (void)s;
    azr_digest_chal d;
    char out[1024];
    size_t n;
    chal("Digest realm=\"testrealm@host.com\", nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\"", &d);
    assert_null(d.bad);
    assert_int_equal(azr_digest_write(&d, "Mufasa", "Circle Of Life", "GET", "/dir/index.html",
                                      "ignored", 7, out, sizeof out, &n),
                     AZR_OK);
    assert_string_equal(out,
                        "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", "
                        "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", "
                        "response=\"670fd8c2df070c60b045671b8b24ff02\"");
}

/* userhash=true, SHA-256; quoted-string escapes both ways. Python:
 *   hashlib.sha256(b'Mu"fa\\sa:realm "q"').hexdigest() -> the username below */
static void test_digest_userhash_and_escapes(void **s)
{
    (void)s;
    azr_digest_chal d;
    char out[1024];
    size_t n;
    chal("Digest realm=\"realm \\\"q\\\"\", nonce=\"n\\\\1\", algorithm=sha-256, qop=auth, "
         "USERHASH=TRUE",
         &d);
    assert_null(d.bad);
    assert_string_equal(d.realm, "realm \"q\"");
    assert_true(d.userhash);
    assert_int_equal(
        azr_digest_write(&d, "Mu\"fa\\sa", "pw", "CONNECT", "h:443", "c", 1, out, sizeof out, &n),
        AZR_OK);
    char uh[AZR_DIGEST_HEX_MAX];
    azr_digest_userhash(AZR_DIGEST_SHA256, "Mu\"fa\\sa", "realm \"q\"", uh);
    assert_string_equal(uh, "e0ad206b8af63b79daa0c0ebcdb3ef1cd30646b894e6968c56e32177e0660af5");
    assert_non_null(strstr(out, "realm=\"realm \\\"q\\\"\", nonce=\"n\\\\1\""));
    assert_non_null(strstr(out, ", algorithm=SHA-256, "));
    assert_non_null(strstr(out, ", userhash=true"));
    assert_non_null(strstr(
        out, "username=\"e0ad206b8af63b79daa0c0ebcdb3ef1cd30646b894e6968c56e32177e0660af5\""));
}

static void test_digest_unanswerable(void **s)
{
    (void)s;
    static const struct {
        const char *v, *why;
    } v[] = {
        {"Digest realm=\"r\"", "it has no realm or no nonce"},
        {"Digest nonce=\"n\"", "it has no realm or no nonce"},
        {"Digest realm=\"r\", nonce=\"n\", qop=\"auth-int\"",
         "it offers no qop=auth (qop=auth-int is not supported)"},
        {"Digest realm=\"r\", nonce=\"n\", algorithm=SHA-512-256, qop=auth",
         "its algorithm is not MD5, MD5-sess, SHA-256 or SHA-256-sess"},
        {"Digest realm=\"r\", nonce=\"n\", algorithm=MD5-sess",
         "it names a -sess algorithm without qop"},
        {"Digest realm=\"r\", nonce=\"n\", Realm=\"s\"", "a parameter appears twice"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        azr_digest_chal d;
        char out[64];
        size_t n;
        chal(v[i].v, &d);
        assert_non_null(d.bad);
        assert_string_equal(d.bad, v[i].why);
        assert_int_equal(azr_digest_chal_rank(&d), 0);
        assert_int_equal(
            azr_digest_write(&d, "u", "p", "CONNECT", "h:1", "c", 1, out, sizeof out, &n),
            AZR_E_ARG);
    }
    /* a nonce over AZR_DIGEST_MAX_PARAM */
    char big[AZR_DIGEST_MAX_PARAM + 64];
    int k = snprintf(big, sizeof big, "Digest realm=\"r\", nonce=\"");
    memset(big + k, 'n', AZR_DIGEST_MAX_PARAM + 1);
    snprintf(big + k + AZR_DIGEST_MAX_PARAM + 1, sizeof big - (size_t)k - AZR_DIGEST_MAX_PARAM - 1,
             "\"");
    azr_digest_chal d;
    chal(big, &d);
    assert_string_equal(d.bad, "a parameter is longer than 256 bytes");
}

static void test_digest_algorithm_names_and_limit(void **s)
{
    (void)s;
    assert_int_equal(azr_digest_alg_parse("md5-SESS", 8), AZR_DIGEST_MD5_SESS);
    assert_int_equal(azr_digest_alg_parse("Sha-256-Sess", 12), AZR_DIGEST_SHA256_SESS);
    assert_int_equal(azr_digest_alg_parse("SHA-256x", 8), 0);
    assert_string_equal(azr_digest_alg_name(AZR_DIGEST_SHA256), "SHA-256");
    azr_digest_chal d;
    chal("Digest realm=\"r\", nonce=\"n\"", &d);
    char out[200];
    size_t n = 9;
    for (size_t cap = 0; cap < 98; cap++) { /* the answer is 97 bytes and a NUL */
        assert_int_equal(azr_digest_write(&d, "u", "p", "CONNECT", "h:1", "c", 1, out, cap, &n),
                         AZR_E_LIMIT);
        assert_int_equal(n, 0);
    }
    assert_int_equal(azr_digest_write(&d, "u", "p", "CONNECT", "h:1", "c", 1, out, 98, &n), AZR_OK);
    assert_int_equal(n, 97);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_digest_rfc7616_responses),
        cmocka_unit_test(test_digest_rfc7616_answers),
        cmocka_unit_test(test_digest_rfc2617_example),
        cmocka_unit_test(test_digest_rfc2069_form),
        cmocka_unit_test(test_digest_userhash_and_escapes),
        cmocka_unit_test(test_digest_unanswerable),
        cmocka_unit_test(test_digest_algorithm_names_and_limit),
    };
    return cmocka_run_group_tests_name("digest", tests, NULL, NULL);
}
