/*
 * The proxy authentication engine: scheme choice, the values it sends, the
 * retry rule and every refusal text. Vectors: RFC 7617 §2 (Aladdin) and
 * §2.1 (UTF-8); the Digest and NTLM values of the whole exchanges were
 * computed independently with Python 3.11 (hashlib, hmac; MD4 by OpenSSL
 * 3.0.19's legacy provider), as in test_digest.c and test_ntlm.c:
 *   H=lambda a,s: hashlib.new(a, s.encode()).hexdigest()
 *   ha1=H(a,"Mufasa:proxy@example.org:Circle of Life") [-sess: H(a,ha1+":0123abcd:"+cn)]
 *   H(a, ha1+":0123abcd:00000001:"+cn+":auth:"+H(a,"CONNECT:relay.example.net:443"))
 * with cn = bytes(range(16)).hex(), which is what the fake random source gives.
 */
#include "testutil.h"
#include "proxyauth.h"
#include "base64.h"

typedef struct fake {
    uint8_t base; /* rand gives base, base+1, ... */
    uint64_t ft;
} fake;

static void frand(void *ud, uint8_t *o, size_t n)
{
    for (size_t i = 0; i < n; i++)
        o[i] = (uint8_t)(((fake *)ud)->base + i);
}

static uint64_t fclock(void *ud)
{
    return ((fake *)ud)->ft;
}

static azr_pauth A; /* about 11 KiB */
static fake F;

static azr_err start(const char *user, const char *pw, const char *scheme, const char *authz,
                     azr_pauth_out *o)
{
    azr_pauth_cfg c = {user, pw, scheme, authz, NULL, "relay.example.net:443", frand, fclock, &F};
    F.base = 0;
    F.ft = 0;
    azr_err e = azr_pauth_init(&A, &c);
    return e != AZR_OK ? e : azr_pauth_first(&A, o);
}

/* Feed each NUL-separated header value of hdrs (ending with an empty one), then next(). */
static azr_err answer(const char *hdrs, azr_pauth_out *o)
{
    for (const char *h = hdrs; *h; h += strlen(h) + 1) {
        azr_err e = azr_pauth_feed(&A, h, strlen(h));
        assert_true(e == AZR_OK || e == AZR_E_PROTO);
    }
    return azr_pauth_next(&A, o);
}

static void refused(azr_err got, azr_err want, const char *why)
{
    assert_int_equal(got, want);
    assert_string_equal(azr_pauth_why(&A), why);
    azr_pauth_out o;
    assert_int_equal(azr_pauth_next(&A, &o), want); /* sticky */
    assert_null(o.value);
    assert_int_equal(azr_pauth_feed(&A, "Basic", 5), want);
    static const char zero[sizeof A.password];
    assert_memory_equal(A.password, zero, sizeof zero); /* a refusal drops the password */
}

static void test_proxyauth_scheme_names(void **s)
{
    (void)s;
    static const char *const ok[] = {"", "auto", "BASIC", "digest", "Ntlm", "negotiate", "NONE"};
    static const azr_pauth_scheme want[] = {AZR_PAUTH_AUTO,   AZR_PAUTH_AUTO, AZR_PAUTH_BASIC,
                                            AZR_PAUTH_DIGEST, AZR_PAUTH_NTLM, AZR_PAUTH_NEGOTIATE,
                                            AZR_PAUTH_NONE};
    azr_pauth_scheme sc;
    for (size_t i = 0; i < 7; i++) {
        assert_int_equal(azr_pauth_scheme_parse(ok[i], &sc), AZR_OK);
        assert_int_equal(sc, want[i]);
    }
    assert_int_equal(azr_pauth_scheme_parse(NULL, &sc), AZR_OK);
    assert_int_equal(azr_pauth_scheme_parse("Kerberos", &sc), AZR_E_ARG);
    azr_pauth_out o;
    refused(start("u", "p", "Kerberos", NULL, &o), AZR_E_ARG,
            "ProxyAuthScheme must be Auto, Basic, Digest, NTLM, Negotiate or None");
}

/* RFC 7617 §2 and §2.1; Basic is preemptive when chosen, one answer only. */
static void test_proxyauth_basic(void **s)
{
    (void)s;
    azr_pauth_out o;
    assert_int_equal(start("Aladdin", "open sesame", "Basic", NULL, &o), AZR_OK);
    assert_string_equal(o.value, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    assert_string_equal(o.step, "Basic");
    assert_false(o.same_conn);
    refused(answer("Basic realm=\"WallyWorld\"\0", &o), AZR_E_AUTH,
            "proxy refused our credentials (Basic)");
    /* Auto waits for the 407 */
    assert_int_equal(start("test", "123\xc2\xa3", "", NULL, &o), AZR_OK);
    assert_null(o.value);
    assert_int_equal(answer("bAsIc ReAlM=\"x\", charset=\"UTF-8\"\0", &o), AZR_OK);
    assert_string_equal(o.value, "Basic dGVzdDoxMjPCow==");
    assert_int_equal(o.value_len, strlen(o.value));
    refused(answer("Basic realm=\"x\"\0", &o), AZR_E_AUTH, "proxy refused our credentials (Basic)");
    refused(start("a:b", "p", "Basic", NULL, &o), AZR_E_ARG,
            "ProxyUser contains ':', which Basic cannot carry (RFC 7617)");
}

#define CN "000102030405060708090a0b0c0d0e0f"
#define DIGEST_HEAD                                                                                \
    "Digest username=\"Mufasa\", realm=\"proxy@example.org\", nonce=\"0123abcd\", "                \
    "uri=\"relay.example.net:443\""

/* Two Digest challenges in two headers: SHA-256 is preferred over MD5. */
static void test_proxyauth_digest_prefers_sha256(void **s)
{
    (void)s;
    azr_pauth_out o;
    assert_int_equal(start("Mufasa", "Circle of Life", NULL, NULL, &o), AZR_OK);
    assert_int_equal(
        answer("Digest realm=\"proxy@example.org\", nonce=\"0123abcd\", qop=\"auth\", "
               "algorithm=MD5, opaque=\"op\"\0"
               "DIGEST REALM=\"proxy@example.org\", NONCE=\"0123abcd\", QOP=\"auth-int, auth\", "
               "ALGORITHM=sha-256, OPAQUE=\"op\"\0",
               &o),
        AZR_OK);
    assert_string_equal(o.value,
                        DIGEST_HEAD ", algorithm=SHA-256, response=\"90d15a23744f64ea48495e"
                                    "13d626ae2f3dba80a3d5dd7f1ec4ce967d0b72c5c5\", "
                                    "opaque=\"op\", qop=auth, nc=00000001, cnonce=\"" CN "\"");
    assert_string_equal(o.step, "Digest");
    /* stale=true: one more try; the same nonce counts up (nc=2) */
    assert_int_equal(answer("Digest realm=\"proxy@example.org\", nonce=\"0123abcd\", qop=auth, "
                            "algorithm=SHA-256, stale=TRUE\0",
                            &o),
                     AZR_OK);
    assert_non_null(strstr(o.value, ", response=\"f3be8c82155adcba23d855f6b95dd0f40a62feaa5aa98a4f"
                                    "372d1479ee074346\", qop=auth, nc=00000002, "));
    refused(answer("Digest realm=\"proxy@example.org\", nonce=\"0123abce\", qop=auth, "
                   "algorithm=SHA-256, stale=true\0",
                   &o),
            AZR_E_AUTH, "proxy refused our credentials (Digest)");
}

static void digest_case(const char *chal, const char *want)
{
    azr_pauth_out o;
    assert_int_equal(start("Mufasa", "Circle of Life", "Digest", NULL, &o), AZR_OK);
    assert_null(o.value);
    assert_int_equal(answer(chal, &o), AZR_OK);
    assert_string_equal(o.value, want);
    refused(answer(chal, &o), AZR_E_AUTH, "proxy refused our credentials (Digest)");
}

static void test_proxyauth_digest_variants(void **s)
{
    (void)s;
    digest_case("Digest realm=\"proxy@example.org\", nonce=\"0123abcd\", qop=\"auth\"\0",
                DIGEST_HEAD ", response=\"62f3def027b0f604889e48e7411a79ef\", qop=auth, "
                            "nc=00000001, cnonce=\"" CN "\"");
    digest_case("Digest realm=\"proxy@example.org\", nonce=\"0123abcd\", qop=auth, "
                "algorithm=MD5-sess\0",
                DIGEST_HEAD ", algorithm=MD5-sess, response=\"e0c9cae676e51f26e15c49ef8cc45b64\", "
                            "qop=auth, nc=00000001, cnonce=\"" CN "\"");
    digest_case(
        "Digest realm=\"proxy@example.org\", nonce=\"0123abcd\", qop=auth, "
        "algorithm=SHA-256-sess, userhash=true\0",
        "Digest username=\"15dcd1450cbdc1d1af9644b53cc7f7241957041532979b84f34b58e63736fe66"
        "\", realm=\"proxy@example.org\", nonce=\"0123abcd\", uri=\"relay.example.net:443\", "
        "algorithm=SHA-256-sess, response=\"2b97b66e347034ea690ad0dd43878ab72440afa04fc68bd0"
        "c63d58cddc26dc8a\", qop=auth, nc=00000001, cnonce=\"" CN "\", userhash=true");
    digest_case("Digest realm=\"proxy@example.org\", nonce=\"0123abcd\"\0", /* RFC 2069 */
                DIGEST_HEAD ", response=\"1cb3affb5d2b1e33893c7bee40b13519\"");
}

/* NTLM picked over Digest and Basic; NEGOTIATE, then AUTHENTICATE on the same
 * connection; a 407 after it is a refusal. The values are test_ntlm.c's
 * MsvAvTimestamp cross-check ("TEST\alice": domain TEST). */
static void test_proxyauth_ntlm_handshake(void **s)
{
    (void)s;
    azr_pauth_out o;
    assert_int_equal(start("TEST\\alice",
                           "S\xc3\xa9"
                           "cret1",
                           "auto", NULL, &o),
                     AZR_OK);
    assert_null(o.value);
    assert_int_equal(answer("Basic realm=\"r\", Digest realm=\"r\", nonce=\"n\"\0ntlm\0", &o),
                     AZR_OK);
    assert_string_equal(o.value, "NTLM TlRMTVNTUAABAAAAB4IIoAAAAAAgAAAAAAAAACAAAAA=");
    assert_string_equal(o.step, "NTLM negotiate");
    assert_false(o.same_conn);
    F.base = 0xa0;
    assert_int_equal(
        answer(
            "Basic realm=\"r\"\0NTLM TlRMTVNTUAACAAAAAAAAADAAAAAVgoniESIzRFVmd4gAAAAAAAAAAEIAQgAwA"
            "AAAAgAIAFQARQBTAFQAAQAKAFAAUgBPAFgAWQAEABQAdABlAHMAdAAuAGwAbwBjAGEAbAAHAAgA9uXUw7Kh2QE"
            "AAAAA\0",
            &o),
        AZR_OK);
    assert_string_equal(o.step, "NTLM authenticate");
    assert_true(o.same_conn);
    assert_memory_equal(o.value, "NTLM ", 5);
    uint8_t m[4096];
    char hex[1024];
    size_t n;
    assert_int_equal(azr_b64_decode(o.value + 5, o.value_len - 5, m, sizeof m, &n), AZR_OK);
    size_t nt_len = m[20] | m[21] << 8, nt_off = m[24] | m[25] << 8;
    assert_true(nt_off + nt_len <= n);
    tu_tohex(m + nt_off, 16, hex);
    assert_string_equal(hex, "58c900e8ad40cd0e9fad1c40c32016f7");
    tu_tohex(m + (m[32] | m[33] << 8), m[28], hex); /* domain */
    assert_string_equal(hex, "5400450053005400");
    tu_tohex(m + (m[40] | m[41] << 8), m[36], hex); /* user */
    assert_string_equal(hex, "61006c00690063006500");
    refused(answer("NTLM\0", &o), AZR_E_AUTH, "proxy refused our credentials (NTLM)");
}

/* Explicit NTLM starts on the first CONNECT; "user@domain" names the domain;
 * no MsvAvTimestamp, so the clock's time and LMv2 (test_ntlm.c's second case). */
static void test_proxyauth_ntlm_explicit(void **s)
{
    (void)s;
    azr_pauth_out o;
    assert_int_equal(start("j\xc3\xb6rg@corp.example", "p\xc3\xa4ssw\xc3\xb6rd", "NTLM", NULL, &o),
                     AZR_OK);
    assert_string_equal(o.value, "NTLM TlRMTVNTUAABAAAAB4IIoAAAAAAgAAAAAAAAACAAAAA=");
    F.base = 0xa0;
    F.ft = 133444736000000000u;
    assert_int_equal(answer("NTLM TlRMTVNTUAACAAAAAAAAADAAAAAVgoniESIzRFVmd4gAAAAAAAAAAB4AHgAwAAAAA"
                            "gAIAEMATwBSAFAAAQAKAFMAUQBVAEkARAAAAAAA\0",
                            &o),
                     AZR_OK);
    uint8_t m[4096];
    char hex[1024];
    size_t n;
    assert_int_equal(azr_b64_decode(o.value + 5, o.value_len - 5, m, sizeof m, &n), AZR_OK);
    tu_tohex(m + (m[16] | m[17] << 8), 24, hex);
    assert_string_equal(hex, "8863714129357db4926f0fdb6645acc6a0a1a2a3a4a5a6a7");
    tu_tohex(m + (m[24] | m[25] << 8), 16, hex);
    assert_string_equal(hex, "a5e7085868883668c6d4880cb99ce2e6");
    /* a proxy that does not speak NTLM */
    assert_int_equal(start("u", "p", "NTLM", NULL, &o), AZR_OK);
    refused(answer("Basic realm=\"r\"\0", &o), AZR_E_UNSUPPORTED,
            "ProxyAuthScheme is NTLM but the proxy offers only Basic");
}

static void test_proxyauth_ntlm_failures(void **s)
{
    (void)s;
    azr_pauth_out o;
    assert_int_equal(start("u", "p", "NTLM", NULL, &o), AZR_OK);
    refused(answer("NTLM\0Basic realm=\"r\"\0", &o), AZR_E_PROTO,
            "proxy did not answer our NTLM negotiate message with a challenge (it offers NTLM, "
            "Basic)");
    assert_int_equal(start("u", "p", "NTLM", NULL, &o), AZR_OK);
    refused(answer("NTLM TlRMTVNTUAACAAAA=\0", &o), AZR_E_PROTO,
            "proxy's NTLM challenge is not valid base64");
    assert_int_equal(start("u", "p", "NTLM", NULL, &o), AZR_OK);
    refused(answer("NTLM QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY=\0", &o), AZR_E_PROTO,
            "bad NTLM challenge from the proxy: not an NTLM message");
    assert_int_equal(start("u", "\xff", "NTLM", NULL, &o), AZR_OK);
    refused(answer("NTLM TlRMTVNTUAACAAAAAAAAADAAAAAVgoniESIzRFVmd4gAAAAAAAAAAB4AHgAwAAAAAgAIAEMAT"
                   "wBSAFAAAQAKAFMAUQBVAEkARAAAAAAA\0",
                   &o),
            AZR_E_ARG, "ProxyPassword is not valid UTF-8");
}

static void test_proxyauth_refusals(void **s)
{
    (void)s;
    azr_pauth_out o;
    assert_int_equal(start(NULL, NULL, NULL, NULL, &o), AZR_OK);
    refused(answer("Digest realm=\"r\", nonce=\"n\"\0NTLM\0", &o), AZR_E_AUTH,
            "proxy asks for credentials (Digest, NTLM) but ProxyUser is not set");
    assert_int_equal(start("u", "p", "Digest", NULL, &o), AZR_OK);
    refused(answer("Basic realm=\"r\", NTLM, basic\0", &o), AZR_E_UNSUPPORTED,
            "ProxyAuthScheme is Digest but the proxy offers only Basic, NTLM");
    assert_int_equal(start("u", "p", "", NULL, &o), AZR_OK);
    refused(answer("Negotiate\0", &o), AZR_E_UNSUPPORTED,
            "proxy asks for Negotiate (Kerberos), which azrelay does not speak; set "
            "ProxyAuthScheme to NTLM or Basic if the proxy also offers them");
    refused(start("u", "p", "Negotiate", NULL, &o), AZR_E_UNSUPPORTED,
            "ProxyAuthScheme is Negotiate (Kerberos), which azrelay does not speak; set "
            "ProxyAuthScheme to NTLM or Basic if the proxy also offers them");
    assert_int_equal(start("u", "p", "", NULL, &o), AZR_OK);
    refused(answer("Bearer realm=\"r\", Mutual, bearer\0", &o), AZR_E_UNSUPPORTED,
            "proxy asks for Bearer, Mutual, which azrelay does not speak (it speaks NTLM, Digest "
            "and Basic)");
    assert_int_equal(start("u", "p", "", NULL, &o), AZR_OK);
    refused(answer("\0", &o), AZR_E_PROTO,
            "proxy answered 407 without a Proxy-Authenticate challenge");
    assert_int_equal(start("u", "p", "", NULL, &o), AZR_OK);
    assert_int_equal(azr_pauth_feed(&A, "Basic realm=\"x", 14), AZR_E_PROTO);
    refused(azr_pauth_next(&A, &o), AZR_E_PROTO,
            "malformed Proxy-Authenticate header (unterminated quoted-string at byte 12)");
    assert_int_equal(start("u", "p", "None", NULL, &o), AZR_OK);
    refused(answer("Basic realm=\"r\"\0", &o), AZR_E_AUTH,
            "proxy asks for credentials (Basic) but ProxyAuthScheme is None");
    assert_int_equal(start("u", "p", "", NULL, &o), AZR_OK);
    refused(answer("Digest realm=\"r\", nonce=\"n\", qop=\"auth-int\"\0", &o), AZR_E_UNSUPPORTED,
            "proxy's Digest challenge cannot be answered: it offers no qop=auth (qop=auth-int is "
            "not supported)");
}

/* A malformed header does not hide a good one; an unusable Digest yields to Basic. */
static void test_proxyauth_tolerates(void **s)
{
    (void)s;
    azr_pauth_out o;
    assert_int_equal(start("Aladdin", "open sesame", NULL, NULL, &o), AZR_OK);
    assert_int_equal(azr_pauth_feed(&A, "Digest realm=\"r\", nonce=\"n\", qop=\"auth-int\"", 43),
                     AZR_OK);
    assert_int_equal(azr_pauth_feed(&A, "Negotiate, NTLM x=\"", 19), AZR_E_PROTO);
    assert_int_equal(azr_pauth_feed(&A, "Basic realm=\"r\"", 15), AZR_OK);
    assert_int_equal(azr_pauth_next(&A, &o), AZR_OK);
    assert_string_equal(o.value, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    /* Negotiate and NTLM offered: Auto takes NTLM */
    assert_int_equal(start("u", "p", NULL, NULL, &o), AZR_OK);
    assert_int_equal(answer("Negotiate\0NTLM\0", &o), AZR_OK);
    assert_string_equal(o.step, "NTLM negotiate");
    /* the offered list stays short */
    assert_int_equal(start(NULL, NULL, NULL, NULL, &o), AZR_OK);
    char many[512];
    size_t k = 0;
    for (int i = 0; i < 40; i++)
        k += (size_t)snprintf(many + k, sizeof many - k, "%sScheme%d", i ? ", " : "", i);
    assert_int_equal(azr_pauth_feed(&A, many, k), AZR_OK);
    assert_int_equal(azr_pauth_next(&A, &o), AZR_E_UNSUPPORTED);
    assert_non_null(strstr(azr_pauth_why(&A), "Scheme0, Scheme1, "));
    assert_non_null(strstr(azr_pauth_why(&A), ", ..., which azrelay does not speak"));
}

static void test_proxyauth_verbatim_and_settings(void **s)
{
    (void)s;
    azr_pauth_out o;
    assert_int_equal(start("u", "p", "NTLM", "Bearer abc.def", &o), AZR_OK);
    assert_string_equal(o.value, "Bearer abc.def");
    assert_string_equal(o.step, "ProxyAuthorization");
    refused(answer("Basic realm=\"r\"\0", &o), AZR_E_AUTH,
            "proxy refused the ProxyAuthorization value (it offers Basic)");
    refused(start("u", "p", NULL, "Basic x\r\nX-Evil: 1", &o), AZR_E_ARG,
            "ProxyAuthorization contains a control character");
    refused(start("u\n", "p", NULL, NULL, &o), AZR_E_ARG,
            "ProxyUser or the workstation name contains a control character");
    char big[AZR_PAUTH_MAX_USER + 2];
    memset(big, 'u', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    refused(start(big, "p", NULL, NULL, &o), AZR_E_LIMIT, "ProxyUser is longer than 256 bytes");
    azr_pauth_cfg c = {"u", "p", NULL, NULL, NULL, "h:1", NULL, fclock, &F};
    refused(azr_pauth_init(&A, &c), AZR_E_ARG,
            "proxy authentication needs a random source and a clock");
    c.rand = frand;
    c.target = "";
    refused(azr_pauth_init(&A, &c), AZR_E_ARG,
            "the CONNECT target for proxy authentication is missing or bad");
    /* call order */
    c.target = "h:1";
    assert_int_equal(azr_pauth_init(&A, &c), AZR_OK);
    assert_int_equal(azr_pauth_feed(&A, "Basic", 5), AZR_E_STATE);
    assert_int_equal(azr_pauth_next(&A, &o), AZR_E_STATE);
    assert_int_equal(azr_pauth_first(&A, &o), AZR_OK);
    assert_int_equal(azr_pauth_first(&A, &o), AZR_E_STATE);
    assert_string_equal(azr_pauth_why(&A), "");
}

static void test_proxyauth_wipe(void **s)
{
    (void)s;
    azr_pauth_out o;
    assert_int_equal(start("Aladdin", "open sesame", "Basic", NULL, &o), AZR_OK);
    azr_pauth_wipe(&A);
    static const azr_pauth zero;
    assert_memory_equal(&A, &zero, sizeof A);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_proxyauth_scheme_names),
        cmocka_unit_test(test_proxyauth_basic),
        cmocka_unit_test(test_proxyauth_digest_prefers_sha256),
        cmocka_unit_test(test_proxyauth_digest_variants),
        cmocka_unit_test(test_proxyauth_ntlm_handshake),
        cmocka_unit_test(test_proxyauth_ntlm_explicit),
        cmocka_unit_test(test_proxyauth_ntlm_failures),
        cmocka_unit_test(test_proxyauth_refusals),
        cmocka_unit_test(test_proxyauth_tolerates),
        cmocka_unit_test(test_proxyauth_verbatim_and_settings),
        cmocka_unit_test(test_proxyauth_wipe),
    };
    return cmocka_run_group_tests_name("proxyauth", tests, NULL, NULL);
}
